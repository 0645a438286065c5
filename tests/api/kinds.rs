//! Every kind besides Pod through the one machinery: connections, single
//! objects, relations, grants and errors, in process against the Kubernetes
//! API simulator over real HTTP.

use kube_sim::{ResourceKind, Simulator};
use serde_json::{Value, json};

use crate::{
    helpers::write_kubeconfig,
    inprocess::{Gateway, code},
};

const CLUSTER: &str = "c";

fn template(app: &str, image: &str) -> Value {
    json!({
        "metadata": { "labels": { "app": app } },
        "spec": { "containers": [{ "name": app, "image": image }] }
    })
}

fn deployment(namespace: &str, name: &str, created: &str, replicas: i32, ready: i32) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": { "name": name, "namespace": namespace, "uid": format!("uid-deploy-{namespace}-{name}"),
                      "creationTimestamp": created, "labels": { "app": name } },
        "spec": { "replicas": replicas, "selector": { "matchLabels": { "app": name } },
                  "template": template(name, &format!("registry.example/{name}:1.0")) },
        "status": { "replicas": replicas, "readyReplicas": ready, "updatedReplicas": replicas,
                    "availableReplicas": ready }
    })
}

fn replica_set(namespace: &str, name: &str, deployment: &str, replicas: i32) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": { "name": name, "namespace": namespace, "uid": format!("uid-rs-{namespace}-{name}"),
                      "creationTimestamp": "2024-05-01T10:00:00Z", "labels": { "app": deployment },
                      "ownerReferences": [{ "apiVersion": "apps/v1", "kind": "Deployment", "name": deployment,
                                            "uid": format!("uid-deploy-{namespace}-{deployment}"),
                                            "controller": true }] },
        "spec": { "replicas": replicas, "selector": { "matchLabels": { "app": deployment } },
                  "template": template(deployment, &format!("registry.example/{deployment}:1.0")) },
        "status": { "replicas": replicas, "readyReplicas": replicas, "fullyLabeledReplicas": replicas }
    })
}

fn pod(namespace: &str, name: &str, app: &str, replica_set: &str, node: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": { "name": name, "namespace": namespace, "uid": format!("uid-pod-{namespace}-{name}"),
                      "creationTimestamp": "2024-05-01T10:00:00Z", "labels": { "app": app },
                      "ownerReferences": [{ "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": replica_set,
                                            "uid": format!("uid-rs-{namespace}-{replica_set}"),
                                            "controller": true }] },
        "spec": { "nodeName": node, "containers": [{ "name": app, "image": "registry.example/app:1.0" }] },
        "status": { "phase": "Running",
                    "containerStatuses": [{ "name": app, "ready": true, "restartCount": 0,
                                            "image": "registry.example/app:1.0", "imageID": "",
                                            "state": { "running": { "startedAt": "2024-05-01T10:00:05Z" } } }] }
    })
}

fn node(name: &str, unschedulable: bool) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": { "name": name, "uid": format!("uid-node-{name}"),
                      "creationTimestamp": "2024-04-01T00:00:00Z",
                      "labels": { "node-role.kubernetes.io/worker": "" } },
        "spec": { "unschedulable": unschedulable },
        "status": {
            "conditions": [{ "type": "Ready", "status": "True" }],
            "addresses": [{ "type": "InternalIP", "address": "10.0.0.7" }],
            "nodeInfo": { "kubeletVersion": "v1.31.2", "osImage": "Ubuntu 24.04 LTS",
                          "kernelVersion": "6.8.0-45-generic", "containerRuntimeVersion": "containerd://1.7.22",
                          "architecture": "amd64", "bootID": "", "kubeProxyVersion": "", "machineID": "",
                          "operatingSystem": "linux", "systemUUID": "" }
        }
    })
}

fn namespace(name: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": { "name": name, "uid": format!("uid-ns-{name}"), "creationTimestamp": "2024-04-01T00:00:00Z" },
        "status": { "phase": "Active" }
    })
}

/// A cluster with two namespaces: `team-a` runs Deployment `web` (3 wanted,
/// 2 ready; ReplicaSet `web-5d4f`, pods on node `n1`) and `api`; `team-b`
/// runs `db`.
async fn simulator() -> Simulator {
    let mut builder = Simulator::builder()
        .object(ResourceKind::Namespace, namespace("team-a"))
        .object(ResourceKind::Namespace, namespace("team-b"))
        .object(ResourceKind::Node, node("n1", false))
        .object(ResourceKind::Node, node("n2", true))
        .object(
            ResourceKind::Deployment,
            deployment("team-a", "web", "2024-05-01T10:00:00Z", 3, 2),
        )
        .object(
            ResourceKind::Deployment,
            deployment("team-a", "api", "2024-05-03T10:00:00Z", 1, 1),
        )
        .object(
            ResourceKind::Deployment,
            deployment("team-b", "db", "2024-05-02T10:00:00Z", 1, 0),
        )
        .object(
            ResourceKind::ReplicaSet,
            replica_set("team-a", "web-5d4f", "web", 3),
        )
        .object(
            ResourceKind::ReplicaSet,
            replica_set("team-a", "api-7c9b", "api", 1),
        )
        .object(
            ResourceKind::ReplicaSet,
            replica_set("team-b", "db-1a2b", "db", 1),
        );
    for (ns, name, app, rs, node) in [
        ("team-a", "web-5d4f-aaaaa", "web", "web-5d4f", "n1"),
        ("team-a", "web-5d4f-bbbbb", "web", "web-5d4f", "n1"),
        ("team-a", "api-7c9b-ccccc", "api", "api-7c9b", "n2"),
        ("team-b", "db-1a2b-ddddd", "db", "db-1a2b", "n1"),
    ] {
        builder = builder.pod(pod(ns, name, app, rs, node));
    }
    builder.build_and_start().await.expect("simulator starts")
}

async fn gateway(sim: &Simulator) -> Gateway {
    let kubeconfig = write_kubeconfig(&[(CLUSTER, sim)]);
    Gateway::with(|config| {
        config.kubeconfig_paths = vec![kubeconfig];
        config.cluster_timeout = std::time::Duration::from_secs(5);
    })
    .await
}

fn names(connection: &Value) -> Vec<String> {
    connection["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("edges in {connection}"))
        .iter()
        .map(|edge| edge["node"]["name"].as_str().expect("name").to_owned())
        .collect()
}

#[tokio::test]
async fn a_deployment_shows_kubectl_columns_its_replica_sets_and_their_pods() {
    let sim = simulator().await;
    let gateway = gateway(&sim).await;
    let admin = gateway.admin_token().await;
    let answer = gateway
        .graphql(
            Some(&admin),
            r#"{ deployment(cluster: "c", namespace: "team-a", name: "web") {
                   __typename cluster kind namespace name uid created labels { key value }
                   ready upToDate available containerNames images selector
                   replicaSets { name desired current readyCount owner { kind name ... on Deployment { ready } } }
                   pods { name status nodeName }
                   json
               } }"#,
            json!({}),
        )
        .await;
    assert!(answer["errors"].is_null(), "{answer}");
    let web = &answer["data"]["deployment"];
    assert_eq!(web["__typename"], "Deployment");
    assert_eq!(web["kind"], "Deployment");
    assert_eq!(web["cluster"], "c");
    assert_eq!(web["namespace"], "team-a");
    assert_eq!(web["uid"], "uid-deploy-team-a-web");
    assert_eq!(web["created"], "2024-05-01T10:00:00Z");
    assert_eq!(web["labels"], json!([{ "key": "app", "value": "web" }]));
    // kubectl get deployments -o wide: READY 2/3, UP-TO-DATE 3, AVAILABLE 2.
    assert_eq!(web["ready"], "2/3");
    assert_eq!(web["upToDate"], 3);
    assert_eq!(web["available"], 2);
    assert_eq!(web["containerNames"], json!(["web"]));
    assert_eq!(web["images"], json!(["registry.example/web:1.0"]));
    assert_eq!(web["selector"], "app=web");
    assert_eq!(
        web["replicaSets"],
        json!([{ "name": "web-5d4f", "desired": 3, "current": 3, "readyCount": 3,
                 "owner": { "kind": "Deployment", "name": "web", "ready": "2/3" } }])
    );
    let mut pods: Vec<&str> = web["pods"]
        .as_array()
        .expect("pods")
        .iter()
        .map(|p| p["name"].as_str().expect("name"))
        .collect();
    pods.sort_unstable();
    assert_eq!(pods, ["web-5d4f-aaaaa", "web-5d4f-bbbbb"]);
    assert_eq!(web["pods"][0]["nodeName"], "n1");
    assert_eq!(web["json"]["kind"], "Deployment");
    assert_eq!(web["json"]["apiVersion"], "apps/v1");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_missing_object_answers_resource_not_found() {
    let sim = simulator().await;
    let gateway = gateway(&sim).await;
    let admin = gateway.admin_token().await;
    for query in [
        r#"{ deployment(cluster: "c", namespace: "team-a", name: "nope") { name } }"#,
        r#"{ node(cluster: "c", name: "nope") { name } }"#,
        r#"{ replicaSet(cluster: "c", namespace: "team-b", name: "web-5d4f") { name } }"#,
    ] {
        let answer = gateway.graphql(Some(&admin), query, json!({})).await;
        assert_eq!(code(&answer), "ResourceNotFound", "{query}: {answer}");
    }
    let answer = gateway
        .graphql(
            Some(&admin),
            r#"{ deployment(cluster: "c", namespace: "Bad_Name", name: "web") { name } }"#,
            json!({}),
        )
        .await;
    assert_eq!(code(&answer), "InvalidParameter", "{answer}");
    let answer = gateway
        .graphql(
            Some(&admin),
            r#"{ deployment(cluster: "nowhere", namespace: "team-a", name: "web") { name } }"#,
            json!({}),
        )
        .await;
    assert_eq!(code(&answer), "ClusterNotFound", "{answer}");
    sim.shutdown().await;
}

#[tokio::test]
async fn connections_walk_one_total_order_with_keyset_cursors() {
    let sim = simulator().await;
    let gateway = gateway(&sim).await;
    let admin = gateway.admin_token().await;
    let page = |order: Value, after: Value| {
        let (gateway, admin) = (&gateway, &admin);
        async move {
            gateway
                .graphql(
                    Some(admin),
                    "query($o: ResourceOrder, $a: String) { deploymentConnection(orderBy: $o, first: 1, after: $a) {
                        totalCount edges { cursor node { name } } pageInfo { hasNextPage endCursor } } }",
                    json!({ "o": order, "a": after }),
                )
                .await
        }
    };
    for (order, expected) in [
        (json!(null), vec!["api", "db", "web"]),
        (
            json!({ "field": "CREATED", "direction": "DESC" }),
            vec!["api", "db", "web"],
        ),
        (
            json!({ "field": "CREATED", "direction": "ASC" }),
            vec!["web", "db", "api"],
        ),
        (
            json!({ "field": "NAMESPACE", "direction": "DESC" }),
            vec!["db", "api", "web"],
        ),
    ] {
        let mut seen = Vec::new();
        let mut after = json!(null);
        loop {
            let answer = page(order.clone(), after).await;
            assert!(answer["errors"].is_null(), "{answer}");
            let connection = &answer["data"]["deploymentConnection"];
            assert_eq!(connection["totalCount"], 3);
            seen.extend(names(connection));
            if connection["pageInfo"]["hasNextPage"] != true {
                break;
            }
            after = connection["pageInfo"]["endCursor"].clone();
        }
        assert_eq!(seen, expected, "order {order}");
    }
    // A cursor of another order is refused, as is an order of Events only.
    let first = page(json!(null), json!(null)).await;
    let cursor = first["data"]["deploymentConnection"]["pageInfo"]["endCursor"].clone();
    let answer = page(json!({ "field": "CREATED" }), cursor).await;
    assert_eq!(code(&answer), "InvalidParameter", "{answer}");
    let answer = page(json!({ "field": "LAST_SEEN" }), json!(null)).await;
    assert_eq!(code(&answer), "InvalidParameter", "{answer}");
    let answer = page(json!(null), json!("not-a-cursor")).await;
    assert_eq!(code(&answer), "InvalidParameter", "{answer}");
    // A cursor of another kind's list, in the same order, is refused too.
    let answer = gateway
        .graphql(
            Some(&admin),
            "{ replicaSetConnection(first: 1) { pageInfo { endCursor } } }",
            json!({}),
        )
        .await;
    let foreign = answer["data"]["replicaSetConnection"]["pageInfo"]["endCursor"].clone();
    assert!(foreign.is_string(), "{answer}");
    let answer = page(json!(null), foreign).await;
    assert_eq!(code(&answer), "InvalidParameter", "{answer}");
    // Filters: by name, by label selector, by namespace.
    let answer = gateway
        .graphql(
            Some(&admin),
            r#"{ a: deploymentConnection(filter: { name: "e" }) { edges { node { name } } }
                 b: deploymentConnection(filter: { labelSelector: "app in (db,api)" }) { edges { node { name } } }
                 c: deploymentConnection(namespace: "team-b") { edges { node { name } } }
                 d: deploymentConnection(filter: { labelSelector: "app in (" }) { totalCount } }"#,
            json!({}),
        )
        .await;
    assert_eq!(names(&answer["data"]["a"]), ["web"]);
    assert_eq!(names(&answer["data"]["b"]), ["api", "db"]);
    assert_eq!(names(&answer["data"]["c"]), ["db"]);
    assert_eq!(code(&answer), "InvalidParameter", "{answer}");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_namespace_viewer_reads_only_their_namespace_and_no_node() {
    let sim = simulator().await;
    let gateway = gateway(&sim).await;
    let admin = gateway.admin_token().await;
    let viewer = gateway
        .user_with_grants(
            &admin,
            "alice",
            json!([{ "cluster": CLUSTER, "namespace": "team-a" }]),
        )
        .await;
    let answer = gateway
        .graphql(
            Some(&viewer),
            r#"{ deploymentConnection { totalCount edges { node { name } } }
                 replicaSetConnection { totalCount }
                 namespaceConnection { edges { node { name status } } }
                 nodeConnection { totalCount edges { node { name } } clusters { name state code } } }"#,
            json!({}),
        )
        .await;
    let data = &answer["data"];
    assert_eq!(names(&data["deploymentConnection"]), ["api", "web"]);
    assert_eq!(data["replicaSetConnection"]["totalCount"], 2);
    assert_eq!(
        data["namespaceConnection"]["edges"],
        json!([{ "node": { "name": "team-a", "status": "Active" } }])
    );
    // Nodes belong to no namespace: they take a whole-cluster grant.
    assert_eq!(data["nodeConnection"]["totalCount"], 0);
    assert_eq!(
        data["nodeConnection"]["clusters"],
        json!([{ "name": "c", "state": "FORBIDDEN", "code": "Forbidden" }])
    );
    assert_eq!(code(&answer), "Forbidden", "{answer}");

    for query in [
        r#"{ deployment(cluster: "c", namespace: "team-b", name: "db") { name } }"#,
        r#"{ node(cluster: "c", name: "n1") { name } }"#,
        r#"{ namespace(cluster: "c", name: "team-b") { name } }"#,
        r#"{ deploymentConnection(namespace: "team-b") { totalCount } }"#,
    ] {
        let answer = gateway.graphql(Some(&viewer), query, json!({})).await;
        assert_eq!(code(&answer), "Forbidden", "{query}: {answer}");
    }
    // Relations never reach past the grants: a whole-cluster reader sees
    // every pod of a node; this viewer cannot ask for the node at all, and a
    // Service-less path to team-b's pods does not exist.
    let answer = gateway
        .graphql(
            Some(&viewer),
            r#"{ namespace(cluster: "c", name: "team-a") { name } }"#,
            json!({}),
        )
        .await;
    assert_eq!(answer["data"]["namespace"]["name"], "team-a", "{answer}");
    let answer = gateway
        .graphql(
            Some(&admin),
            r#"{ node(cluster: "c", name: "n1") { status roles version internalIP externalIP osImage kernelVersion containerRuntime pods { name } }
                 n2: node(cluster: "c", name: "n2") { status } }"#,
            json!({}),
        )
        .await;
    assert!(answer["errors"].is_null(), "{answer}");
    let n1 = &answer["data"]["node"];
    assert_eq!(n1["status"], "Ready");
    assert_eq!(answer["data"]["n2"]["status"], "Ready,SchedulingDisabled");
    assert_eq!(n1["roles"], json!(["worker"]));
    assert_eq!(n1["version"], "v1.31.2");
    assert_eq!(n1["internalIP"], "10.0.0.7");
    assert_eq!(n1["externalIP"], "<none>");
    assert_eq!(n1["osImage"], "Ubuntu 24.04 LTS");
    // Upstream printNode appends the architecture to KERNEL-VERSION.
    assert_eq!(n1["kernelVersion"], "6.8.0-45-generic (amd64)");
    assert_eq!(n1["containerRuntime"], "containerd://1.7.22");
    assert_eq!(n1["pods"].as_array().map(Vec::len), Some(3));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_list_of_deployments_with_their_pods_reads_each_kind_once() {
    let sim = simulator().await;
    let gateway = gateway(&sim).await;
    let admin = gateway.admin_token().await;
    let query =
        "{ deploymentConnection { edges { node { name replicaSets { name } pods { name } } } } }";
    // The first answer starts the caches; the second is read from them.
    let answer = gateway.graphql(Some(&admin), query, json!({})).await;
    assert!(answer["errors"].is_null(), "{answer}");
    sim.reset_counters();
    let answer = gateway.graphql(Some(&admin), query, json!({})).await;
    assert!(answer["errors"].is_null(), "{answer}");
    let counters = sim.counters();
    let reads: u64 = counters
        .iter()
        .filter(|(name, _)| name.starts_with("list ") || name.starts_with("get "))
        .map(|(_, count)| count)
        .sum();
    assert_eq!(
        reads, 0,
        "relations of a list are read from the caches: {counters}"
    );
    let web = answer["data"]["deploymentConnection"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .find(|e| e["node"]["name"] == "web")
        .expect("web")
        .clone();
    assert_eq!(web["node"]["pods"].as_array().map(Vec::len), Some(2));
    sim.shutdown().await;
}

/// `resourceEvents` over graphql-transport-ws: a change after the version
/// of a connection's part is replayed first, then live changes follow; a
/// namespace viewer never gets a change of another namespace, and cannot
/// follow Nodes; an unknown kind is refused.
#[tokio::test]
async fn resource_events_replay_from_a_version_then_follow_within_the_grants() {
    use crate::{
        helpers::{Backend, TestApp, TestDb},
        live::{connect, next, send},
    };
    use osp_gateway::config::CacheMode;

    let sim = simulator().await;
    let db = TestDb::create(Backend::Sqlite).await;
    let app = TestApp::with_clusters(&db, &[(CLUSTER, &sim)], CacheMode::On).await;
    let admin = app.admin_token().await;
    let viewer = app
        .user_with_grants(
            &admin,
            "bob",
            json!([{ "cluster": CLUSTER, "namespace": "team-a" }]),
        )
        .await;
    // The version the list reflects (this starts the Deployment cache).
    let listed = app
        .graphql(
            Some(&viewer),
            "{ deploymentConnection { clusters { version } } }",
            json!({}),
        )
        .await;
    let version = listed["data"]["deploymentConnection"]["clusters"][0]["version"]
        .as_str()
        .unwrap_or_else(|| panic!("a version: {listed}"))
        .to_owned();
    // Changed after the list: one in team-b (not the viewer's), one in team-a.
    sim.upsert(
        ResourceKind::Deployment,
        deployment("team-b", "db", "2024-05-02T10:00:00Z", 2, 2),
    );
    sim.upsert(
        ResourceKind::Deployment,
        deployment("team-a", "web", "2024-05-01T10:00:00Z", 3, 3),
    );

    let mut socket = connect(&app, json!({ "token": viewer })).await;
    assert_eq!(
        next(&mut socket).await.expect("ack")["type"],
        "connection_ack"
    );
    let subscribe = |id: &str, kind: &str, since: Option<&str>| {
        json!({ "id": id, "type": "subscribe", "payload": {
            "query": "subscription($k: String!, $s: String) { resourceEvents(kind: $k, cluster: \"c\", since: $s) {
                         type version object { __typename name namespace ... on Deployment { ready } } } }",
            "variables": { "k": kind, "s": since } } })
    };
    send(&mut socket, subscribe("1", "Deployment", Some(&version))).await;
    let message = next(&mut socket).await.expect("the replayed change");
    assert_eq!(message["id"], "1", "{message}");
    let change = &message["payload"]["data"]["resourceEvents"];
    assert_eq!(change["type"], "MODIFIED", "{message}");
    assert_eq!(
        change["object"],
        json!({ "__typename": "Deployment", "name": "web", "namespace": "team-a", "ready": "3/3" })
    );
    // Live: team-b's change is skipped, team-a's arrives.
    sim.upsert(
        ResourceKind::Deployment,
        deployment("team-b", "db", "2024-05-02T10:00:00Z", 2, 0),
    );
    sim.upsert(
        ResourceKind::Deployment,
        deployment("team-a", "api", "2024-05-03T10:00:00Z", 1, 0),
    );
    let message = next(&mut socket).await.expect("a live change");
    let change = &message["payload"]["data"]["resourceEvents"];
    assert_eq!(change["object"]["name"], "api", "{message}");
    assert_eq!(change["object"]["ready"], "0/1", "{message}");

    // Nodes take a whole-cluster grant; an unknown kind is refused.
    for (id, kind, code) in [
        ("2", "Node", "Forbidden"),
        ("3", "Gadget", "InvalidParameter"),
    ] {
        send(&mut socket, subscribe(id, kind, None)).await;
        let message = next(&mut socket).await.expect("an error");
        assert_eq!(message["id"], id, "{message}");
        assert_eq!(
            message["payload"]["errors"][0]["extensions"]["code"], code,
            "{message}"
        );
        let done = next(&mut socket).await.expect("complete");
        assert_eq!(
            (&done["id"], &done["type"]),
            (&json!(id), &json!("complete"))
        );
    }
    drop(socket);
    app.stop().await;
    db.drop_database().await;
    sim.shutdown().await;
}

fn event(namespace: &str, name: &str, pod: &str, reason: &str, last_seen: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": { "name": name, "namespace": namespace, "uid": format!("uid-event-{name}"),
                      "creationTimestamp": last_seen },
        "involvedObject": { "kind": "Pod", "namespace": namespace, "name": pod,
                            "uid": format!("uid-pod-{namespace}-{pod}") },
        "reason": reason, "message": format!("{reason} happened"), "type": "Warning",
        "source": { "component": "kubelet", "host": "n1" },
        "firstTimestamp": last_seen, "lastTimestamp": last_seen, "count": 1
    })
}

/// A kept answer of a pod list is reused only while what it read is
/// unchanged: one that holds a relation (here a pod's Events, which no pod
/// version covers) is executed again, so a new Event shows at once.
#[tokio::test]
async fn answers_holding_relations_are_never_served_stale() {
    use crate::helpers::{Backend, TestApp, TestDb, wait_until_synced};
    use osp_gateway::config::CacheMode;

    let sim = simulator().await;
    let db = TestDb::create(Backend::Sqlite).await;
    let app = TestApp::with_clusters(&db, &[(CLUSTER, &sim)], CacheMode::On).await;
    let admin = app.admin_token().await;
    wait_until_synced(&app, &admin).await;
    let query = r#"{ pods(cluster: "c", namespace: "team-a", name: "web-5d4f-aaaaa") { name events { reason } } }"#;
    let reasons = |answer: &Value| -> Vec<String> {
        answer["data"]["pods"][0]["events"]
            .as_array()
            .unwrap_or_else(|| panic!("events in {answer}"))
            .iter()
            .map(|e| e["reason"].as_str().expect("reason").to_owned())
            .collect()
    };
    let first = app.graphql(Some(&admin), query, json!({})).await;
    assert!(reasons(&first).is_empty(), "{first}");
    sim.upsert(
        ResourceKind::Event,
        event(
            "team-a",
            "web-5d4f-aaaaa.1",
            "web-5d4f-aaaaa",
            "BackOff",
            "2024-05-01T11:00:00Z",
        ),
    );
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let again = app.graphql(Some(&admin), query, json!({})).await;
        if reasons(&again) == ["BackOff"] {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the new Event never showed: {again}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    app.stop().await;
    db.drop_database().await;
    sim.shutdown().await;
}

/// A Node's Events are the ones about it in any namespace: the kubelet's
/// name the node by its name where the uid belongs, a controller's by its
/// uid; an Event about another object of the same name is not the node's.
#[tokio::test]
async fn a_node_shows_the_kubelets_events_and_the_controllers() {
    let sim = simulator().await;
    let about_node = |name: &str, uid: &str, reason: &str, last_seen: &str| {
        json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": { "name": name, "namespace": "default", "uid": format!("uid-event-{name}"),
                          "creationTimestamp": last_seen },
            "involvedObject": { "kind": "Node", "name": "n2", "uid": uid, "apiVersion": "v1" },
            "reason": reason, "message": format!("{reason} happened"), "type": "Normal",
            "source": { "component": "kubelet", "host": "n2" },
            "firstTimestamp": last_seen, "lastTimestamp": last_seen, "count": 1
        })
    };
    sim.upsert(
        ResourceKind::Event,
        about_node("n2.1", "n2", "NodeNotSchedulable", "2024-05-01T11:00:00Z"),
    );
    sim.upsert(
        ResourceKind::Event,
        about_node(
            "n2.2",
            "uid-node-n2",
            "RegisteredNode",
            "2024-05-01T12:00:00Z",
        ),
    );
    sim.upsert(
        ResourceKind::Event,
        about_node(
            "n2.3",
            "uid-of-an-earlier-n2",
            "RemovingNode",
            "2024-05-01T13:00:00Z",
        ),
    );
    let gateway = gateway(&sim).await;
    let admin = gateway.admin_token().await;
    let answer = gateway
        .graphql(
            Some(&admin),
            r#"{ node(cluster: "c", name: "n2") { events { reason } } }"#,
            json!({}),
        )
        .await;
    assert!(answer["errors"].is_null(), "{answer}");
    assert_eq!(
        answer["data"]["node"]["events"],
        json!([{ "reason": "RegisteredNode" }, { "reason": "NodeNotSchedulable" }]),
        "{answer}"
    );
}

/// Every real capture of every kind (`tests/fixtures/<plural>/`) is served
/// through its connection and by name, with every typed field answering.
#[tokio::test]
async fn every_captured_object_of_every_kind_is_served_with_its_columns() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let sim = Simulator::builder()
        .fixtures_dir(&root)
        .build_and_start()
        .await
        .expect("simulator starts");
    let gateway = gateway(&sim).await;
    let admin = gateway.admin_token().await;
    let kinds = [
        (
            "deployments",
            "deployment",
            "ready upToDate available containerNames images selector",
        ),
        (
            "replicasets",
            "replicaSet",
            "desired current readyCount containerNames images selector",
        ),
        ("statefulsets", "statefulSet", "ready containerNames images"),
        (
            "daemonsets",
            "daemonSet",
            "desired current readyCount upToDate available nodeSelector selector",
        ),
        (
            "jobs",
            "job",
            "status completions startTime completionTime duration selector",
        ),
        (
            "cronjobs",
            "cronJob",
            "schedule timeZone suspend active lastScheduleTime selector",
        ),
        (
            "services",
            "service",
            "type clusterIP externalIP ports selector",
        ),
        (
            "nodes",
            "node",
            "status roles version internalIP externalIP osImage kernelVersion containerRuntime",
        ),
        ("namespaces", "namespace", "status"),
        (
            "events",
            "event",
            "type reason object subobject source message count firstSeen lastSeen involvedObject { kind name }",
        ),
    ];
    for (plural, field, columns) in kinds {
        let mut files: Vec<_> = std::fs::read_dir(root.join(plural))
            .expect("fixtures")
            .map(|entry| entry.expect("entry").path())
            .filter(|path| path.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{plural}: no captures");
        let query = format!(
            "{{ {field}Connection(first: 500) {{ edges {{ node {{ kind namespace name uid {columns} }} }} }} }}"
        );
        let answer = gateway.graphql(Some(&admin), &query, json!({})).await;
        assert!(answer["errors"].is_null(), "{plural}: {answer}");
        let listed: Vec<(Option<String>, String)> =
            answer["data"][format!("{field}Connection")]["edges"]
                .as_array()
                .expect("edges")
                .iter()
                .map(|edge| {
                    (
                        edge["node"]["namespace"].as_str().map(str::to_owned),
                        edge["node"]["name"].as_str().expect("name").to_owned(),
                    )
                })
                .collect();
        for file in files {
            let object: Value =
                serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("json");
            let name = object["metadata"]["name"]
                .as_str()
                .expect("a name")
                .to_owned();
            let namespace = object["metadata"]["namespace"].as_str().map(str::to_owned);
            let namespace = namespace.filter(|_| !matches!(plural, "nodes" | "namespaces"));
            assert!(
                listed.contains(&(namespace.clone(), name.clone())),
                "{}: {namespace:?}/{name} not listed in {listed:?}",
                file.display()
            );
        }
    }
    sim.shutdown().await;
}
