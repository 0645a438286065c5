//! End-to-end tests: start simulators on 127.0.0.1:0 and talk to them over
//! real HTTP(S), with a plain HTTP client and with an unmodified kube-rs client.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use kube_sim::{Fault, FaultRule, ResourceKind, Simulator};
use serde_json::{Value, json};

#[path = "sim/logs.rs"]
mod logs;

fn fixtures_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/pods"
    ))
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("http client")
}

async fn get_json(sim: &Simulator, path: &str) -> (u16, Value) {
    let resp = http()
        .get(format!("{}{path}", sim.url()))
        .send()
        .await
        .expect("request");
    let code = resp.status().as_u16();
    (code, resp.json().await.expect("json body"))
}

/// Reads a watch stream to its end (use timeoutSeconds), one JSON event per line.
async fn read_watch(sim: &Simulator, path: &str) -> Vec<Value> {
    let mut resp = http()
        .get(format!("{}{path}", sim.url()))
        .send()
        .await
        .expect("watch request");
    assert_eq!(resp.status().as_u16(), 200);
    let mut buf = Vec::new();
    while let Some(chunk) = resp.chunk().await.expect("chunk") {
        buf.extend_from_slice(&chunk);
    }
    String::from_utf8(buf)
        .expect("utf8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("event line is JSON"))
        .collect()
}

/// An open watch stream read incrementally.
struct LiveWatch {
    resp: reqwest::Response,
    buf: Vec<u8>,
}

impl LiveWatch {
    async fn open(sim: &Simulator, path: &str) -> Self {
        let resp = http()
            .get(format!("{}{path}", sim.url()))
            .send()
            .await
            .expect("watch request");
        assert_eq!(resp.status().as_u16(), 200);
        Self {
            resp,
            buf: Vec::new(),
        }
    }

    /// The next non-BOOKMARK event.
    async fn next_event(&mut self) -> Value {
        loop {
            if let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=pos).collect();
                let ev: Value = serde_json::from_slice(&line).expect("event JSON");
                if ev["type"] != "BOOKMARK" {
                    return ev;
                }
                continue;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.resp.chunk())
                .await
                .expect("event within 10s")
                .expect("chunk")
                .expect("stream still open");
            self.buf.extend_from_slice(&chunk);
        }
    }
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            format!(
                "{}/{}",
                i["metadata"]["namespace"].as_str().unwrap_or(""),
                i["metadata"]["name"].as_str().expect("name")
            )
        })
        .collect()
}

fn new_pod(ns: &str, name: &str, node: &str, labels: Value) -> Value {
    json!({
        "metadata": {"name": name, "namespace": ns, "labels": labels,
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "fresh-app-5d8f7c9b4", "uid": "11111111-2222-4333-8444-555555555555", "controller": true}]},
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": "nginx:1.27"}]},
        "status": {"phase": "Pending"}
    })
}

/// A simulator serving every capture of the fixtures directory.
async fn fixture_sim() -> Simulator {
    Simulator::builder()
        .fixtures_dir(fixtures_dir())
        .build_and_start()
        .await
        .expect("start")
}

#[tokio::test]
async fn every_fixture_is_served_as_a_pod_with_uid_and_namespace() {
    let fixtures = kube_sim::load_fixtures(&fixtures_dir()).expect("fixtures load");
    assert_eq!(fixtures.len(), 27);
    let sim = fixture_sim().await;
    let (code, list) = get_json(&sim, "/api/v1/pods").await;
    assert_eq!(code, 200);
    assert_eq!(list["kind"], "PodList");
    assert_eq!(list["items"].as_array().expect("items").len(), 27);
    assert!(list["metadata"]["resourceVersion"].as_str().is_some());
    for item in list["items"].as_array().expect("items") {
        assert!(
            item["metadata"]["uid"]
                .as_str()
                .is_some_and(|u| !u.is_empty())
        );
        assert!(item["metadata"]["namespace"].as_str().is_some());
    }
}

#[tokio::test]
async fn extra_keys_of_a_capture_are_served_as_they_are() {
    let sim = fixture_sim().await;
    let (_, pod) = get_json(&sim, "/api/v1/namespaces/ned/pods/valla-2409362411-x2r2c").await;
    assert!(pod.get("test").is_some());
}

#[tokio::test]
async fn duplicate_captures_are_renamed_not_lost() {
    let sim = fixture_sim().await;
    let (code, _) = get_json(&sim, "/api/v1/namespaces/argocd/pods/my-pod-20").await;
    assert_eq!(code, 200);
}

#[tokio::test]
async fn nodes_of_the_captures_are_synthesized_ready() {
    let sim = fixture_sim().await;
    let (_, nodes) = get_json(&sim, "/api/v1/nodes").await;
    let master = nodes["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|n| n["metadata"]["name"] == "master-0.imeixner20210707.lab.upshift.rdu2.redhat.com")
        .expect("master node synthesized");
    assert!(master["metadata"]["labels"]["node-role.kubernetes.io/control-plane"].is_string());
    assert_eq!(master["status"]["conditions"][3]["type"], "Ready");
    assert_eq!(master["status"]["conditions"][3]["status"], "True");
    assert_eq!(
        master["status"]["nodeInfo"]["kubeletVersion"],
        kube_sim::KUBERNETES_VERSION
    );
    let (code, node) = get_json(&sim, "/api/v1/nodes/minikube").await;
    assert_eq!(code, 200);
    assert_eq!(node["kind"], "Node");
    assert_eq!(node["status"]["addresses"][0]["type"], "InternalIP");
    assert_eq!(node["status"]["addresses"][1]["type"], "Hostname");
}

#[tokio::test]
async fn owners_of_the_captures_are_synthesized_up_to_the_deployment() {
    let sim = fixture_sim().await;
    let (code, rs) = get_json(
        &sim,
        "/apis/apps/v1/namespaces/default/replicasets/nginx-7fb78fb6d8",
    )
    .await;
    assert_eq!(code, 200);
    let pod_owner_uid = get_json(
        &sim,
        "/api/v1/namespaces/default/pods/nginx-7fb78fb6d8-2w75j",
    )
    .await
    .1["metadata"]["ownerReferences"][0]["uid"]
        .clone();
    assert_eq!(rs["metadata"]["uid"], pod_owner_uid);
    assert_eq!(rs["metadata"]["ownerReferences"][0]["kind"], "Deployment");
    assert_eq!(rs["metadata"]["ownerReferences"][0]["name"], "nginx");
    assert_eq!(rs["metadata"]["ownerReferences"][0]["controller"], true);
    let (code, deploy) = get_json(&sim, "/apis/apps/v1/namespaces/default/deployments/nginx").await;
    assert_eq!(code, 200);
    assert_eq!(
        deploy["metadata"]["uid"],
        rs["metadata"]["ownerReferences"][0]["uid"]
    );
    let (_, all_rs) = get_json(&sim, "/apis/apps/v1/replicasets").await;
    assert_eq!(all_rs["kind"], "ReplicaSetList");
    assert_eq!(all_rs["apiVersion"], "apps/v1");
    assert!(names(&all_rs).contains(&"openshift-ingress/router-default-7bbdcfcf9b".to_string()));
}

#[tokio::test]
async fn namespaces_of_the_captures_are_synthesized() {
    let sim = fixture_sim().await;
    let (_, namespaces) = get_json(&sim, "/api/v1/namespaces").await;
    let ns = names(&namespaces);
    for expected in [
        "/default",
        "/kube-system",
        "/argocd",
        "/openshift-etcd",
        "/test-namespace",
    ] {
        assert!(ns.contains(&expected.to_string()), "{expected} in {ns:?}");
    }
    let (code, _) = get_json(&sim, "/api/v1/namespaces/argocd").await;
    assert_eq!(code, 200);
}

#[tokio::test]
async fn discovery_documents() {
    let sim = Simulator::builder().build_and_start().await.expect("start");
    let (_, v) = get_json(&sim, "/version").await;
    assert_eq!(v["gitVersion"], kube_sim::KUBERNETES_VERSION);
    assert_eq!(v["major"], "1");
    let (_, api) = get_json(&sim, "/api").await;
    assert_eq!(api["kind"], "APIVersions");
    assert_eq!(api["versions"], json!(["v1"]));
    let (_, core) = get_json(&sim, "/api/v1").await;
    assert_eq!(core["kind"], "APIResourceList");
    let resources = core["resources"].as_array().expect("resources");
    for name in ["pods", "nodes", "namespaces"] {
        let r = resources
            .iter()
            .find(|r| r["name"] == name)
            .expect("resource listed");
        assert!(
            r["verbs"]
                .as_array()
                .expect("verbs")
                .contains(&json!("watch"))
        );
    }
    let (_, apis) = get_json(&sim, "/apis").await;
    assert_eq!(apis["groups"][0]["name"], "apps");
    assert_eq!(
        apis["groups"][0]["preferredVersion"]["groupVersion"],
        "apps/v1"
    );
    let (_, apps) = get_json(&sim, "/apis/apps/v1").await;
    let apps_names: Vec<_> = apps["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| r["name"].clone())
        .collect();
    assert!(
        apps_names.contains(&json!("replicasets")) && apps_names.contains(&json!("deployments"))
    );
    assert_eq!(sim.counters().get("discovery"), 5);
    let (code, status) = get_json(&sim, "/api/v1/secrets").await;
    assert_eq!(code, 404);
    assert_eq!(status["reason"], "NotFound");
    let resp = http()
        .delete(format!("{}/api/v1/pods", sim.url()))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 405);
    let status: Value = resp.json().await.expect("json");
    assert_eq!(status["reason"], "MethodNotAllowed");
}

#[tokio::test]
async fn list_with_label_and_field_selectors() {
    let sim = Simulator::builder()
        .generated_pods(120)
        .namespaces(3)
        .nodes(4)
        .build_and_start()
        .await
        .expect("start");
    let all = sim.pods();
    assert_eq!(all.len(), 120);
    let count = |pred: &dyn Fn(&Value) -> bool| all.iter().filter(|p| pred(p)).count();
    let label = |p: &Value, k: &str| p["metadata"]["labels"][k].as_str().map(str::to_string);

    let cases: Vec<(&str, usize)> = vec![
        (
            "labelSelector=app%3Dapi",
            count(&|p| label(p, "app").as_deref() == Some("api")),
        ),
        (
            "labelSelector=app%3D%3Dapi",
            count(&|p| label(p, "app").as_deref() == Some("api")),
        ),
        (
            "labelSelector=app!%3Dapi",
            count(&|p| label(p, "app").as_deref() != Some("api")),
        ),
        (
            "labelSelector=app%20in%20(api,web)",
            count(&|p| matches!(label(p, "app").as_deref(), Some("api" | "web"))),
        ),
        (
            "labelSelector=app%20notin%20(api)",
            count(&|p| label(p, "app").as_deref() != Some("api")),
        ),
        ("labelSelector=app", 120),
        ("labelSelector=!app", 0),
        (
            "fieldSelector=status.phase%3DRunning",
            count(&|p| p["status"]["phase"] == "Running"),
        ),
        (
            "fieldSelector=status.phase!%3DRunning",
            count(&|p| p["status"]["phase"] != "Running"),
        ),
        (
            "fieldSelector=spec.nodeName%3Dsim-worker-001",
            count(&|p| p["spec"]["nodeName"] == "sim-worker-001"),
        ),
        (
            "fieldSelector=metadata.namespace%3Dpayments,status.phase%3DRunning",
            count(&|p| {
                p["metadata"]["namespace"] == "payments" && p["status"]["phase"] == "Running"
            }),
        ),
    ];
    for (query, expected) in cases {
        let (code, list) = get_json(&sim, &format!("/api/v1/pods?{query}")).await;
        assert_eq!(code, 200, "{query}");
        assert_eq!(
            list["items"].as_array().expect("items").len(),
            expected,
            "{query}"
        );
    }
    let first = &all[0];
    let ns = first["metadata"]["namespace"].as_str().expect("ns");
    let name = first["metadata"]["name"].as_str().expect("name");
    let (_, one) = get_json(
        &sim,
        &format!("/api/v1/namespaces/{ns}/pods?fieldSelector=metadata.name%3D{name}"),
    )
    .await;
    assert_eq!(names(&one), vec![format!("{ns}/{name}")]);
    let (_, in_ns) = get_json(&sim, "/api/v1/namespaces/checkout/pods").await;
    assert_eq!(
        in_ns["items"].as_array().expect("items").len(),
        count(&|p| p["metadata"]["namespace"] == "checkout")
    );
    let (code, err) = get_json(&sim, "/api/v1/pods?fieldSelector=spec.bogus%3D1").await;
    assert_eq!(code, 400);
    assert_eq!(err["reason"], "BadRequest");
}

#[tokio::test]
async fn pagination_with_limit_and_continue() {
    let sim = Simulator::builder()
        .generated_pods(50)
        .fixtures_dir(fixtures_dir())
        .build_and_start()
        .await
        .expect("start");
    let (_, full) = get_json(&sim, "/api/v1/pods").await;
    let expected = names(&full);
    assert_eq!(expected.len(), 77);
    let mut sorted = expected.clone();
    sorted.sort();
    assert_eq!(expected, sorted, "stable namespace/name order");

    let mut got = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    let mut rvs = std::collections::BTreeSet::new();
    loop {
        let path = match &token {
            Some(t) => format!("/api/v1/pods?limit=10&continue={t}"),
            None => "/api/v1/pods?limit=10".to_string(),
        };
        let (code, page) = get_json(&sim, &path).await;
        assert_eq!(code, 200);
        pages += 1;
        rvs.insert(
            page["metadata"]["resourceVersion"]
                .as_str()
                .expect("rv")
                .to_string(),
        );
        let items = names(&page);
        assert!(items.len() <= 10);
        got.extend(items);
        match page["metadata"]["continue"].as_str() {
            Some(t) if !t.is_empty() => {
                assert_eq!(
                    page["metadata"]["remainingItemCount"],
                    json!(77 - got.len())
                );
                token = Some(t.to_string());
            }
            _ => break,
        }
    }
    assert_eq!(pages, 8);
    assert_eq!(got, expected);
    assert_eq!(
        rvs.len(),
        1,
        "all pages share the first page's resourceVersion"
    );

    // Paging within one namespace.
    let (_, p1) = get_json(&sim, "/api/v1/namespaces/default/pods?limit=2").await;
    let t = p1["metadata"]["continue"]
        .as_str()
        .expect("more")
        .to_string();
    let (_, p2) = get_json(
        &sim,
        &format!("/api/v1/namespaces/default/pods?limit=100&continue={t}"),
    )
    .await;
    let mut both = names(&p1);
    both.extend(names(&p2));
    assert!(both.iter().all(|n| n.starts_with("default/")));
    let (_, whole) = get_json(&sim, "/api/v1/namespaces/default/pods").await;
    assert_eq!(both, names(&whole));
    // resourceVersion / resourceVersionMatch are tolerated.
    let (code, _) = get_json(
        &sim,
        "/api/v1/pods?resourceVersion=0&resourceVersionMatch=NotOlderThan&limit=500",
    )
    .await;
    assert_eq!(code, 200);
    let (code, _) = get_json(&sim, "/api/v1/pods?continue=not-a-token").await;
    assert_eq!(code, 400);
}

#[tokio::test]
async fn get_pod_and_not_found_status() {
    let sim = Simulator::builder()
        .fixtures_dir(fixtures_dir())
        .build_and_start()
        .await
        .expect("start");
    // File 02 has no kind/apiVersion; a single GET carries them.
    let (code, pod) = get_json(
        &sim,
        "/api/v1/namespaces/openshift-machine-api/pods/cluster-autoscaler-operator-76d8fccc8-wh9q5",
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(pod["kind"], "Pod");
    assert_eq!(pod["apiVersion"], "v1");
    assert!(
        pod["status"]["containerStatuses"][0]["restartCount"]
            .as_u64()
            .is_some()
    );
    let (code, status) = get_json(&sim, "/api/v1/namespaces/default/pods/x").await;
    assert_eq!(code, 404);
    assert_eq!(
        status,
        json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \"x\" not found","reason":"NotFound","details":{"name":"x","kind":"pods"},"code":404})
    );
    let (code, status) = get_json(&sim, "/apis/apps/v1/namespaces/default/replicasets/nope").await;
    assert_eq!(code, 404);
    assert_eq!(status["message"], "replicasets.apps \"nope\" not found");
}

#[tokio::test]
async fn watch_replays_from_resource_version_in_order() {
    let sim = Simulator::builder()
        .generated_pods(10)
        .build_and_start()
        .await
        .expect("start");
    let rv0 = sim.resource_version();
    let rv_added = sim.upsert_pod(new_pod(
        "team-x",
        "w1",
        "fresh-node",
        json!({"app": "fresh"}),
    ));
    let mut modified = new_pod("team-x", "w1", "fresh-node", json!({"app": "fresh"}));
    modified["status"]["phase"] = json!("Running");
    let rv_modified = sim.upsert_pod(modified);
    assert!(sim.delete_pod("team-x", "w1"));
    assert!(!sim.delete_pod("team-x", "w1"));
    assert!(rv_modified > rv_added && rv_added > rv0);

    let events = read_watch(
        &sim,
        &format!("/api/v1/pods?watch=true&resourceVersion={rv0}&timeoutSeconds=1"),
    )
    .await;
    let types: Vec<_> = events
        .iter()
        .map(|e| e["type"].as_str().expect("type").to_string())
        .collect();
    assert_eq!(types, vec!["ADDED", "MODIFIED", "DELETED"]);
    assert_eq!(events[0]["object"]["kind"], "Pod");
    assert_eq!(
        events[0]["object"]["metadata"]["resourceVersion"],
        rv_added.to_string()
    );
    assert_eq!(events[1]["object"]["status"]["phase"], "Running");
    let rvs: Vec<u64> = events
        .iter()
        .map(|e| {
            e["object"]["metadata"]["resourceVersion"]
                .as_str()
                .expect("rv")
                .parse()
                .expect("number")
        })
        .collect();
    assert!(rvs.windows(2).all(|w| w[0] < w[1]), "{rvs:?}");
    // Resuming after the MODIFIED gives only the DELETED.
    let events = read_watch(
        &sim,
        &format!(
            "/api/v1/namespaces/team-x/pods?watch=1&resourceVersion={rv_modified}&timeoutSeconds=1"
        ),
    )
    .await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["type"], "DELETED");

    // The new pod brought a Node, a ReplicaSet and a Deployment with it.
    let nodes = read_watch(
        &sim,
        &format!("/api/v1/nodes?watch=true&resourceVersion={rv0}&timeoutSeconds=1"),
    )
    .await;
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0]["type"], "ADDED");
    assert_eq!(nodes[0]["object"]["metadata"]["name"], "fresh-node");
    let rs = read_watch(
        &sim,
        &format!("/apis/apps/v1/replicasets?watch=true&resourceVersion={rv0}&timeoutSeconds=1"),
    )
    .await;
    assert_eq!(rs.len(), 1);
    assert_eq!(
        rs[0]["object"]["metadata"]["uid"],
        "11111111-2222-4333-8444-555555555555"
    );
    assert_eq!(
        rs[0]["object"]["metadata"]["ownerReferences"][0]["name"],
        "fresh-app"
    );
    let (code, _) = get_json(
        &sim,
        "/apis/apps/v1/namespaces/team-x/deployments/fresh-app",
    )
    .await;
    assert_eq!(code, 200);
}

#[tokio::test]
async fn live_watch_with_selectors_and_bookmarks() {
    let sim = Simulator::builder()
        .generated_pods(5)
        .bookmark_interval(Duration::from_millis(100))
        .build_and_start()
        .await
        .expect("start");
    let rv = sim.resource_version();
    let mut w = LiveWatch::open(&sim, &format!("/api/v1/pods?watch=true&resourceVersion={rv}&labelSelector=tier%3Dfront&allowWatchBookmarks=true&timeoutSeconds=30")).await;
    sim.upsert_pod(new_pod("default", "sel", "n1", json!({"tier": "back"})));
    sim.upsert_pod(new_pod("default", "sel", "n1", json!({"tier": "front"})));
    sim.upsert_pod(new_pod(
        "default",
        "sel",
        "n1",
        json!({"tier": "front", "x": "y"}),
    ));
    sim.upsert_pod(new_pod("default", "sel", "n1", json!({"tier": "gone"})));
    let types = [
        w.next_event().await["type"].clone(),
        w.next_event().await["type"].clone(),
        w.next_event().await["type"].clone(),
    ];
    assert_eq!(types, [json!("ADDED"), json!("MODIFIED"), json!("DELETED")]);

    // Bookmarks carry only metadata.resourceVersion of the right kind.
    let events = read_watch(
        &sim,
        &format!(
            "/api/v1/nodes?watch=true&resourceVersion={}&allowWatchBookmarks=true&timeoutSeconds=1",
            sim.resource_version()
        ),
    )
    .await;
    assert!(!events.is_empty());
    for e in &events {
        assert_eq!(e["type"], "BOOKMARK");
        assert_eq!(e["object"]["kind"], "Node");
        assert_eq!(
            e["object"]["metadata"]["resourceVersion"],
            sim.resource_version().to_string()
        );
    }
}

#[tokio::test]
async fn watch_send_initial_events() {
    let sim = Simulator::builder()
        .generated_pods(7)
        .build_and_start()
        .await
        .expect("start");
    let events = read_watch(&sim, "/api/v1/pods?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1").await;
    let added = events.iter().take_while(|e| e["type"] == "ADDED").count();
    assert_eq!(added, 7);
    let bm = &events[7];
    assert_eq!(bm["type"], "BOOKMARK");
    assert_eq!(
        bm["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    assert_eq!(
        bm["object"]["metadata"]["resourceVersion"],
        sim.resource_version().to_string()
    );
}

#[tokio::test]
async fn watch_from_compacted_history_is_gone() {
    let sim = Simulator::builder()
        .generated_pods(3)
        .build_and_start()
        .await
        .expect("start");
    let rv = sim.resource_version();
    sim.upsert_pod(new_pod("default", "a", "n", json!({})));
    sim.compact_history();
    let events = read_watch(
        &sim,
        &format!("/api/v1/pods?watch=true&resourceVersion={rv}"),
    )
    .await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["type"], "ERROR");
    let status = &events[0]["object"];
    assert_eq!(status["kind"], "Status");
    assert_eq!(status["code"], 410);
    assert_eq!(status["reason"], "Expired");
    assert!(
        status["message"]
            .as_str()
            .expect("message")
            .starts_with(&format!("too old resource version: {rv} ("))
    );
    // The current resourceVersion still works.
    let now = sim.resource_version();
    let events = read_watch(
        &sim,
        &format!("/api/v1/pods?watch=true&resourceVersion={now}&timeoutSeconds=1"),
    )
    .await;
    assert!(events.is_empty());

    // A small history limit expires old resourceVersions by itself.
    let small = Simulator::builder()
        .history_limit(2)
        .build_and_start()
        .await
        .expect("start");
    let start = small.resource_version();
    for i in 0..5 {
        small.upsert_pod(json!({"metadata": {"name": format!("p{i}")}}));
    }
    let events = read_watch(
        &small,
        &format!("/api/v1/pods?watch=true&resourceVersion={start}"),
    )
    .await;
    assert_eq!(events[0]["object"]["code"], 410);
}

#[tokio::test]
async fn bearer_token_is_required() {
    let sim = Simulator::builder()
        .bearer_token(Some("s3cret"))
        .generated_pods(2)
        .build_and_start()
        .await
        .expect("start");
    let resp = http()
        .get(format!("{}/api/v1/pods", sim.url()))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 401);
    let status: Value = resp.json().await.expect("json");
    assert_eq!(status["reason"], "Unauthorized");
    assert_eq!(status["kind"], "Status");
    let resp = http()
        .get(format!("{}/api/v1/pods", sim.url()))
        .bearer_auth("wrong")
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 401);
    let resp = http()
        .get(format!("{}/api/v1/pods", sim.url()))
        .bearer_auth("s3cret")
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 200);
    assert!(sim.kubeconfig_yaml("c").contains("token: \"s3cret\""));
}

#[tokio::test]
async fn faults_status_drop_latency_hang() {
    let sim = Simulator::builder()
        .generated_pods(4)
        .build_and_start()
        .await
        .expect("start");
    let other = Simulator::builder().build_and_start().await.expect("start");
    sim.set_fault(Fault::Status(500));
    let (code, status) = get_json(&sim, "/api/v1/pods").await;
    assert_eq!(code, 500);
    assert_eq!(status["reason"], "InternalError");
    assert_eq!(status["kind"], "Status");
    // Faults are per simulator.
    assert_eq!(get_json(&other, "/api/v1/pods").await.0, 200);
    sim.set_fault(Fault::Status(503));
    assert_eq!(get_json(&sim, "/api/v1/nodes").await.0, 503);
    sim.set_fault(Fault::None);
    assert_eq!(get_json(&sim, "/api/v1/pods").await.0, 200);

    // Dropped connection, scoped to one path and one request.
    sim.add_fault(
        FaultRule::new(Fault::DropConnection)
            .path_prefix("/api/v1/nodes")
            .times(1),
    );
    assert_eq!(get_json(&sim, "/api/v1/pods").await.0, 200);
    let err = http()
        .get(format!("{}/api/v1/nodes", sim.url()))
        .send()
        .await;
    assert!(err.is_err(), "connection dropped without a response");
    assert_eq!(get_json(&sim, "/api/v1/nodes").await.0, 200);

    sim.set_fault(Fault::Latency(Duration::from_millis(300)));
    let t = Instant::now();
    assert_eq!(get_json(&sim, "/version").await.0, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));

    sim.set_fault(Fault::Hang);
    let hung = reqwest::Client::builder()
        .timeout(Duration::from_millis(400))
        .build()
        .expect("client")
        .get(format!("{}/api/v1/pods", sim.url()))
        .send()
        .await;
    assert!(hung.is_err_and(|e| e.is_timeout()));
    sim.clear_faults();
    // Every request that arrived was counted, faulted or not.
    assert_eq!(sim.counters().get("list pods"), 4);
    assert_eq!(sim.counters().get("list nodes"), 3);
}

#[tokio::test]
async fn fault_rules_can_fail_watches_and_leave_lists_alone() {
    let sim = Simulator::builder()
        .generated_pods(2)
        .build_and_start()
        .await
        .expect("start");
    sim.add_fault(
        FaultRule::new(Fault::Status(503))
            .path_prefix("/api/v1/pods")
            .watches(true)
            .times(1),
    );
    assert_eq!(get_json(&sim, "/api/v1/pods").await.0, 200);
    let (code, status) = get_json(&sim, "/api/v1/pods?watch=true&timeoutSeconds=1").await;
    assert_eq!(code, 503);
    assert_eq!(status["reason"], "ServiceUnavailable");
    // Used up: the next watch is served.
    let served = read_watch(&sim, "/api/v1/pods?watch=true&timeoutSeconds=1").await;
    assert_eq!(served.len(), 2);
    assert_eq!(sim.counters().get("list pods"), 1);
    assert_eq!(sim.counters().get("watch pods"), 2);
}

#[tokio::test]
async fn open_watches_can_be_dropped_mid_body() {
    let sim = Simulator::builder()
        .generated_pods(2)
        .build_and_start()
        .await
        .expect("start");
    let rv = sim.resource_version();
    let mut watch = LiveWatch::open(
        &sim,
        &format!("/api/v1/pods?watch=true&resourceVersion={rv}&timeoutSeconds=30"),
    )
    .await;
    sim.upsert_pod(new_pod("default", "seen", "n", json!({})));
    assert_eq!(watch.next_event().await["type"], "ADDED");

    sim.drop_watch_connections();
    // The connection ends without the chunked body's last chunk: an error, not
    // a normal end of stream as after close_watches().
    let end = tokio::time::timeout(Duration::from_secs(10), watch.resp.chunk())
        .await
        .expect("dropped in time");
    assert!(end.is_err(), "{end:?}");
    // Resuming from the last resourceVersion is served without a new list.
    let events = read_watch(
        &sim,
        &format!("/api/v1/pods?watch=true&resourceVersion={rv}&timeoutSeconds=1"),
    )
    .await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["object"]["metadata"]["name"], "seen");
    assert_eq!(sim.counters().get("list pods"), 0);
}

#[tokio::test]
async fn open_watches_can_be_ended_by_an_error_event() {
    let sim = Simulator::builder()
        .generated_pods(2)
        .build_and_start()
        .await
        .expect("start");
    for (code, reason) in [(500, "InternalError"), (410, "Expired")] {
        let rv = sim.resource_version();
        let mut watch = LiveWatch::open(
            &sim,
            &format!("/api/v1/pods?watch=true&resourceVersion={rv}&timeoutSeconds=30"),
        )
        .await;
        sim.fail_watches(code);
        let event = watch.next_event().await;
        assert_eq!(event["type"], "ERROR");
        assert_eq!(event["object"]["kind"], "Status");
        assert_eq!(event["object"]["code"], code);
        assert_eq!(event["object"]["reason"], reason);
        // Then the stream ends normally.
        let end = tokio::time::timeout(Duration::from_secs(10), watch.resp.chunk())
            .await
            .expect("ended in time")
            .expect("a normal end");
        assert!(end.is_none(), "{end:?}");
    }
}

#[tokio::test]
async fn counters_by_request_kind() {
    let sim = Simulator::builder()
        .fixtures_dir(fixtures_dir())
        .build_and_start()
        .await
        .expect("start");
    get_json(&sim, "/api/v1/pods").await;
    get_json(&sim, "/api/v1/namespaces/default/pods").await;
    get_json(
        &sim,
        "/api/v1/namespaces/default/pods/nginx-7fb78fb6d8-2w75j",
    )
    .await;
    get_json(&sim, "/api/v1/nodes").await;
    get_json(&sim, "/api/v1/nodes/minikube").await;
    get_json(&sim, "/apis/apps/v1/replicasets").await;
    get_json(
        &sim,
        "/apis/apps/v1/namespaces/default/replicasets/nginx-7fb78fb6d8",
    )
    .await;
    get_json(&sim, "/api/v1/namespaces").await;
    get_json(&sim, "/version").await;
    read_watch(
        &sim,
        "/api/v1/pods?watch=true&timeoutSeconds=1&resourceVersion=1",
    )
    .await;
    let c = sim.counters();
    assert_eq!(c.get("list pods"), 2);
    assert_eq!(c.get("get pod"), 1);
    assert_eq!(c.get("list nodes"), 1);
    assert_eq!(c.get("get node"), 1);
    assert_eq!(c.get("list replicasets"), 1);
    assert_eq!(c.get("get replicaset"), 1);
    assert_eq!(c.get("list namespaces"), 1);
    assert_eq!(c.get("discovery"), 1);
    assert_eq!(c.get("watch pods"), 1);
    assert_eq!(c.get("nothing"), 0);
    assert_eq!(c.total(), 10);
    assert!(c.to_string().contains("list pods: 2"));
    sim.reset_counters();
    assert_eq!(sim.counters().total(), 0);
}

#[tokio::test]
async fn counters_are_served_read_only_as_json() {
    let sim = Simulator::builder()
        .generated_pods(5)
        .build_and_start()
        .await
        .expect("start");
    let (code, empty) = get_json(&sim, kube_sim::COUNTERS_PATH).await;
    assert_eq!(code, 200);
    assert_eq!(empty, json!({"counters": {}, "total": 0}));
    get_json(&sim, "/api/v1/pods").await;
    get_json(&sim, "/api/v1/pods").await;
    get_json(&sim, "/version").await;
    let (code, body) = get_json(&sim, "/_sim/counters").await;
    assert_eq!(code, 200);
    // Reading the counters is not itself counted.
    assert_eq!(
        body,
        json!({"counters": {"list pods": 2, "discovery": 1}, "total": 3})
    );
    assert_eq!(sim.counters().total(), 3);
    // Read-only: other methods are refused, and still not counted.
    let resp = http()
        .post(format!("{}/_sim/counters", sim.url()))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status().as_u16(), 405);
    sim.reset_counters();
    let (_, body) = get_json(&sim, "/_sim/counters").await;
    assert_eq!(body["total"], 0);
}

#[tokio::test]
async fn counters_endpoint_needs_the_token_when_one_is_set() {
    let sim = Simulator::builder()
        .generated_pods(1)
        .bearer_token(Some("s3cret"))
        .build_and_start()
        .await
        .expect("start");
    let (code, _) = get_json(&sim, "/_sim/counters").await;
    assert_eq!(code, 401);
    let resp = http()
        .get(format!("{}/_sim/counters", sim.url()))
        .bearer_auth("s3cret")
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["total"], 0);
}

#[tokio::test]
async fn explicit_objects_are_not_synthesized() {
    let sim = Simulator::builder()
        .object(
            ResourceKind::Node,
            json!({"metadata": {"name": "minikube", "labels": {"custom": "yes"}}}),
        )
        .fixtures_dir(fixtures_dir())
        .build_and_start()
        .await
        .expect("start");
    let (_, node) = get_json(&sim, "/api/v1/nodes/minikube").await;
    assert_eq!(node["metadata"]["labels"], json!({"custom": "yes"}));
    assert_eq!(node["kind"], "Node");
    let rv = sim.resource_version();
    sim.upsert(ResourceKind::Node, json!({"metadata": {"name": "extra"}}));
    assert!(sim.delete(ResourceKind::Node, "", "extra"));
    let events = read_watch(
        &sim,
        &format!("/api/v1/nodes?watch=true&resourceVersion={rv}&timeoutSeconds=1"),
    )
    .await;
    let types: Vec<_> = events.iter().map(|e| e["type"].clone()).collect();
    assert_eq!(types, vec![json!("ADDED"), json!("DELETED")]);
    assert!(
        sim.objects(ResourceKind::Namespace)
            .iter()
            .any(|n| n["metadata"]["name"] == "kube-system")
    );
}

#[tokio::test]
async fn refuses_non_loopback_listen() {
    let err = Simulator::builder()
        .listen("0.0.0.0:0".parse().expect("addr"))
        .build_and_start()
        .await;
    assert!(err.is_err());
}

mod kube_rs {
    //! Compatibility with an unmodified kube-rs client.

    use super::*;
    use futures_util::StreamExt;
    use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
    use k8s_openapi::api::core::v1::{Namespace, Node, Pod};
    use kube::api::{Api, ListParams};
    use kube::config::{KubeConfigOptions, Kubeconfig};
    use kube::runtime::{WatchStreamExt, reflector, watcher};

    async fn client_for(sims: &[(&str, &Simulator)], context: &str) -> kube::Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let path = std::env::temp_dir().join(format!(
            "kube-sim-test-{}-{context}-{}.kubeconfig",
            std::process::id(),
            sims[0].1.addr().port()
        ));
        Simulator::write_kubeconfig(&path, sims).expect("write kubeconfig");
        let kubeconfig = Kubeconfig::read_from(&path).expect("read kubeconfig");
        let _ = std::fs::remove_file(&path);
        let options = KubeConfigOptions {
            context: Some(context.to_string()),
            ..Default::default()
        };
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .expect("config from kubeconfig");
        kube::Client::try_from(config).expect("client")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn list_get_over_https_with_token() {
        let sim = Simulator::builder()
            .fixtures_dir(fixtures_dir())
            .generated_pods(30)
            .tls(true)
            .bearer_token(Some("tok"))
            .build_and_start()
            .await
            .expect("start");
        let plain = Simulator::builder()
            .generated_pods(3)
            .build_and_start()
            .await
            .expect("start");
        assert!(sim.url().starts_with("https://127.0.0.1:"));
        let client = client_for(&[("tls", &sim), ("plain", &plain)], "tls").await;
        let pods: Api<Pod> = Api::all(client.clone());
        let list = pods.list(&ListParams::default()).await.expect("list pods");
        assert_eq!(list.items.len(), 57);
        // Paged list through kube's own params.
        let page = pods
            .list(&ListParams::default().limit(20))
            .await
            .expect("page");
        assert_eq!(page.items.len(), 20);
        let rest = pods
            .list(
                &ListParams::default()
                    .limit(100)
                    .continue_token(page.metadata.continue_.as_deref().expect("continue")),
            )
            .await
            .expect("rest");
        assert_eq!(rest.items.len(), 37);

        let default_pods: Api<Pod> = Api::namespaced(client.clone(), "default");
        let pod = default_pods
            .get("nginx-7fb78fb6d8-2w75j")
            .await
            .expect("get");
        assert_eq!(
            pod.spec.expect("spec").node_name.as_deref(),
            Some("gke-k9s-default-pool-0fa2fb89-lbtf")
        );
        assert!(
            default_pods
                .get_opt("missing")
                .await
                .expect("get_opt")
                .is_none()
        );
        let err = default_pods.get("missing").await.expect_err("404");
        match err {
            kube::Error::Api(s) => assert_eq!(s.code, 404),
            other => panic!("unexpected error {other:?}"),
        }
        // Every fixture deserializes as a k8s-openapi Pod via single GETs too.
        for p in sim.pods() {
            let ns = p["metadata"]["namespace"].as_str().expect("ns");
            let name = p["metadata"]["name"].as_str().expect("name");
            Api::<Pod>::namespaced(client.clone(), ns)
                .get(name)
                .await
                .expect("typed get");
        }
        let nodes = Api::<Node>::all(client.clone())
            .list(&ListParams::default())
            .await
            .expect("nodes");
        assert!(nodes.items.len() > 3);
        let rs = Api::<ReplicaSet>::all(client.clone())
            .list(&ListParams::default())
            .await
            .expect("rs");
        assert!(!rs.items.is_empty());
        let deploys = Api::<Deployment>::namespaced(client.clone(), "default")
            .list(&ListParams::default())
            .await
            .expect("deployments");
        assert!(!deploys.items.is_empty());
        let ns = Api::<Namespace>::all(client.clone())
            .get("kube-system")
            .await
            .expect("namespace");
        assert_eq!(ns.metadata.name.as_deref(), Some("kube-system"));
        let version = client.apiserver_version().await.expect("version");
        assert_eq!(version.git_version, kube_sim::KUBERNETES_VERSION);

        // The other context of the same kubeconfig reaches the other simulator.
        let plain_client = client_for(&[("tls", &sim), ("plain", &plain)], "plain").await;
        let list = Api::<Pod>::all(plain_client)
            .list(&ListParams::default())
            .await
            .expect("list");
        assert_eq!(list.items.len(), 3);
    }

    async fn reflector_sees_upsert(config: watcher::Config, streaming: bool) {
        let sim = Simulator::builder()
            .fixtures_dir(fixtures_dir())
            .generated_pods(40)
            .bookmark_interval(Duration::from_millis(200))
            .build_and_start()
            .await
            .expect("start");
        let client = client_for(&[("sim", &sim)], "sim").await;
        let api: Api<Pod> = Api::all(client);
        let (reader, writer) = reflector::store::<Pod>();
        let stream = reflector(writer, watcher(api, config))
            .default_backoff()
            .applied_objects();
        let task = tokio::spawn(async move {
            futures_util::pin_mut!(stream);
            while stream.next().await.is_some() {}
        });
        tokio::time::timeout(Duration::from_secs(20), reader.wait_until_ready())
            .await
            .expect("synced in time")
            .expect("ready");
        assert_eq!(reader.state().len(), 67);

        sim.upsert_pod(new_pod(
            "default",
            "late-arrival",
            "sim-worker-000",
            json!({"app": "late"}),
        ));
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if reader
                .state()
                .iter()
                .any(|p| p.metadata.name.as_deref() == Some("late-arrival"))
            {
                break;
            }
            assert!(Instant::now() < deadline, "upsert seen by the reflector");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(sim.delete_pod("default", "late-arrival"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while reader.state().len() != 67 {
            assert!(Instant::now() < deadline, "delete seen by the reflector");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // The watch breaks, its re-watch fails once, and meanwhile the history is
        // compacted past the watcher's resourceVersion: it gets 410 Gone,
        // re-lists and still converges.
        let lists_before = sim.counters().get("list pods");
        sim.add_fault(
            FaultRule::new(Fault::Status(503))
                .path_prefix("/api/v1/pods")
                .times(1),
        );
        let watches_before = sim.counters().get("watch pods");
        sim.close_watches();
        // Wait for the re-watch (which fails with 503) before changing anything.
        let deadline = Instant::now() + Duration::from_secs(10);
        while sim.counters().get("watch pods") == watches_before {
            assert!(Instant::now() < deadline, "re-watch after close");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        sim.upsert_pod(new_pod(
            "default",
            "after-gone",
            "sim-worker-000",
            json!({}),
        ));
        sim.compact_history();
        let deadline = Instant::now() + Duration::from_secs(20);
        while !reader
            .state()
            .iter()
            .any(|p| p.metadata.name.as_deref() == Some("after-gone"))
        {
            assert!(Instant::now() < deadline, "re-synced after 410");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(reader.state().len(), 68);
        if !streaming {
            assert!(
                sim.counters().get("list pods") > lists_before,
                "re-listed after 410"
            );
        }
        assert!(sim.counters().get("watch pods") >= 3);
        task.abort();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_watcher_resumes_dropped_and_failed_watches_and_lists_again_only_after_410() {
        let sim = Simulator::builder()
            .generated_pods(5)
            .build_and_start()
            .await
            .expect("start");
        let client = client_for(&[("sim", &sim)], "sim").await;
        let api: Api<Pod> = Api::all(client);
        let (reader, writer) = reflector::store::<Pod>();
        let stream = reflector(writer, watcher(api, watcher::Config::default()))
            .default_backoff()
            .applied_objects();
        let task = tokio::spawn(async move {
            futures_util::pin_mut!(stream);
            while stream.next().await.is_some() {}
        });
        tokio::time::timeout(Duration::from_secs(20), reader.wait_until_ready())
            .await
            .expect("synced in time")
            .expect("ready");
        let has = |name: &str| {
            reader
                .state()
                .iter()
                .any(|p| p.metadata.name.as_deref() == Some(name))
        };
        let wait_for = |name: String| async move {
            let deadline = Instant::now() + Duration::from_secs(20);
            while !has(&name) {
                assert!(Instant::now() < deadline, "{name} seen by the reflector");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        assert_eq!(sim.counters().get("list pods"), 1);

        // Dropped connections and non-410 errors: resumed, never listed again.
        for (i, cut) in ["drop", "close", "error 500"].into_iter().enumerate() {
            let watches = sim.counters().get("watch pods");
            match cut {
                "drop" => sim.drop_watch_connections(),
                "close" => sim.close_watches(),
                _ => sim.fail_watches(500),
            }
            let deadline = Instant::now() + Duration::from_secs(20);
            while sim.counters().get("watch pods") == watches {
                assert!(Instant::now() < deadline, "re-watch after {cut}");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            sim.upsert_pod(new_pod("default", &format!("after-{i}"), "n", json!({})));
            wait_for(format!("after-{i}")).await;
        }
        assert_eq!(sim.counters().get("list pods"), 1, "{}", sim.counters());

        // 410 Gone mid-watch: one new list.
        sim.fail_watches(410);
        sim.upsert_pod(new_pod("default", "after-gone", "n", json!({})));
        wait_for("after-gone".to_owned()).await;
        let deadline = Instant::now() + Duration::from_secs(20);
        while sim.counters().get("list pods") < 2 {
            assert!(Instant::now() < deadline, "listed again after 410");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(sim.counters().get("list pods"), 2, "{}", sim.counters());
        task.abort();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reflector_list_then_watch() {
        reflector_sees_upsert(watcher::Config::default(), false).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reflector_streaming_list() {
        reflector_sees_upsert(watcher::Config::default().streaming_lists(), true).await;
    }
}
