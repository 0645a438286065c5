// Starts GraphiQL against this gateway, from files the gateway itself serves:
// queries and mutations go to POST /graphql, subscriptions to /graphql/ws over
// graphql-transport-ws (the headers, with the token, travel in connection_init).
// The sign-in form runs the `login` mutation and puts the token into GraphiQL's
// header editor; the token is kept in memory only. "Sign in with SSO" (shown
// when the gateway has an identity provider) goes through the provider and
// comes back with a one-time code in the address's fragment, redeemed with the
// verifier this tab made before leaving (kept in sessionStorage meanwhile).
(function () {
  'use strict';

  var LOGIN = 'mutation Login($name: String!, $password: String!) {\n' +
    '  login(name: $name, password: $password) { token expiresAt }\n}';
  var REDEEM = 'mutation Redeem($code: String!, $verifier: String!) {\n' +
    '  redeemSignInCode(code: $code, verifier: $verifier) { token expiresAt }\n}';
  var ME = '{ me { name } }';
  var VERIFIER_KEY = 'osp-sso-verifier';
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

  function post(query, variables, token) {
    var sent = { 'content-type': 'application/json', accept: 'application/json' };
    if (token) sent.Authorization = 'Bearer ' + token;
    return fetch(origin + '/graphql', {
      method: 'POST',
      headers: sent,
      body: JSON.stringify({ query: query, variables: variables })
    }).then(function (response) { return response.json(); });
  }

  // A token in hand: into the header editor and the fetcher.
  function signedIn(name, login) {
    headers = JSON.stringify({ Authorization: 'Bearer ' + login.token }, null, 2);
    fetcher = makeFetcher(login.token);
    render();
    show('Signed in as ' + name + '; the token (in Headers) expires at ' + login.expiresAt);
  }

  document.getElementById('osp-login').addEventListener('submit', function (event) {
    event.preventDefault();
    var name = document.getElementById('osp-login-name').value;
    var password = document.getElementById('osp-login-password');
    show('Signing in…');
    post(LOGIN, { name: name, password: password.value })
      .then(function (body) {
        if (body.errors && body.errors.length) {
          show(body.errors[0].message, true);
          return;
        }
        password.value = '';
        signedIn(name, body.data.login);
      })
      .catch(function (err) { show('Sign-in failed: ' + err.message, true); });
  });

  // --- Sign-in through the identity provider ---------------------------------

  function base64url(bytes) {
    var text = '';
    for (var i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
    return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  // SHA-256 of an ASCII string: WebCrypto where the page is a secure context,
  // else this small implementation (a gateway served over plain http on a
  // host other than localhost has no crypto.subtle).
  function sha256(text) {
    var bytes = new TextEncoder().encode(text);
    if (window.crypto && window.crypto.subtle) {
      return window.crypto.subtle.digest('SHA-256', bytes)
        .then(function (digest) { return new Uint8Array(digest); });
    }
    return Promise.resolve(sha256Fallback(bytes));
  }

  function sha256Fallback(bytes) {
    var K = [
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
      0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
      0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
      0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
      0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
      0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
      0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
      0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
    ];
    var H = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    var length = bytes.length;
    var padded = new Uint8Array(((length + 9 + 63) >> 6) << 6);
    padded.set(bytes);
    padded[length] = 0x80;
    var bits = length * 8;
    var view = new DataView(padded.buffer);
    view.setUint32(padded.length - 8, Math.floor(bits / 0x100000000));
    view.setUint32(padded.length - 4, bits >>> 0);
    var w = new Array(64);
    for (var block = 0; block < padded.length; block += 64) {
      for (var t = 0; t < 16; t++) w[t] = view.getUint32(block + t * 4);
      for (t = 16; t < 64; t++) {
        var a15 = w[t - 15], a2 = w[t - 2];
        var s0 = ((a15 >>> 7) | (a15 << 25)) ^ ((a15 >>> 18) | (a15 << 14)) ^ (a15 >>> 3);
        var s1 = ((a2 >>> 17) | (a2 << 15)) ^ ((a2 >>> 19) | (a2 << 13)) ^ (a2 >>> 10);
        w[t] = (w[t - 16] + s0 + w[t - 7] + s1) | 0;
      }
      var h = H.slice();
      for (t = 0; t < 64; t++) {
        var e = h[4];
        var S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
        var ch = (e & h[5]) ^ (~e & h[6]);
        var t1 = (h[7] + S1 + ch + K[t] + w[t]) | 0;
        var x = h[0];
        var S0 = ((x >>> 2) | (x << 30)) ^ ((x >>> 13) | (x << 19)) ^ ((x >>> 22) | (x << 10));
        var maj = (x & h[1]) ^ (x & h[2]) ^ (h[1] & h[2]);
        var t2 = (S0 + maj) | 0;
        h = [(t1 + t2) | 0, x, h[1], h[2], (h[3] + t1) | 0, h[4], h[5], h[6]];
      }
      for (t = 0; t < 8; t++) H[t] = (H[t] + h[t]) | 0;
    }
    var out = new Uint8Array(32);
    var outView = new DataView(out.buffer);
    for (t = 0; t < 8; t++) outView.setUint32(t * 4, H[t] >>> 0);
    return out;
  }

  var sso = document.getElementById('osp-sso');
  sso.addEventListener('click', function () {
    var random = new Uint8Array(32);
    window.crypto.getRandomValues(random);
    var verifier = base64url(random);
    sha256(verifier).then(function (digest) {
      sessionStorage.setItem(VERIFIER_KEY, verifier);
      var back = window.location.pathname + window.location.search;
      window.location.assign(origin + '/osp/auth/oidc/login?redirect=' +
        encodeURIComponent(back) + '&challenge=' + base64url(digest));
    });
  });

  // Shown only when the gateway has an identity provider.
  fetch(origin + '/osp/auth/oidc')
    .then(function (response) { return response.json(); })
    .then(function (oidc) { sso.hidden = !oidc.enabled; })
    .catch(function () { sso.hidden = true; });

  // Back from the provider: `#osp_code=…` to redeem, or `#osp_error=…`.
  function finishSignIn() {
    var fragment = new URLSearchParams(window.location.hash.slice(1));
    var code = fragment.get('osp_code');
    var error = fragment.get('osp_error');
    if (!code && !error) return;
    // The code leaves the address bar (and the history) at once.
    history.replaceState(null, '', window.location.pathname + window.location.search);
    var verifier = sessionStorage.getItem(VERIFIER_KEY);
    sessionStorage.removeItem(VERIFIER_KEY);
    if (error) {
      show((fragment.get('osp_error_description') || 'sign-in failed') + ' (' + error + ')', true);
      return;
    }
    if (!verifier) {
      show('This sign-in was not started in this tab; sign in again.', true);
      return;
    }
    show('Signing in…');
    post(REDEEM, { code: code, verifier: verifier })
      .then(function (body) {
        if (body.errors && body.errors.length) throw new Error(body.errors[0].message);
        var login = body.data.redeemSignInCode;
        return post(ME, {}, login.token).then(function (me) {
          signedIn(me.data ? me.data.me.name : 'you', login);
        });
      })
      .catch(function (err) { show('Sign-in failed: ' + err.message, true); });
  }

  render();
  finishSignIn();
}());
