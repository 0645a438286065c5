//! `podConnection`: one order across clusters, filters, keyset cursors, and
//! a dead cluster beside live ones, checked against references computed here
//! from each cluster's own pod list.

use std::{cmp::Ordering, collections::BTreeMap, time::Duration};

use kube_sim::{Fault, FaultRule, Simulator};
use osp_gateway::config::CacheMode;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestDb, gql_code, wait_until_synced};

const PAGE: &str = "query($c: [String!], $ns: String, $f: PodFilter, $o: PodOrder, $first: Int, $after: String) {
  podConnection(clusters: $c, namespace: $ns, filter: $f, orderBy: $o, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor hasPreviousPage startCursor }
    clusters { name state code version }
    edges { cursor node { cluster namespace name status restarts created qos nodeName } }
  }
}";

/// One pod as the reference sees it.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    cluster: String,
    namespace: String,
    name: String,
    status: String,
    restarts: i64,
    created: String,
    qos: String,
    node: String,
    labels: BTreeMap<String, String>,
}

impl Row {
    fn id(&self) -> (String, String, String) {
        (
            self.cluster.clone(),
            self.namespace.clone(),
            self.name.clone(),
        )
    }
}

/// Two clusters generated from one seed (so every name appears in both, and
/// ties are broken by the cluster), each cached.
struct Clusters {
    db: TestDb,
    app: TestApp,
    east: Simulator,
    west: Simulator,
    admin: String,
}

impl Clusters {
    async fn start(pods: usize) -> Clusters {
        let sim = || async {
            Simulator::builder()
                .generated_pods(pods)
                .namespaces(3)
                .build_and_start()
                .await
                .expect("simulator starts")
        };
        let (east, west) = (sim().await, sim().await);
        let db = TestDb::create(Backend::Sqlite).await;
        let app =
            TestApp::with_clusters(&db, &[("east", &east), ("west", &west)], CacheMode::On).await;
        let admin = app.admin_token().await;
        wait_until_synced(&app, &admin).await;
        Clusters {
            db,
            app,
            east,
            west,
            admin,
        }
    }

    async fn stop(self) {
        self.app.stop().await;
        self.db.drop_database().await;
        self.east.shutdown().await;
        self.west.shutdown().await;
    }

    /// Every pod of both clusters, read through each cluster's own list.
    async fn reference(&self) -> Vec<Row> {
        let mut rows = Vec::new();
        for cluster in ["east", "west"] {
            let answer = self
                .app
                .graphql(
                    Some(&self.admin),
                    "query($c: String!) { pods(cluster: $c) { namespace name status restarts created qos nodeName json } }",
                    json!({ "c": cluster }),
                )
                .await;
            for pod in answer["data"]["pods"].as_array().expect("pods") {
                let labels = pod["json"]["metadata"]["labels"]
                    .as_object()
                    .map(|labels| {
                        labels
                            .iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned()))
                            .collect()
                    })
                    .unwrap_or_default();
                rows.push(Row {
                    cluster: cluster.to_owned(),
                    namespace: text(&pod["namespace"]),
                    name: text(&pod["name"]),
                    status: text(&pod["status"]),
                    restarts: pod["restarts"].as_i64().expect("restarts"),
                    created: text(&pod["created"]),
                    qos: text(&pod["qos"]),
                    node: text(&pod["nodeName"]),
                    labels,
                });
            }
        }
        rows
    }

    async fn page(&self, token: &str, variables: Value) -> Value {
        self.app.graphql(Some(token), PAGE, variables).await
    }

    /// Every page of the walk in `order` (with `filter`), `size` at a time.
    async fn walk(&self, order: Value, filter: Value, size: i64) -> Vec<Value> {
        let mut pods = Vec::new();
        let mut after = Value::Null;
        for _ in 0..1000 {
            let answer = self
                .page(
                    &self.admin,
                    json!({ "o": order, "f": filter, "first": size, "after": after }),
                )
                .await;
            let connection = &answer["data"]["podConnection"];
            assert!(answer["errors"].is_null(), "{answer}");
            let edges = connection["edges"].as_array().expect("edges");
            assert_eq!(
                connection["pageInfo"]["hasPreviousPage"],
                json!(!after.is_null()),
                "{connection}"
            );
            pods.extend(edges.iter().map(|edge| edge["node"].clone()));
            if connection["pageInfo"]["hasNextPage"] != true {
                return pods;
            }
            after = connection["pageInfo"]["endCursor"].clone();
        }
        panic!("the walk never ended");
    }
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

fn ids(pods: &[Value]) -> Vec<(String, String, String)> {
    pods.iter()
        .map(|pod| {
            (
                text(&pod["cluster"]),
                text(&pod["namespace"]),
                text(&pod["name"]),
            )
        })
        .collect()
}

/// The reference order: the field in its direction, ties by (cluster,
/// namespace, name) ascending.
fn sorted(mut rows: Vec<Row>, field: &str, descending: bool) -> Vec<(String, String, String)> {
    rows.sort_by(|a, b| {
        let primary = match field {
            "CLUSTER" => a.cluster.cmp(&b.cluster),
            "NAMESPACE" => a.namespace.cmp(&b.namespace),
            "NAME" => a.name.cmp(&b.name),
            "CREATED" => a.created.cmp(&b.created),
            "RESTARTS" => a.restarts.cmp(&b.restarts),
            "STATUS" => a.status.cmp(&b.status),
            other => panic!("unknown field {other}"),
        };
        let primary = if descending {
            primary.reverse()
        } else {
            primary
        };
        primary.then_with(|| a.id().cmp(&b.id()))
    });
    rows.iter().map(Row::id).collect()
}

#[tokio::test]
async fn every_sort_field_in_both_directions_walks_one_total_order() {
    let clusters = Clusters::start(30).await;
    let reference = clusters.reference().await;
    assert_eq!(reference.len(), 60);

    for field in [
        "CLUSTER",
        "NAMESPACE",
        "NAME",
        "CREATED",
        "RESTARTS",
        "STATUS",
    ] {
        for direction in ["ASC", "DESC"] {
            let order = json!({ "field": field, "direction": direction });
            let walked = clusters.walk(order, Value::Null, 7).await;
            assert_eq!(
                ids(&walked),
                sorted(reference.clone(), field, direction == "DESC"),
                "{field} {direction}"
            );
        }
    }

    // Equal names in both clusters: the cluster breaks the tie.
    let by_name = clusters.walk(json!({}), Value::Null, 500).await;
    assert_eq!(by_name[0]["name"], by_name[1]["name"]);
    assert_eq!(
        (text(&by_name[0]["cluster"]), text(&by_name[1]["cluster"])),
        ("east".into(), "west".into())
    );
    clusters.stop().await;
}

#[tokio::test]
async fn every_filter_keeps_what_the_reference_keeps() {
    let clusters = Clusters::start(40).await;
    let reference = clusters.reference().await;
    let some = &reference[3];
    let label = some
        .labels
        .iter()
        .next()
        .expect("generated pods carry labels");
    let statuses: Vec<String> = {
        let mut all: Vec<String> = reference.iter().map(|r| r.status.clone()).collect();
        all.sort();
        all.dedup();
        all.into_iter().take(2).collect()
    };
    type Keep<'a> = Box<dyn Fn(&Row) -> bool + 'a>;
    let cases: Vec<(Value, Option<&str>, Keep)> = vec![
        (
            json!({ "name": &some.name[..4] }),
            None,
            Box::new(|r: &Row| r.name.contains(&some.name[..4])),
        ),
        (
            json!({ "status": statuses }),
            None,
            Box::new(|r: &Row| statuses.contains(&r.status)),
        ),
        (
            json!({ "node": some.node }),
            None,
            Box::new(|r: &Row| r.node == some.node),
        ),
        (
            json!({ "qos": some.qos }),
            None,
            Box::new(|r: &Row| r.qos == some.qos),
        ),
        (
            json!({ "labelSelector": format!("{}={}", label.0, label.1) }),
            None,
            Box::new(|r: &Row| r.labels.get(label.0) == Some(label.1)),
        ),
        (
            json!({ "labelSelector": format!("{} notin ({}),!no-such-label", label.0, label.1) }),
            None,
            Box::new(|r: &Row| r.labels.get(label.0) != Some(label.1)),
        ),
        (
            json!({}),
            Some(some.namespace.as_str()),
            Box::new(|r: &Row| r.namespace == some.namespace),
        ),
    ];
    for (filter, namespace, keep) in cases {
        let expected: Vec<_> = sorted(reference.clone(), "NAME", false)
            .into_iter()
            .filter(|id| reference.iter().find(|r| r.id() == *id).is_some_and(&keep))
            .collect();
        assert!(!expected.is_empty(), "the case selects something: {filter}");
        let answer = clusters
            .page(
                &clusters.admin,
                json!({ "f": filter, "ns": namespace, "first": 500 }),
            )
            .await;
        let connection = &answer["data"]["podConnection"];
        let edges: Vec<Value> = connection["edges"]
            .as_array()
            .unwrap_or_else(|| panic!("{answer}"))
            .iter()
            .map(|edge| edge["node"].clone())
            .collect();
        assert_eq!(ids(&edges), expected, "{filter} in {namespace:?}");
        assert_eq!(connection["totalCount"], expected.len(), "{filter}");
    }

    for (filter, field) in [
        (
            json!({ "labelSelector": "app in web" }),
            "filter.labelSelector",
        ),
        (json!({ "qos": "Gold" }), "filter.qos"),
        (json!({ "name": "Bad Name" }), "filter.name"),
    ] {
        let answer = clusters.page(&clusters.admin, json!({ "f": filter })).await;
        assert_eq!(gql_code(&answer), "InvalidParameter", "{answer}");
        let message = answer["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(field), "{message}");
    }
    clusters.stop().await;
}

#[tokio::test]
async fn a_walk_under_churn_shows_every_lasting_pod_exactly_once() {
    let clusters = Clusters::start(40).await;
    let before = clusters.reference().await;
    let mut seen: Vec<(String, String, String)> = Vec::new();
    let mut removed = Vec::new();
    let mut after = Value::Null;
    for round in 0.. {
        let answer = clusters
            .page(&clusters.admin, json!({ "first": 9, "after": after }))
            .await;
        let connection = &answer["data"]["podConnection"];
        let edges: Vec<Value> = connection["edges"]
            .as_array()
            .unwrap_or_else(|| panic!("{answer}"))
            .iter()
            .map(|edge| edge["node"].clone())
            .collect();
        seen.extend(ids(&edges));
        if connection["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = connection["pageInfo"]["endCursor"].clone();
        // Between pages: one pod behind the cursor and one ahead of it go,
        // and a new pod appears ahead of it.
        let sim = if round % 2 == 0 {
            &clusters.east
        } else {
            &clusters.west
        };
        let cluster = if round % 2 == 0 { "east" } else { "west" };
        let sorted_names = sorted(before.clone(), "NAME", false);
        let ahead = sorted_names
            .iter()
            .filter(|id| id.0 == cluster && !seen.contains(id) && !removed.contains(*id))
            .nth(3)
            .cloned();
        if let Some(id) = ahead {
            assert!(sim.delete_pod(&id.1, &id.2));
            removed.push(id);
        }
        if let Some(id) = seen
            .iter()
            .rev()
            .find(|id| id.0 == cluster && !removed.contains(id))
            .cloned()
        {
            assert!(sim.delete_pod(&id.1, &id.2));
            removed.push(id);
        }
        sim.upsert_pod(json!({
            "metadata": { "name": format!("zz-new-{round}"), "namespace": before[0].namespace },
            "spec": { "containers": [{ "name": "c", "image": "busybox" }] },
        }));
        settle(&clusters, cluster, sim).await;
    }
    let lasting: Vec<_> = before
        .iter()
        .map(Row::id)
        .filter(|id| !removed.contains(id))
        .collect();
    for id in &lasting {
        assert_eq!(
            seen.iter().filter(|s| *s == id).count(),
            1,
            "{id:?} once in {seen:?}"
        );
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no pod twice");
    assert!(removed.len() >= 4, "the walk saw churn: {removed:?}");
    clusters.stop().await;
}

/// Waits until the gateway's cache of `cluster` holds what `sim` holds.
async fn settle(clusters: &Clusters, cluster: &str, sim: &Simulator) {
    let want = sim.pods().len();
    for _ in 0..200 {
        let answer = clusters
            .app
            .graphql(
                Some(&clusters.admin),
                "query($c: String!) { pods(cluster: $c) { name } }",
                json!({ "c": cluster }),
            )
            .await;
        if answer["data"]["pods"].as_array().map(Vec::len) == Some(want) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{cluster} never caught up");
}

#[tokio::test]
async fn cursors_that_are_malformed_foreign_or_stale() {
    let clusters = Clusters::start(20).await;
    let first = clusters.page(&clusters.admin, json!({ "first": 5 })).await;
    let cursor = first["data"]["podConnection"]["pageInfo"]["endCursor"].clone();
    assert!(cursor.is_string(), "{first}");

    let foreign_order = clusters
        .page(
            &clusters.admin,
            json!({ "first": 5, "after": cursor, "o": { "field": "CREATED" } }),
        )
        .await;
    assert_eq!(
        gql_code(&foreign_order),
        "InvalidParameter",
        "{foreign_order}"
    );
    use base64::Engine;
    for bad in [
        "not a cursor".to_owned(),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"x":1}"#),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"pc":1,"o":{"field":"Restarts","direction":"Asc"},"p":{"v":"text","c":"a","s":"b","n":"c"}}"#),
    ] {
        let answer = clusters
            .page(&clusters.admin, json!({ "after": bad, "o": { "field": "RESTARTS" } }))
            .await;
        assert_eq!(gql_code(&answer), "InvalidParameter", "{bad}: {answer}");
        assert!(answer["data"].is_null(), "{answer}");
    }

    // The cursor's pod is gone: the next page starts right after where it was.
    let last = &first["data"]["podConnection"]["edges"][4]["node"];
    let sim = if last["cluster"] == "east" {
        &clusters.east
    } else {
        &clusters.west
    };
    assert!(sim.delete_pod(&text(&last["namespace"]), &text(&last["name"])));
    settle(&clusters, &text(&last["cluster"]), sim).await;
    let next = clusters
        .page(&clusters.admin, json!({ "first": 5, "after": cursor }))
        .await;
    let reference = sorted(clusters.reference().await, "NAME", false);
    let first_ids = ids(&edges_of(&first));
    let expected: Vec<_> = reference
        .into_iter()
        .filter(|id| !first_ids.contains(id))
        .take(5)
        .collect();
    assert_eq!(ids(&edges_of(&next)), expected, "{next}");
    clusters.stop().await;
}

fn edges_of(answer: &Value) -> Vec<Value> {
    answer["data"]["podConnection"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .iter()
        .map(|edge| edge["node"].clone())
        .collect()
}

#[tokio::test]
async fn first_is_bounded_and_defaults_to_a_hundred() {
    let clusters = Clusters::start(60).await;
    let default = clusters.page(&clusters.admin, json!({})).await;
    assert_eq!(edges_of(&default).len(), 100);
    assert_eq!(default["data"]["podConnection"]["totalCount"], 120);
    let none = clusters.page(&clusters.admin, json!({ "first": 0 })).await;
    assert_eq!(edges_of(&none).len(), 0);
    assert_eq!(none["data"]["podConnection"]["totalCount"], 120);
    assert_eq!(
        none["data"]["podConnection"]["pageInfo"]["hasNextPage"],
        true
    );
    let most = clusters
        .page(&clusters.admin, json!({ "first": 500 }))
        .await;
    assert_eq!(edges_of(&most).len(), 120);
    for bad in [501, -1] {
        let answer = clusters
            .page(&clusters.admin, json!({ "first": bad }))
            .await;
        assert_eq!(gql_code(&answer), "InvalidParameter", "{bad}: {answer}");
    }
    clusters.stop().await;
}

#[tokio::test]
async fn one_dead_cluster_costs_its_own_error_within_the_cluster_timeout() {
    let live = Simulator::builder()
        .generated_pods(10)
        .build_and_start()
        .await
        .expect("starts");
    let dead = Simulator::builder()
        .generated_pods(10)
        .build_and_start()
        .await
        .expect("starts");
    dead.add_fault(FaultRule::new(Fault::Hang));
    let db = TestDb::create(Backend::Sqlite).await;
    let app = TestApp::with_clusters(&db, &[("live", &live), ("dead", &dead)], CacheMode::On).await;
    let admin = app.admin_token().await;

    let started = std::time::Instant::now();
    let answer = app
        .graphql(Some(&admin), PAGE, json!({ "first": 50 }))
        .await;
    let took = started.elapsed();

    // The cluster timeout of the test gateways is 2 s.
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let connection = &answer["data"]["podConnection"];
    assert_eq!(edges_of(&answer).len(), 10, "{answer}");
    assert_eq!(connection["totalCount"], 10);
    let parts: BTreeMap<String, Value> = connection["clusters"]
        .as_array()
        .expect("clusters")
        .iter()
        .map(|part| (text(&part["name"]), part.clone()))
        .collect();
    assert_eq!(parts["live"]["state"], "OK");
    assert!(parts["live"]["version"].is_string());
    assert_eq!(parts["dead"]["state"], "UNAVAILABLE");
    assert_eq!(parts["dead"]["code"], "ClusterUnavailable");
    let errors = answer["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{answer}");
    assert_eq!(errors[0]["extensions"]["cluster"], "dead");
    assert_eq!(errors[0]["extensions"]["code"], "ClusterUnavailable");
    assert_eq!(errors[0]["path"], json!(["podConnection"]));

    // A cluster the viewer holds no grant for is FORBIDDEN, whether or not it exists.
    let dev = app
        .user_with_grants(&admin, "dev", json!([{ "cluster": "live" }]))
        .await;
    let mine = app.graphql(Some(&dev), PAGE, json!({})).await;
    assert!(
        mine["errors"].is_null(),
        "default: only readable clusters: {mine}"
    );
    assert_eq!(
        mine["data"]["podConnection"]["clusters"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let states = |answer: &Value| -> Vec<(String, String)> {
        answer["data"]["podConnection"]["clusters"]
            .as_array()
            .expect("clusters")
            .iter()
            .map(|part| (text(&part["name"]), text(&part["state"])))
            .collect()
    };
    // (A list names at most as many clusters as are configured: two here.)
    let asked = app
        .graphql(Some(&dev), PAGE, json!({ "c": ["live", "nowhere"] }))
        .await;
    assert_eq!(
        states(&asked),
        [
            ("live".into(), "OK".into()),
            ("nowhere".into(), "FORBIDDEN".into())
        ]
    );
    assert_eq!(edges_of(&asked).len(), 10);
    // Names that cannot be read fold into one error, existing or not.
    let refused = app
        .graphql(Some(&dev), PAGE, json!({ "c": ["nowhere", "dead"] }))
        .await;
    assert_eq!(
        states(&refused),
        [
            ("dead".into(), "FORBIDDEN".into()),
            ("nowhere".into(), "FORBIDDEN".into())
        ]
    );
    let errors = refused["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{refused}");
    assert_eq!(errors[0]["extensions"]["code"], "Forbidden");
    assert_eq!(
        errors[0]["extensions"]["clusters"],
        json!(["dead", "nowhere"])
    );
    app.stop().await;
    db.drop_database().await;
    live.shutdown().await;
    dead.shutdown().await;
}

#[tokio::test]
async fn a_viewer_of_one_namespace_pages_through_exactly_that_namespace() {
    let clusters = Clusters::start(30).await;
    let reference = clusters.reference().await;
    let namespace = reference[0].namespace.clone();
    let dev = clusters
        .app
        .user_with_grants(
            &clusters.admin,
            "dev",
            json!([{ "cluster": "east", "namespace": namespace }]),
        )
        .await;
    let expected: Vec<_> = sorted(reference.clone(), "NAME", false)
        .into_iter()
        .filter(|id| id.0 == "east" && id.1 == namespace)
        .collect();
    let mut walked = Vec::new();
    let mut after = Value::Null;
    loop {
        let answer = clusters
            .page(&dev, json!({ "first": 4, "after": after }))
            .await;
        assert!(answer["errors"].is_null(), "{answer}");
        let connection = &answer["data"]["podConnection"];
        assert_eq!(connection["totalCount"], expected.len());
        walked.extend(ids(&edges_of(&answer)));
        if connection["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = connection["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(walked, expected);
    let other = reference
        .iter()
        .find(|r| r.namespace != namespace)
        .expect("another namespace");
    let refused = clusters
        .page(&dev, json!({ "ns": other.namespace, "c": ["east"] }))
        .await;
    assert_eq!(
        refused["data"]["podConnection"]["clusters"][0]["state"], "FORBIDDEN",
        "{refused}"
    );
    assert_eq!(edges_of(&refused).len(), 0);
    clusters.stop().await;
}

#[test]
fn the_reference_order_is_total() {
    // Sanity of the test's own reference: equal keys never compare equal.
    let row = |cluster: &str| Row {
        cluster: cluster.into(),
        namespace: "a".into(),
        name: "p".into(),
        status: "Running".into(),
        restarts: 0,
        created: String::new(),
        qos: String::new(),
        node: String::new(),
        labels: BTreeMap::new(),
    };
    let order = sorted(vec![row("west"), row("east")], "NAME", true);
    assert_eq!(order[0].0, "east");
    assert_ne!(row("east").id().cmp(&row("west").id()), Ordering::Equal);
}
