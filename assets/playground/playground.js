// Starts GraphiQL against this gateway, from files the gateway itself serves:
// queries and mutations go to POST /graphql, subscriptions to /graphql/ws over
// graphql-transport-ws (the headers, with the token, travel in connection_init).
// The sign-in form runs the `login` mutation and puts the token into GraphiQL's
// header editor; the token is kept in memory only.
(function () {
  'use strict';

  var LOGIN = 'mutation Login($name: String!, $password: String!) {\n' +
    '  login(name: $name, password: $password) { token expiresAt }\n}';
  var DEFAULT_QUERY = '# Sign in above (or set the Authorization header below), then run:\n' +
    '# who you are, which clusters and namespaces you may read, and the newest\n' +
    '# pods across all of them. Next page: after: "<pageInfo.endCursor>".\n' +
    '# Filters: filter: { status: ["CrashLoopBackOff"], labelSelector: "app=web",\n' +
    '#   node: "...", qos: "BestEffort", name: "..." }, namespace: "..."\n' +
    'query Start {\n' +
    '  me { name role grants { cluster namespace } }\n' +
    '  podConnection(first: 20, orderBy: { field: CREATED, direction: DESC }) {\n' +
    '    totalCount\n' +
    '    pageInfo { hasNextPage endCursor }\n' +
    '    clusters { name state code }\n' +
    '    edges { node { cluster namespace name ready status restarts created } }\n' +
    '  }\n' +
    '  # Workloads with their pods and what happened to them (also: replicaSet,\n' +
    '  # statefulSet, daemonSet, job, cronJob, service, node, namespace, event).\n' +
    '  deploymentConnection(first: 5) {\n' +
    '    edges { node { cluster namespace name ready images\n' +
    '      pods { name status ready }\n' +
    '      events { type reason message lastSeen } } }\n' +
    '  }\n' +
    '}\n';

  // A second saved tab follows a container's log over the WebSocket: fill in
  // a pod from the first tab's answer and run it; the lines arrive as written.
  var FOLLOW_LOG = '# Follows a container\'s log as it is written (kubectl logs -f): the last\n' +
    '# 20 lines, then each new one. Name a pod from the Start tab in the variables\n' +
    '# below; container may be left out for a pod with one container. Stop it\n' +
    '# with the button. Across pods: logs(labelSelector: "app=web") { pod text }\n' +
    'subscription FollowLog($cluster: String!, $namespace: String!, $name: String!,\n' +
    '                       $container: String) {\n' +
    '  podLogLines(cluster: $cluster, namespace: $namespace, name: $name,\n' +
    '              container: $container, tailLines: 20, timestamps: true) {\n' +
    '    time text\n' +
    '  }\n' +
    '}\n';
  var FOLLOW_LOG_VARIABLES = '{ "cluster": "", "namespace": "", "name": "" }';

  var origin = window.location.origin;
  // Introspection answers signed-in callers only (by default): a new fetcher
  // after sign-in makes GraphiQL load the schema again, with the token.
  function makeFetcher(token) {
    return GraphiQL.createFetcher({
      url: origin + '/graphql',
      subscriptionUrl: origin.replace(/^http/, 'ws') + '/graphql/ws',
      headers: token ? { Authorization: 'Bearer ' + token } : undefined,
      // Every tab's subscriptions sign in with the token, not only the tab
      // whose header editor holds it.
      wsConnectionParams: token ? { Authorization: 'Bearer ' + token } : undefined
    });
  }
  var fetcher = makeFetcher();
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  var headers; // undefined until signed in: GraphiQL keeps what the user typed

  function render() {
    root.render(React.createElement(GraphiQL, {
      fetcher: fetcher,
      headers: headers,
      defaultQuery: DEFAULT_QUERY,
      defaultTabs: [
        { query: DEFAULT_QUERY },
        { query: FOLLOW_LOG, variables: FOLLOW_LOG_VARIABLES }
      ],
      defaultEditorToolsVisibility: 'headers',
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false
    }));
  }

  var status = document.getElementById('osp-login-status');
  function show(text, isError) {
    status.textContent = text;
    status.classList.toggle('osp-error', Boolean(isError));
  }

  document.getElementById('osp-login').addEventListener('submit', function (event) {
    event.preventDefault();
    var name = document.getElementById('osp-login-name').value;
    var password = document.getElementById('osp-login-password');
    show('Signing in…');
    fetch(origin + '/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query: LOGIN, variables: { name: name, password: password.value } })
    })
      .then(function (response) { return response.json(); })
      .then(function (body) {
        if (body.errors && body.errors.length) {
          show(body.errors[0].message, true);
          return;
        }
        var login = body.data.login;
        password.value = '';
        headers = JSON.stringify({ Authorization: 'Bearer ' + login.token }, null, 2);
        fetcher = makeFetcher(login.token);
        render();
        show('Signed in as ' + name + '; the token (in Headers) expires at ' + login.expiresAt);
      })
      .catch(function (err) { show('Sign-in failed: ' + err.message, true); });
  });

  render();
}());
