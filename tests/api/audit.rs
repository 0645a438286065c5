//! The audit trail: one event per change and sign-in, in the change's
//! transaction, paged newest first, admins only, and never a secret.

use std::collections::HashSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    helpers::{ADMIN, ADMIN_PASSWORD, TestApp, TestDb, fixture_simulator, gql_code},
    inprocess::{Gateway, code},
};

const EVENTS: &str = "query($first: Int, $after: String, $actor: String, $action: String) { \
    auditEvents(first: $first, after: $after, actor: $actor, action: $action) { \
    edges { cursor node { id time actor action target outcome detail clientAddress requestId } } \
    pageInfo { hasNextPage endCursor } } }";

async fn events(app: &TestApp, admin: &str, variables: Value) -> Vec<Value> {
    let answer = app.graphql(Some(admin), EVENTS, variables).await;
    assert!(answer["errors"].is_null(), "{answer}");
    answer["data"]["auditEvents"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| edge["node"].clone())
        .collect()
}

/// The `pod_read` events, once at least `count` are written (they are
/// queued and written in the background), or as they are after 10 s.
async fn pod_reads(app: &TestApp, admin: &str, count: usize) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let reads = events(app, admin, json!({ "action": "pod_read" })).await;
        if reads.len() >= count || tokio::time::Instant::now() > deadline {
            return reads;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Every event, walking pages of `page` events.
async fn walk(app: &TestApp, admin: &str, page: i64) -> Vec<Value> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let answer = app
            .graphql(
                Some(admin),
                EVENTS,
                json!({ "first": page, "after": after }),
            )
            .await;
        let connection = &answer["data"]["auditEvents"];
        for edge in connection["edges"].as_array().expect("edges") {
            all.push(edge["node"].clone());
        }
        if connection["pageInfo"]["hasNextPage"] != true {
            return all;
        }
        after = connection["pageInfo"]["endCursor"]
            .as_str()
            .map(str::to_owned);
    }
}

fn only(events: &[Value], action: &str, target: &str) -> Value {
    let found: Vec<&Value> = events
        .iter()
        .filter(|e| e["action"] == action && e["target"] == target)
        .collect();
    assert_eq!(found.len(), 1, "{action} {target}: {events:#?}");
    found[0].clone()
}

crate::db_tests!(each_change_and_sign_in_is_recorded_once_without_secrets);

async fn each_change_and_sign_in_is_recorded_once_without_secrets(db: &TestDb) {
    let app = TestApp::on(db).await;
    let admin = app.admin_token().await;
    let dev = app
        .user_with_grants(
            &admin,
            "dev",
            json!([{ "cluster": "east", "namespace": "a" }]),
        )
        .await;
    let changed = app
        .send(
            Method::PUT,
            "/osp/api/users/dev",
            Some(&admin),
            Some(json!({ "email": "dev@new.example.com", "password": "dev-new-password" })),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK);
    let failed = app
        .send(
            Method::POST,
            "/osp/api/login",
            None,
            Some(json!({ "name": "dev", "password": "wrong-password-1" })),
        )
        .await;
    assert_eq!(failed.status, StatusCode::UNAUTHORIZED);

    let all = walk(&app, &admin, 100).await;
    let created = only(&all, "user_created", "dev");
    assert_eq!(created["actor"], ADMIN);
    assert_eq!(created["outcome"], "Success");
    let updated = only(&all, "user_updated", "dev");
    assert_eq!(updated["detail"], "fields: email, password");
    assert_eq!(only(&all, "grants_set", "dev")["detail"], "east/a");
    let logins: Vec<&Value> = all
        .iter()
        .filter(|e| e["action"] == "login" && e["target"] == "dev")
        .collect();
    assert_eq!(logins.len(), 2, "{logins:#?}");
    // Newest first: the failed sign-in came last.
    assert_eq!(logins[0]["outcome"], "Unauthorized");
    assert_eq!(logins[1]["outcome"], "Success");
    assert!(
        logins[0]["clientAddress"]
            .as_str()
            .is_some_and(|a| a.starts_with("127."))
    );
    assert!(logins[0]["requestId"].is_string());

    let text = serde_json::to_string(&all).expect("json");
    for secret in [
        ADMIN_PASSWORD,
        "dev-password",
        "dev-new-password",
        "wrong-password-1",
        admin.as_str(),
        dev.as_str(),
        "$argon2",
    ] {
        assert!(!text.contains(secret), "the audit trail holds a secret");
    }
    app.stop().await;
}

crate::db_tests!(paging_walks_every_event_once_newest_first);

async fn paging_walks_every_event_once_newest_first(db: &TestDb) {
    let app = TestApp::on(db).await;
    let admin = app.admin_token().await;
    for i in 0..4 {
        app.user_without_grants(&admin, &format!("u{i}")).await;
    }
    let whole = walk(&app, &admin, 500).await;
    let paged = walk(&app, &admin, 3).await;
    assert_eq!(paged, whole);
    let ids: Vec<i64> = paged
        .iter()
        .map(|e| e["id"].as_str().and_then(|id| id.parse().ok()).expect("id"))
        .collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());

    let creations = events(
        &app,
        &admin,
        json!({ "action": "user_created", "actor": ADMIN }),
    )
    .await;
    assert_eq!(creations.len(), 4);
    app.stop().await;
}

crate::db_tests!(a_change_whose_transaction_fails_leaves_no_event);

async fn a_change_whose_transaction_fails_leaves_no_event(db: &TestDb) {
    let app = TestApp::on(db).await;
    let admin = app.admin_token().await;
    // Racing creators of one name: the unique index refuses all but one, and
    // the refused transactions take their events with them.
    let create = |i: usize| {
        let app = &app;
        let admin = &admin;
        async move {
            app.send(
                Method::POST,
                "/osp/api/users",
                Some(admin),
                Some(json!({ "name": "race", "email": format!("r{i}@example.com"), "password": "race-password" })),
            )
            .await
            .status
        }
    };
    let statuses = futures_util::future::join_all((0..6).map(create)).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    let created = events(&app, &admin, json!({ "action": "user_created" })).await;
    let outcomes = |outcome: &str| {
        created
            .iter()
            .filter(|e| e["target"] == "race" && e["outcome"] == outcome)
            .count()
    };
    assert_eq!(outcomes("Success"), 1, "{created:#?}");
    // The refused creations are recorded as such, outside the failed
    // transactions.
    assert_eq!(outcomes("UserAlreadyExists"), 5, "{created:#?}");
    app.stop().await;
}

#[tokio::test]
async fn only_admins_read_the_trail_and_bad_arguments_are_refused() {
    let db = TestDb::create(crate::helpers::Backend::Sqlite).await;
    let app = TestApp::on(&db).await;
    let admin = app.admin_token().await;
    let dev = app.user_with_token(&admin, "dev").await;
    let answer = app.graphql(Some(&dev), EVENTS, json!({})).await;
    assert_eq!(gql_code(&answer), "Forbidden");
    for variables in [
        json!({ "first": 0 }),
        json!({ "first": 501 }),
        json!({ "after": "not-a-cursor" }),
        json!({ "action": "password_read" }),
    ] {
        let answer = app.graphql(Some(&admin), EVENTS, variables.clone()).await;
        assert_eq!(
            gql_code(&answer),
            "InvalidParameter",
            "{variables}: {answer}"
        );
    }
    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn single_pod_reads_are_recorded_once_each_and_lists_are_not() {
    let sim = fixture_simulator().await;
    let db = TestDb::create(crate::helpers::Backend::Sqlite).await;
    let app =
        TestApp::with_clusters(&db, &[("sim", &sim)], osp_gateway::config::CacheMode::On).await;
    let admin = app.admin_token().await;
    crate::helpers::wait_until_synced(&app, &admin).await;
    let path = "/osp/api/pods/sim/argocd";
    let pods = app
        .send(
            Method::GET,
            "/osp/api/pods/sim?namespace=argocd",
            Some(&admin),
            None,
        )
        .await;
    let name = pods.body["data"][0]["name"]
        .as_str()
        .expect("a pod")
        .to_owned();
    // A miss, a reused body, and a GraphQL read: three reads.
    for _ in 0..2 {
        let answer = app
            .send(Method::GET, &format!("{path}/{name}"), Some(&admin), None)
            .await;
        assert_eq!(answer.status, StatusCode::OK);
    }
    app.graphql(
        Some(&admin),
        "query($n: String!) { pod(cluster: \"sim\", namespace: \"argocd\", name: $n) { name } }",
        json!({ "n": name }),
    )
    .await;
    let target = format!("sim/argocd/{name}");
    let reads = pod_reads(&app, &admin, 3).await;
    assert_eq!(reads.len(), 3, "{reads:#?}");
    assert!(
        reads
            .iter()
            .all(|e| e["target"] == target && e["actor"] == ADMIN)
    );
    app.stop().await;
    db.drop_database().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn answers_carrying_pod_objects_are_recorded_once_per_operation_and_cluster() {
    let sim = fixture_simulator().await;
    let db = TestDb::create(crate::helpers::Backend::Sqlite).await;
    let app =
        TestApp::with_clusters(&db, &[("sim", &sim)], osp_gateway::config::CacheMode::On).await;
    let admin = app.admin_token().await;
    crate::helpers::wait_until_synced(&app, &admin).await;
    let run = |id: &'static str, query: &'static str| {
        let request = app
            .client
            .post(app.url("/graphql"))
            .bearer_auth(&admin)
            .header("x-request-id", id)
            .json(&json!({ "query": query }));
        async move {
            let answer: Value = request
                .send()
                .await
                .expect("answered")
                .json()
                .await
                .expect("json");
            assert!(answer["errors"].is_null() || id == "refused", "{answer}");
            answer
        }
    };
    let list = r#"{ pods(cluster: "sim", namespace: "argocd") { json } }"#;
    let listed = run("list-1", list).await;
    let count = listed["data"]["pods"].as_array().map_or(0, Vec::len);
    assert!(count > 1, "{listed}");
    // The same answer again is read again: never served from kept bytes unrecorded.
    run("list-2", list).await;
    let page = run(
        "page",
        r#"{ podConnection(first: 1, orderBy: { field: NAME }) { edges { node { namespace name yaml } } } }"#,
    )
    .await;
    let first = &page["data"]["podConnection"]["edges"][0]["node"];
    run(
        "kept",
        r#"{ podList(cluster: "sim") { items { name } } podConnection { edges { node { name } } } }"#,
    )
    .await;
    run(
        "refused",
        r#"{ pod(cluster: "sim", namespace: "argocd", name: "no-such-pod") { json } }"#,
    )
    .await;

    let reads = pod_reads(&app, &admin, 4).await;
    let seen: HashSet<(String, String, String, String)> = reads
        .iter()
        .map(|e| {
            let text = |v: &Value| v.as_str().unwrap_or("-").to_owned();
            (
                text(&e["requestId"]),
                text(&e["target"]),
                text(&e["outcome"]),
                text(&e["detail"]),
            )
        })
        .collect();
    let expected: HashSet<(String, String, String, String)> = [
        // An admin sees pods unredacted: such reads say so.
        (
            "list-1",
            "sim".to_owned(),
            "Success",
            format!("{count} pods, revealed"),
        ),
        (
            "list-2",
            "sim".to_owned(),
            "Success",
            format!("{count} pods, revealed"),
        ),
        (
            "page",
            format!(
                "sim/{}/{}",
                text_of(&first["namespace"]),
                text_of(&first["name"])
            ),
            "Success",
            "revealed".to_owned(),
        ),
        (
            "refused",
            "sim/argocd/no-such-pod".to_owned(),
            "PodNotFound",
            "-".to_owned(),
        ),
    ]
    .into_iter()
    .map(|(id, target, outcome, detail)| (id.to_owned(), target, outcome.to_owned(), detail))
    .collect();
    assert_eq!(seen, expected, "{reads:#?}");
    assert!(reads.iter().all(|e| e["actor"] == ADMIN));
    app.stop().await;
    db.drop_database().await;
    sim.shutdown().await;
}

fn text_of(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

#[tokio::test]
async fn subscription_events_carrying_a_pod_object_are_recorded_each() {
    let sim = fixture_simulator().await;
    let db = TestDb::create(crate::helpers::Backend::Sqlite).await;
    let app =
        TestApp::with_clusters(&db, &[("sim", &sim)], osp_gateway::config::CacheMode::On).await;
    let admin = app.admin_token().await;
    crate::helpers::wait_until_synced(&app, &admin).await;
    let mut socket =
        crate::live::connect(&app, json!({ "Authorization": format!("Bearer {admin}") })).await;
    assert_eq!(
        crate::live::next(&mut socket).await.expect("ack")["type"],
        "connection_ack"
    );
    crate::live::send(
        &mut socket,
        json!({
            "id": "1",
            "type": "subscribe",
            "payload": { "query": "subscription { podEvents(cluster: \"sim\") { type pod { name json } } }" }
        }),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    sim.upsert_pod(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": { "name": "watched", "namespace": "default", "uid": "uid-watched",
                      "creationTimestamp": "2026-01-01T00:00:00Z" },
        "spec": { "containers": [{ "name": "app", "image": "app:1" }] },
        "status": { "phase": "Pending" }
    }));
    let event = crate::live::next(&mut socket).await.expect("an event");
    assert_eq!(
        event["payload"]["data"]["podEvents"]["pod"]["name"], "watched",
        "{event}"
    );
    // Queued before it was sent, and written in the background.
    let reads = pod_reads(&app, &admin, 1).await;
    assert_eq!(reads.len(), 1, "{reads:#?}");
    assert_eq!(reads[0]["target"], "sim/default/watched");
    app.stop().await;
    db.drop_database().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn refused_privileged_changes_are_recorded_with_their_codes() {
    let gateway = Gateway::new().await;
    let admin = gateway.admin_token().await;
    gateway.create_user(&admin, "mallory").await;
    let mallory = gateway
        .sign_in_from(None, "mallory", "mallory-password")
        .await
        .expect("mallory signs in");
    for attempt in [
        "mutation { updateUser(name: \"mallory\", input: { role: ADMIN }) { name } }",
        "mutation { setGrants(name: \"mallory\", grants: [{ cluster: \"*\" }]) { name } }",
        "mutation { updateUser(name: \"admin\", input: { password: \"taken-over-1\" }) { name } }",
        "mutation { createUser(input: { name: \"eve\", email: \"eve@example.com\", \
         password: \"eve-password\" }) { name } }",
    ] {
        let answer = gateway.graphql(Some(&mallory), attempt, json!({})).await;
        assert_eq!(code(&answer), "Forbidden", "{attempt}: {answer}");
    }

    let recorded = gateway
        .graphql(
            Some(&admin),
            "{ auditEvents(actor: \"mallory\") { edges { node { action target outcome detail } } } }",
            json!({}),
        )
        .await;
    let event = |action: &str, target: &str, detail: &str| json!({ "node": { "action": action, "target": target, "outcome": "Forbidden", "detail": detail } });
    assert_eq!(
        recorded["data"]["auditEvents"]["edges"],
        json!([
            event("user_created", "eve", "role: user"),
            event("user_updated", "admin", "fields: password"),
            event("grants_set", "mallory", "*/*"),
            event("user_updated", "mallory", "fields: role"),
            json!({ "node": { "action": "login", "target": "mallory", "outcome": "Success",
                              "detail": "method=password" } }),
        ]),
        "{recorded}"
    );
}
