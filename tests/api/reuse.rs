//! Rendered GraphQL answers reused while the cache versions they read are
//! unchanged: per namespace, keyed by the viewer's grants.

use std::time::Duration;

use kube_sim::Simulator;
use osp_gateway::config::CacheMode;
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, TestApp, TestDb, wait_until_synced},
    ops::{metrics_text, sample},
};

const LIST: &str = "query($ns: String) { pods(cluster: \"sim\", namespace: $ns) { namespace name status restarts } }";
/// A list with the cache version: the whole cluster's, so any change renews it.
const VERSIONED: &str =
    "query($ns: String) { podList(cluster: \"sim\", namespace: $ns) { version items { name } } }";

async fn reused(app: &TestApp) -> f64 {
    sample(&metrics_text(app).await, "osp_graphql_reused_answers_total").unwrap_or(0.0)
}

/// POSTs `query` as `token` (with `Cache-Control` when given); the body.
async fn post(
    app: &TestApp,
    token: &str,
    query: &str,
    variables: Value,
    cache: Option<&str>,
) -> Value {
    let mut request = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(cache) = cache {
        request = request.header("cache-control", cache);
    }
    let answer = request.send().await.expect("answered");
    assert_eq!(answer.status(), reqwest::StatusCode::OK);
    answer.json().await.expect("json")
}

/// Waits until the cache's version moves past `version`.
async fn changed(app: &TestApp, token: &str, version: &Value) {
    for _ in 0..200 {
        let now = post(
            app,
            token,
            "{ podsVersion(cluster: \"sim\") }",
            json!({}),
            Some("no-cache"),
        )
        .await;
        if now["data"]["podsVersion"] != *version {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the cache never changed");
}

/// A gateway caching one simulated cluster of 24 pods in two namespaces,
/// synced; the admin's token.
async fn cached_cluster() -> (Simulator, TestDb, TestApp, String) {
    let sim = Simulator::builder()
        .generated_pods(24)
        .namespaces(2)
        .build_and_start()
        .await
        .expect("starts");
    let db = TestDb::create(Backend::Sqlite).await;
    let app = TestApp::with_clusters(&db, &[("sim", &sim)], CacheMode::On).await;
    let admin = app.admin_token().await;
    wait_until_synced(&app, &admin).await;
    (sim, db, app, admin)
}

#[tokio::test]
async fn answers_are_reused_until_what_they_read_changes_and_only_there() {
    let (sim, db, app, admin) = cached_cluster().await;
    let all = post(&app, &admin, LIST, json!({}), None).await;
    let items = all["data"]["pods"].as_array().expect("items").clone();
    let (a, b) = (
        text(&items[0]["namespace"]),
        text(&items[items.len() - 1]["namespace"]),
    );
    assert_ne!(a, b, "two namespaces");

    let first_a = post(&app, &admin, LIST, json!({ "ns": a }), None).await;
    let first_b = post(&app, &admin, LIST, json!({ "ns": b }), None).await;
    let before = reused(&app).await;
    assert_eq!(
        post(&app, &admin, LIST, json!({ "ns": a }), None).await,
        first_a
    );
    assert_eq!(
        post(&app, &admin, LIST, json!({ "ns": b }), None).await,
        first_b
    );
    assert_eq!(
        reused(&app).await,
        before + 2.0,
        "both answered from kept bytes"
    );

    // A client asking for a fresh answer gets one executed.
    post(&app, &admin, LIST, json!({ "ns": a }), Some("no-cache")).await;
    assert_eq!(reused(&app).await, before + 2.0);

    // A pod of namespace `a` changes: `a` is read again, `b` is still reused,
    // but not where the answer shows the cluster's version.
    let versioned_b = post(&app, &admin, VERSIONED, json!({ "ns": b }), None).await;
    let version = versioned_b["data"]["podList"]["version"].clone();
    let mut pod = sim
        .pods()
        .into_iter()
        .find(|p| p["metadata"]["namespace"] == a.as_str())
        .expect("a pod of a");
    let name = text(&pod["metadata"]["name"]);
    pod["metadata"]["labels"]["touched"] = json!("yes");
    pod["status"]["containerStatuses"][0]["restartCount"] = json!(41);
    sim.upsert_pod(pod);
    changed(&app, &admin, &version).await;
    let before = reused(&app).await;
    let again_a = post(&app, &admin, LIST, json!({ "ns": a }), None).await;
    assert_ne!(again_a, first_a, "the change is seen");
    let restarted = again_a["data"]["pods"]
        .as_array()
        .expect("items")
        .iter()
        .find(|p| p["name"] == name.as_str())
        .expect("the pod");
    assert_eq!(restarted["restarts"], 41);
    assert_eq!(reused(&app).await, before, "a's answer was executed again");
    assert_eq!(
        post(&app, &admin, LIST, json!({ "ns": b }), None).await,
        first_b
    );
    assert_eq!(
        reused(&app).await,
        before + 1.0,
        "b's answer is still reused"
    );
    let renewed_b = post(&app, &admin, VERSIONED, json!({ "ns": b }), None).await;
    assert_ne!(
        renewed_b["data"]["podList"]["version"], version,
        "{renewed_b}"
    );
    assert_eq!(
        reused(&app).await,
        before + 1.0,
        "the answer with the cluster's version was executed again"
    );

    // Documents that read more than the caches are never reused.
    let before = reused(&app).await;
    for _ in 0..2 {
        post(
            &app,
            &admin,
            "{ me { name } podsVersion(cluster: \"sim\") }",
            json!({}),
            None,
        )
        .await;
    }
    assert_eq!(reused(&app).await, before);
    app.stop().await;
    db.drop_database().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn viewers_share_answers_only_with_equal_grants() {
    let (sim, db, app, admin) = cached_cluster().await;
    let namespace = text(&sim.pods()[0]["metadata"]["namespace"]);
    let grant = json!([{ "cluster": "sim", "namespace": namespace }]);
    let one = app.user_with_grants(&admin, "one", grant.clone()).await;
    let two = app.user_with_grants(&admin, "two", grant).await;
    let whole = app
        .user_with_grants(&admin, "whole", json!([{ "cluster": "sim" }]))
        .await;

    let of_one = post(&app, &one, LIST, json!({}), None).await;
    let before = reused(&app).await;
    let of_two = post(&app, &two, LIST, json!({}), None).await;
    assert_eq!(of_two, of_one);
    assert_eq!(
        reused(&app).await,
        before + 1.0,
        "equal grants share the answer"
    );

    let of_whole = post(&app, &whole, LIST, json!({}), None).await;
    assert_eq!(reused(&app).await, before + 1.0, "other grants: executed");
    assert_ne!(of_whole, of_one);
    let names = |answer: &Value| {
        answer["data"]["pods"]
            .as_array()
            .expect("items")
            .iter()
            .map(|p| text(&p["namespace"]))
            .collect::<Vec<_>>()
    };
    assert!(names(&of_one).iter().all(|ns| *ns == namespace));
    assert!(names(&of_whole).iter().any(|ns| *ns != namespace));
    app.stop().await;
    db.drop_database().await;
    sim.shutdown().await;
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_kept_answer_is_never_older_than_the_node_version_it_is_kept_under() {
    let (sim, db, app, admin) = cached_cluster().await;
    let query = "{ pods(cluster: \"sim\") { name node { name ready } } }";
    let ready = |answer: &Value| -> Vec<bool> {
        answer["data"]["pods"]
            .as_array()
            .expect("pods")
            .iter()
            .filter_map(|pod| pod["node"]["ready"].as_bool())
            .collect()
    };
    let before = post(&app, &admin, query, json!({}), None).await;
    assert!(
        !ready(&before).is_empty() && ready(&before).iter().all(|r| *r),
        "{before}"
    );

    // Every node becomes not ready; the watch cache sees it at once, well
    // within the second for which a shared listing of nodes is reused.
    for mut node in sim.objects(kube_sim::ResourceKind::Node) {
        if let Some(conditions) = node["status"]["conditions"].as_array_mut() {
            for condition in conditions {
                if condition["type"] == "Ready" {
                    condition["status"] = json!("False");
                }
            }
        }
        sim.upsert(kube_sim::ResourceKind::Node, node);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let during = post(&app, &admin, query, json!({}), None).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let after = post(&app, &admin, query, json!({}), None).await;
    assert!(ready(&during).iter().all(|r| !*r), "{during}");
    assert!(ready(&after).iter().all(|r| !*r), "{after}");
    app.stop().await;
    db.drop_database().await;
    sim.shutdown().await;
}
