//! Clusters and pods through GraphQL and REST, against the Kubernetes API
//! simulator over real HTTP.

use std::{process::Command, time::Duration};

use k8s_openapi::api::core::v1::Pod;
use kube_sim::{Fault, FaultRule, Simulator};
use osp_gateway::{config::CacheMode, k8s::summary::summarize};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    Backend, TestApp, TestDb, fixture_simulator, gql_code, pyyaml_available, wait_until_synced,
};

struct Setup {
    db: TestDb,
    app: TestApp,
    token: String,
}

impl Setup {
    /// A gateway reading the clusters directly (no watch cache).
    async fn new(clusters: &[(&str, &Simulator)]) -> Setup {
        Self::with_cache(clusters, CacheMode::Off).await
    }

    async fn with_cache(clusters: &[(&str, &Simulator)], mode: CacheMode) -> Setup {
        let db = TestDb::create(Backend::Sqlite).await;
        let app = TestApp::with_clusters(&db, clusters, mode).await;
        let token = app.admin_token().await;
        if mode == CacheMode::On {
            wait_until_synced(&app, &token).await;
        }
        Setup { db, app, token }
    }

    async fn get(&self, path: &str) -> crate::helpers::Answer {
        self.app
            .send(Method::GET, path, Some(&self.token), None)
            .await
    }

    async fn finish(self) {
        self.app.stop().await;
        self.db.drop_database().await;
    }
}

/// The object a client must get for a served pod: what the typed v1.Pod keeps,
/// with apiVersion and kind, without managedFields.
fn expected_object(served: &Value) -> Value {
    let pod: Pod = serde_json::from_value(served.clone()).expect("served pod is a v1.Pod");
    let mut value = serde_json::to_value(pod).expect("serialises");
    value["apiVersion"] = json!("v1");
    value["kind"] = json!("Pod");
    if let Some(meta) = value["metadata"].as_object_mut() {
        meta.remove("managedFields");
    }
    value
}

fn key(pod: &Value) -> (String, String) {
    (
        pod["metadata"]["namespace"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        pod["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

#[tokio::test]
async fn pod_list_shows_what_kubectl_shows_for_every_fixture() {
    pod_list_matches_kubectl(CacheMode::Off).await;
}

#[tokio::test]
async fn cached_pod_list_shows_what_kubectl_shows_for_every_fixture() {
    pod_list_matches_kubectl(CacheMode::On).await;
}

async fn pod_list_matches_kubectl(mode: CacheMode) {
    let sim = fixture_simulator().await;
    let setup = Setup::with_cache(&[("sim", &sim)], mode).await;

    let answer = setup.get("/osp/api/pods/sim").await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    assert_eq!(answer.body["code"], "Success");
    let listed = answer.body["data"].as_array().expect("list");
    let mut served = sim.pods();
    served.sort_by_key(key);
    assert_eq!(listed.len(), served.len());
    assert!(served.len() >= 27, "every fixture is served");

    for (row, pod) in listed.iter().zip(&served) {
        let typed: Pod = serde_json::from_value(pod.clone()).expect("v1.Pod");
        let expected = summarize(&typed);
        let what = format!("{}/{}", expected.namespace, expected.name);
        assert_eq!(row["name"], json!(expected.name), "{what}");
        assert_eq!(row["namespace"], json!(expected.namespace), "{what}");
        assert_eq!(row["status"], json!(expected.status), "{what}");
        assert_eq!(row["ready"], json!(expected.ready), "{what}");
        assert_eq!(row["restarts"], json!(expected.restarts), "{what}");
        assert_eq!(row["controlled"], json!(expected.controlled), "{what}");
        assert_eq!(row["qos"], json!(expected.qos), "{what}");
        assert_eq!(row["created"], json!(expected.created), "{what}");
        assert_eq!(row["node_name"], json!(expected.node_name), "{what}");
        let containers = row["containers"].as_array().expect("containers");
        assert_eq!(containers.len(), expected.containers.len(), "{what}");
        for (c, e) in containers.iter().zip(&expected.containers) {
            assert_eq!(c["name"], json!(e.name), "{what}");
            assert_eq!(c["status"], json!(e.status.as_str()), "{what}");
            assert_eq!(c["restarts"], json!(e.restarts), "{what}");
        }
        assert_eq!(
            row["init_containers"].as_array().expect("init").len(),
            expected.init_containers.len(),
            "{what}"
        );
    }

    // A few rows spelled out, as kubectl prints them.
    let row = |name: &str| {
        listed
            .iter()
            .find(|r| r["name"].as_str().is_some_and(|n| n.starts_with(name)))
            .unwrap_or_else(|| panic!("{name} listed"))
            .clone()
    };
    assert_eq!(row("vsystem-867f4b77cc")["status"], "Init:CrashLoopBackOff");
    assert_eq!(row("vsystem-867f4b77cc")["restarts"], 7527);
    assert_eq!(row("myapp-pod")["status"], "Init:0/1");

    // Filters: namespace and name substring, REST and GraphQL alike.
    let filtered = setup
        .get("/osp/api/pods/sim?namespace=openshift-monitoring&name=prometheus")
        .await;
    let names: Vec<&str> = filtered.body["data"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, ["prometheus-k8s-0"]);
    let gql = setup
        .app
        .graphql(
            Some(&setup.token),
            "query($c: String!, $ns: String, $n: String) { pods(cluster: $c, namespace: $ns, name: $n) { name status ready restarts qos podIP } }",
            json!({"c": "sim", "ns": "openshift-monitoring", "n": "prometheus"}),
        )
        .await;
    let pod = &gql["data"]["pods"][0];
    let rest = &filtered.body["data"][0];
    for (g, r) in [
        ("name", "name"),
        ("status", "status"),
        ("ready", "ready"),
        ("restarts", "restarts"),
        ("qos", "qos"),
        ("podIP", "pod_ip"),
    ] {
        assert_eq!(pod[g], rest[r], "{g}");
    }
    assert_eq!(pod["ready"], "7/7");
    setup.finish().await;
    sim.shutdown().await;
}

/// PyYAML reads YAML 1.1, as kubectl's reader does: a string written unquoted
/// that 1.1 takes for a bool, number, null or date would come back changed.
fn yaml_1_1_to_json(yaml: &str) -> Value {
    let script = "import sys, json, yaml\n\
                  json.dump(yaml.load(sys.stdin, Loader=yaml.SafeLoader), sys.stdout, default=str)";
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs (install PyYAML: pip install pyyaml)");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(yaml.as_bytes())
        .expect("yaml written");
    let output = child.wait_with_output().expect("python3 finishes");
    assert!(
        output.status.success(),
        "PyYAML could not read the YAML (pip install pyyaml)"
    );
    serde_json::from_slice(&output.stdout).expect("json from PyYAML")
}

#[tokio::test]
async fn pod_detail_json_and_yaml_are_the_same_object_for_every_fixture() {
    pod_detail_round_trips(CacheMode::Off).await;
}

#[tokio::test]
async fn cached_pod_detail_json_and_yaml_are_the_same_object_for_every_fixture() {
    pod_detail_round_trips(CacheMode::On).await;
}

async fn pod_detail_round_trips(mode: CacheMode) {
    let sim = fixture_simulator().await;
    // Labels and annotations that a careless YAML writer would turn into
    // booleans, numbers, dates or null for a YAML 1.1 reader.
    let mut tricky = sim.pods().into_iter().next().expect("a fixture");
    tricky["metadata"]["name"] = json!("tricky-values");
    tricky["metadata"]["namespace"] = json!("default");
    tricky["metadata"]["labels"] = json!({
        "a": "yes", "b": "no", "c": "on", "d": "off", "e": "y", "f": "N", "g": "true",
        "h": "0777", "i": "1_000", "j": "1:20", "k": "2024-01-01", "l": "~", "m": "null",
        "n": "1e3", "o": ".inf", "p": "0x1F", "q": "", "r": " padded ", "s": "#hash", "t": "a: b"
    });
    tricky["metadata"]["annotations"] =
        json!({"note": "2001-12-14t21:59:43.10-05:00", "multi": "line one\nline two"});
    sim.upsert_pod(tricky);
    let setup = Setup::with_cache(&[("sim", &sim)], mode).await;

    for served in sim.pods() {
        let (namespace, name) = key(&served);
        let path = format!("/osp/api/pods/sim/{namespace}/{name}");
        let expected = expected_object(&served);

        let json_answer = setup.get(&path).await;
        assert_eq!(
            json_answer.status,
            StatusCode::OK,
            "{path}: {:?}",
            json_answer.body
        );
        assert_eq!(json_answer.body["data"], expected, "{path}: JSON");
        let explicit = setup.get(&format!("{path}?output=json")).await;
        assert_eq!(explicit.body["data"], expected, "{path}: output=json");

        let yaml_answer = setup.get(&format!("{path}?output=yaml")).await;
        let yaml = yaml_answer.body["data"].as_str().expect("YAML text");
        if pyyaml_available() {
            assert_eq!(
                yaml_1_1_to_json(yaml),
                expected,
                "{path}: YAML read back by a YAML 1.1 reader"
            );
        }
    }

    let gql = setup
        .app
        .graphql(
            Some(&setup.token),
            r#"{ pod(cluster: "sim", namespace: "default", name: "tricky-values") { name json yaml } }"#,
            json!({}),
        )
        .await;
    assert_eq!(gql["data"]["pod"]["json"]["metadata"]["labels"]["a"], "yes");
    assert_eq!(gql["data"]["pod"]["json"]["apiVersion"], "v1");
    assert_eq!(gql["data"]["pod"]["json"]["kind"], "Pod");

    let bad_output = setup
        .get("/osp/api/pods/sim/default/tricky-values?output=xml")
        .await;
    assert_eq!(bad_output.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        bad_output.body["msg"],
        "invalid output: must be json or yaml"
    );
    setup.finish().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn bad_names_unknown_clusters_and_missing_pods_are_refused_before_any_upstream_call() {
    let sim = fixture_simulator().await;
    let setup = Setup::new(&[("sim", &sim)]).await;
    sim.reset_counters();

    let invalid = [
        "/osp/api/pods/sim/a%2Fb/x",
        "/osp/api/pods/sim?namespace=..",
        "/osp/api/pods/sim?name=../x",
        "/osp/api/pods/sim/has%20space/x",
        "/osp/api/pods/sim/UPPER/x",
        "/osp/api/pods/sim/default/a%2F..%2Fb",
        "/osp/api/pods/sim?namespace=a%2Fb",
        "/osp/api/pods/sim?name=a%20b",
    ];
    for path in invalid {
        let answer = setup.get(path).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{path}: {:?}",
            answer.body
        );
        assert_eq!(answer.body["code"], "InvalidParameter", "{path}");
    }
    // HTTP clients fold '..' path segments away, so GraphQL carries them here.
    for (namespace, name) in [
        ("..", "x"),
        ("default", ".."),
        ("a/b", "x"),
        ("default", "x/../y"),
    ] {
        let gql = setup
            .app
            .graphql(
                Some(&setup.token),
                "query($ns: String!, $n: String!) { pod(cluster: \"sim\", namespace: $ns, name: $n) { name } }",
                json!({"ns": namespace, "n": name}),
            )
            .await;
        assert_eq!(gql_code(&gql), "InvalidParameter", "{namespace}/{name}");
    }
    let long = format!("/osp/api/pods/sim/{}/x", "n".repeat(64));
    assert_eq!(setup.get(&long).await.body["code"], "InvalidParameter");
    let long = format!("/osp/api/pods/sim/default/{}", "n".repeat(254));
    assert_eq!(setup.get(&long).await.body["code"], "InvalidParameter");

    // Many aliases of an expensive field are refused by the complexity limit.
    let aliases: String = (0..20)
        .map(|i| format!("a{i}: pods(cluster: \"sim\") {{ yaml }} "))
        .collect();
    let greedy = setup
        .app
        .graphql(Some(&setup.token), &format!("{{ {aliases} }}"), json!({}))
        .await;
    assert_eq!(gql_code(&greedy), "InvalidParameter", "{greedy}");
    assert!(
        greedy["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("too complex")),
        "refused for its complexity: {greedy}"
    );
    let modest = setup
        .app
        .graphql(
            Some(&setup.token),
            "{ a: pods(cluster: \"nowhere\") { yaml } }",
            json!({}),
        )
        .await;
    // Past the complexity check (the unknown cluster answers instead).
    assert_eq!(gql_code(&modest), "ClusterNotFound", "{modest}");

    let unknown = setup.get("/osp/api/pods/nowhere").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.body["code"], "ClusterNotFound");
    let unknown = setup.get("/osp/api/pods/nowhere/default/x").await;
    assert_eq!(unknown.body["code"], "ClusterNotFound");
    assert_eq!(
        sim.counters().total(),
        0,
        "nothing was sent upstream: {:?}",
        sim.counters()
    );

    let missing = setup.get("/osp/api/pods/sim/default/no-such-pod").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing.body,
        json!({"code": "PodNotFound", "msg": "pod default/no-such-pod not found in cluster sim", "data": null})
    );
    let no_token = setup
        .app
        .send(Method::GET, "/osp/api/pods/sim", None, None)
        .await;
    assert_eq!(no_token.status, StatusCode::UNAUTHORIZED);
    setup.finish().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn failing_clusters_answer_cluster_unavailable_saying_why() {
    let sim = fixture_simulator().await;
    let setup = Setup::new(&[("sim", &sim)]).await;
    let cases = [
        (
            Fault::Status(503),
            "cluster sim is unavailable: it answered with a server error",
        ),
        (
            Fault::Status(500),
            "cluster sim is unavailable: it answered with a server error",
        ),
        (
            Fault::Status(401),
            "cluster sim is unavailable: it refused the gateway's credentials",
        ),
        (
            Fault::Status(403),
            "cluster sim is unavailable: it refused the gateway's credentials",
        ),
        (
            Fault::DropConnection,
            "cluster sim is unavailable: it cannot be reached",
        ),
        (Fault::Hang, "cluster sim is unavailable: timed out"),
    ];
    for (fault, message) in cases {
        sim.clear_faults();
        sim.add_fault(FaultRule::new(fault.clone()).path_prefix("/api/v1"));
        for path in ["/osp/api/pods/sim", "/osp/api/pods/sim/default/x"] {
            let answer = setup.get(path).await;
            assert_eq!(answer.status, StatusCode::BAD_GATEWAY, "{fault:?} {path}");
            assert_eq!(
                answer.body,
                json!({"code": "ClusterUnavailable", "msg": message, "data": null}),
                "{fault:?} {path}"
            );
        }
    }
    sim.clear_faults();
    let gql = setup
        .app
        .graphql(
            Some(&setup.token),
            r#"{ pods(cluster: "sim") { name } }"#,
            json!({}),
        )
        .await;
    assert!(
        gql["errors"].is_null(),
        "recovers once the cluster does: {gql}"
    );
    setup.finish().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_dead_cluster_does_not_hold_up_a_live_one() {
    let live = fixture_simulator().await;
    let dead = Simulator::builder()
        .generated_pods(3)
        .build_and_start()
        .await
        .expect("starts");
    dead.set_fault(Fault::Hang);
    let setup = Setup::new(&[("live", &live), ("dead", &dead)]).await;

    let clusters = setup
        .app
        .graphql(
            Some(&setup.token),
            "{ clusters { name server reachable } }",
            json!({}),
        )
        .await;
    assert_eq!(
        clusters["data"]["clusters"],
        json!([
            {"name": "dead", "server": dead.url(), "reachable": false},
            {"name": "live", "server": live.url(), "reachable": true},
        ])
    );

    // While a request to the dead cluster waits for its timeout, the live one
    // is served: the live answer arrives first.
    {
        let slow = setup.get("/osp/api/pods/dead");
        let fast = async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            setup.get("/osp/api/pods/live").await
        };
        tokio::pin!(slow);
        tokio::pin!(fast);
        let first = tokio::select! {
            answer = &mut slow => ("dead", answer),
            answer = &mut fast => ("live", answer),
        };
        assert_eq!(first.0, "live");
        assert_eq!(first.1.status, StatusCode::OK);
        let dead_answer = slow.await;
        assert_eq!(dead_answer.body["code"], "ClusterUnavailable");
    }
    setup.finish().await;
    live.shutdown().await;
    dead.shutdown().await;
}

#[tokio::test]
async fn nodes_and_workloads_cost_a_constant_number_of_upstream_requests() {
    let namespaces = 5;
    let sim = Simulator::builder()
        .generated_pods(500)
        .namespaces(namespaces)
        .nodes(10)
        .build_and_start()
        .await
        .expect("starts");
    let setup = Setup::new(&[("sim", &sim)]).await;
    sim.reset_counters();

    let gql = setup
        .app
        .graphql(
            Some(&setup.token),
            r#"{ pods(cluster: "sim") { name nodeName node { name ready roles kubeletVersion internalIP } controlled workload { kind name } } }"#,
            json!({}),
        )
        .await;
    assert!(gql["errors"].is_null(), "{gql}");
    let pods = gql["data"]["pods"].as_array().expect("pods");
    assert_eq!(pods.len(), 500);
    for pod in pods {
        if !pod["nodeName"].as_str().unwrap_or_default().is_empty() {
            assert_eq!(pod["node"]["name"], pod["nodeName"], "{pod}");
            assert!(
                pod["node"]["internalIP"]
                    .as_str()
                    .is_some_and(|ip| !ip.is_empty())
            );
        }
        if pod["controlled"] == "ReplicaSet" {
            assert_eq!(pod["workload"]["kind"], "Deployment", "{pod}");
        }
    }

    let counters = sim.counters();
    assert_eq!(counters.get("list pods"), 1, "{counters:?}");
    assert_eq!(counters.get("list nodes"), 1, "{counters:?}");
    assert!(
        counters.get("list replicasets") <= namespaces as u64,
        "at most one ReplicaSet list per namespace: {counters:?}"
    );
    assert_eq!(
        counters.get("get node") + counters.get("get replicaset"),
        0,
        "{counters:?}"
    );
    setup.finish().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn without_a_kubeconfig_the_gateway_serves_no_clusters() {
    let db = TestDb::create(Backend::Sqlite).await;
    let mut config = crate::helpers::test_config(&db);
    config.kubeconfig_paths = vec![std::env::temp_dir().join("osp-no-such-kubeconfig")];
    let app = TestApp::start(config).await;
    let token = app.admin_token().await;
    let clusters = app
        .graphql(Some(&token), "{ clusters { name } }", json!({}))
        .await;
    assert_eq!(clusters, json!({"data": {"clusters": []}}));
    let pods = app
        .graphql(
            Some(&token),
            r#"{ pods(cluster: "any") { name } }"#,
            json!({}),
        )
        .await;
    assert_eq!(gql_code(&pods), "ClusterNotFound");
    app.stop().await;
    db.drop_database().await;
}

/// The pod selection of the plain-fields test: fragments, inline fragments,
/// aliases, `__typename`, `@skip`/`@include`, and containers asked twice under
/// one key (merged).
const PLAIN_SELECTION: &str = "...Columns t: __typename \
    ... on Pod { name namespace } \
    ... @include(if: true) { created } \
    hidden: status @skip(if: true) \
    containers { name } containers { image __typename } \
    ic: initContainers { ...Box state: status } \
    at: cluster";
const PLAIN_FRAGMENTS: &str = "fragment Columns on Pod { name restarts lastRestart ready \
    controlled qos status nodeName podIP readinessGates } \
    fragment Box on Container { name ready restarts sidecar reason }";

/// `text` without every `,"w":{...}` / `,"w":null` member.
fn without_member_w(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(r#","w":"#) {
        out.push_str(&rest[..at]);
        let value = &rest[at + r#","w":"#.len()..];
        let end = if value.starts_with("null") {
            "null".len()
        } else {
            value.find('}').expect("the object ends") + 1
        };
        rest = &value[end..];
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn plain_pod_fields_are_written_as_the_generated_resolvers_write_them() {
    // Pods' plain fields are written straight from the summary, a selection
    // set read once per list. The same selection with a resolved field asked
    // twice under one key goes through the generated resolvers, field by field:
    // both answers must be the same text, key order included.
    let sim = fixture_simulator().await;
    let setup = Setup::with_cache(&[("sim", &sim)], CacheMode::On).await;
    let client = reqwest::Client::new();
    let text = |query: String| {
        let request = client
            .post(setup.app.url("/graphql"))
            .bearer_auth(&setup.token)
            .header("cache-control", "no-cache")
            .json(&json!({ "query": query, "variables": { "c": "sim" } }));
        async move {
            let response = request.send().await.expect("answered");
            assert_eq!(response.status(), StatusCode::OK);
            response.text().await.expect("body")
        }
    };
    for (field, open, close) in [
        ("podList(cluster: $c)", "{ items {", "} }"),
        ("pods(cluster: $c)", "{", "}"),
    ] {
        let query = |extra: &str| {
            format!(
                "query($c: String!) {{ {field} {open} {PLAIN_SELECTION} {extra} {close} }} \
                 {PLAIN_FRAGMENTS}"
            )
        };
        let plain = text(query("")).await;
        let generated = text(query("w: workload { kind } w: workload { name }")).await;
        let parsed: Value = serde_json::from_str(&plain).expect("JSON");
        assert!(parsed["errors"].is_null(), "{plain}");
        let pods = parsed["data"]
            .as_object()
            .and_then(|data| data.values().next())
            .map(|list| list.get("items").unwrap_or(list))
            .and_then(Value::as_array)
            .expect("pods");
        assert_eq!(pods.len(), sim.pods().len());
        let generated_pods: Value = serde_json::from_str(&generated).expect("JSON");
        assert!(
            generated.matches(r#""w":"#).count() == pods.len(),
            "every pod went through the generated resolvers: {generated_pods}"
        );
        assert_eq!(plain, without_member_w(&generated));

        // A resolved field beside the plain ones: the plain fields are still
        // written at once, the resolved one in its place.
        let mixed = text(query("wl: workload { kind name }")).await;
        let generated = text(query(
            "wl: workload { kind name } w: workload { kind } w: workload { name }",
        ))
        .await;
        assert!(mixed.contains(r#""wl":{"kind":"#), "{mixed}");
        assert_eq!(mixed, without_member_w(&generated));

        let first = &pods[0];
        assert_eq!(first["t"], "Pod");
        assert_eq!(first["at"], "sim");
        assert!(first.get("hidden").is_none(), "@skip is applied: {first}");
        assert!(first["created"].is_string(), "@include is applied: {first}");
        let with_init = pods
            .iter()
            .find(|pod| pod["ic"].as_array().is_some_and(|ic| !ic.is_empty()))
            .expect("a fixture has init containers");
        assert!(with_init["ic"][0]["state"].is_string(), "{with_init}");
        let container = &first["containers"][0];
        assert_eq!(
            container.as_object().map(|c| c.len()),
            Some(3),
            "containers asked twice are merged: {container}"
        );
        assert_eq!(container["__typename"], "Container");
    }

    // A connection's edges: written at once, or edge by edge through the
    // generated resolvers when `node` is asked twice.
    let query = |extra: &str| {
        format!(
            "query($c: String!) {{ podConnection(clusters: [$c], first: 500) {{ edges {{ \
             t: __typename cursor node {{ {PLAIN_SELECTION} }} {extra} }} }} }} {PLAIN_FRAGMENTS}"
        )
    };
    let plain = text(query("")).await;
    let generated = text(query("w: node { name }")).await;
    let parsed: Value = serde_json::from_str(&plain).expect("JSON");
    assert!(parsed["errors"].is_null(), "{plain}");
    let edges = parsed["data"]["podConnection"]["edges"]
        .as_array()
        .expect("edges");
    assert_eq!(edges.len(), sim.pods().len());
    assert_eq!(edges[0]["t"], "PodEdge");
    assert!(edges[0]["cursor"].as_str().is_some_and(|c| !c.is_empty()));
    assert_eq!(generated.matches(r#""w":"#).count(), edges.len());
    assert_eq!(plain, without_member_w(&generated));
    setup.finish().await;
    sim.shutdown().await;
}
