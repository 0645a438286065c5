//! The watch cache, live pod events over WebSocket, and conditional requests,
//! driven by changing pods in the Kubernetes API simulator.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use kube_sim::{Fault, FaultRule, Simulator};
use osp_gateway::config::CacheMode;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{
    Message, client::IntoClientRequest, protocol::frame::coding::CloseCode,
};

use crate::helpers::{Backend, TestApp, TestDb, test_config, wait_until_synced, write_kubeconfig};

/// How long a test waits for something the gateway does by itself.
const PATIENCE: Duration = Duration::from_secs(20);

struct Live {
    db: TestDb,
    app: TestApp,
    token: String,
}

impl Live {
    async fn start(sim: &Simulator) -> Live {
        Self::start_with(sim, |_| {}).await
    }

    async fn start_with(
        sim: &Simulator,
        tweak: impl FnOnce(&mut osp_gateway::config::Config),
    ) -> Live {
        let db = TestDb::create(Backend::Sqlite).await;
        let mut config = test_config(&db);
        config.kubeconfig_paths = vec![write_kubeconfig(&[("sim", sim)])];
        config.cluster_timeout = Duration::from_secs(2);
        config.pod_cache = CacheMode::On;
        tweak(&mut config);
        let app = TestApp::start(config).await;
        let token = app.admin_token().await;
        let live = Live { db, app, token };
        live.wait_until_synced().await;
        live
    }

    async fn wait_until_synced(&self) {
        wait_until_synced(&self.app, &self.token).await;
    }

    async fn get(&self, path: &str, if_none_match: Option<&str>) -> reqwest::Response {
        let mut request = self
            .app
            .client
            .get(self.app.url(path))
            .bearer_auth(&self.token);
        if let Some(tag) = if_none_match {
            request = request.header("if-none-match", tag);
        }
        request.send().await.expect("answered")
    }

    async fn pod_list_version(&self) -> String {
        let answer = self
            .app
            .graphql(
                Some(&self.token),
                r#"{ podList(cluster: "sim") { version items { name } } }"#,
                json!({}),
            )
            .await;
        answer["data"]["podList"]["version"]
            .as_str()
            .expect("a cached list has a version")
            .to_owned()
    }

    /// Waits until the cache (not the API server) lists pod `name` in the
    /// `live` namespace.
    async fn wait_for_cached_pod(&self, name: &str) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let answer = self
                .app
                .graphql(
                    Some(&self.token),
                    r#"{ podList(cluster: "sim", namespace: "live") { version items { name } } }"#,
                    json!({}),
                )
                .await;
            let list = &answer["data"]["podList"];
            let cached = list["version"].is_string();
            if cached
                && list["items"]
                    .as_array()
                    .is_some_and(|items| items.iter().any(|p| p["name"] == name))
            {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{name} never reached the cache: {answer}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn finish(self) {
        self.app.stop().await;
        self.db.drop_database().await;
    }
}

pub(crate) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// An upgrade request to `/graphql/ws` offering graphql-transport-ws.
pub(crate) fn ws_request(
    app: &TestApp,
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let mut request = format!("ws://{}/graphql/ws", app.addr)
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    request
}

/// A graphql-transport-ws client.
pub(crate) async fn connect(app: &TestApp, payload: Value) -> Socket {
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_request(app))
        .await
        .expect("websocket connects");
    send(
        &mut socket,
        json!({"type": "connection_init", "payload": payload}),
    )
    .await;
    socket
}

pub(crate) async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::text(message.to_string()))
        .await
        .expect("sent");
}

/// The next protocol message, skipping pings; `Err` carries a close frame.
pub(crate) async fn next(socket: &mut Socket) -> Result<Value, (u16, String)> {
    loop {
        let message = tokio::time::timeout(PATIENCE, socket.next())
            .await
            .expect("a message in time")
            .expect("socket open")
            .expect("no socket error");
        match message {
            Message::Text(text) => {
                let value: Value = serde_json::from_str(&text).expect("json");
                if value["type"] == "ping" {
                    send(socket, json!({"type": "pong"})).await;
                    continue;
                }
                return Ok(value);
            }
            Message::Close(frame) => {
                let frame = frame.expect("close frame");
                return Err((u16::from(frame.code), frame.reason.to_string()));
            }
            _ => continue,
        }
    }
}

async fn subscribe(socket: &mut Socket, since: Option<&str>) {
    assert_eq!(next(socket).await.expect("ack")["type"], "connection_ack");
    send(
        socket,
        json!({
            "id": "1",
            "type": "subscribe",
            "payload": {
                "query": "subscription($since: String) { podEvents(cluster: \"sim\", since: $since) { type version pod { name namespace status ready } } }",
                "variables": {"since": since},
            }
        }),
    )
    .await;
}

/// The next podEvents event: (type, pod name, status).
async fn event(socket: &mut Socket) -> (String, String, String, String) {
    let message = next(socket).await.expect("an event");
    assert_eq!(message["type"], "next", "{message}");
    let event = &message["payload"]["data"]["podEvents"];
    (
        event["type"].as_str().unwrap_or_default().to_owned(),
        event["pod"]["name"].as_str().unwrap_or_default().to_owned(),
        event["pod"]["status"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        event["version"].as_str().unwrap_or_default().to_owned(),
    )
}

fn pod(name: &str, phase: &str, waiting: Option<&str>) -> Value {
    let state = match waiting {
        Some(reason) => json!({"waiting": {"reason": reason}}),
        None => json!({"running": {"startedAt": "2026-01-01T00:00:00Z"}}),
    };
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "live", "uid": format!("uid-{name}"),
                     "creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {"containers": [{"name": "app", "image": "app:1"}], "nodeName": "sim-worker-000"},
        "status": {"phase": phase, "containerStatuses": [{
            "name": "app", "image": "app:1", "imageID": "", "ready": waiting.is_none(),
            "restartCount": 0, "state": state
        }]}
    })
}

#[tokio::test]
async fn cached_reads_send_nothing_upstream_once_synced() {
    let sim = Simulator::builder()
        .generated_pods(200)
        .build_and_start()
        .await
        .expect("starts");
    let live = Live::start(&sim).await;
    sim.reset_counters();

    let list = live.get("/osp/api/pods/sim", None).await;
    assert_eq!(list.status(), StatusCode::OK);
    let body: Value = list.json().await.expect("json");
    assert_eq!(body["data"].as_array().expect("list").len(), 200);
    let first = &body["data"][0];
    let detail = live
        .get(
            &format!(
                "/osp/api/pods/sim/{}/{}",
                first["namespace"].as_str().expect("ns"),
                first["name"].as_str().expect("name")
            ),
            None,
        )
        .await;
    assert_eq!(detail.status(), StatusCode::OK);
    let gql = live
        .app
        .graphql(
            Some(&live.token),
            r#"{ pods(cluster: "sim") { name node { name } workload { kind name } } }"#,
            json!({}),
        )
        .await;
    assert!(gql["errors"].is_null(), "{gql}");

    let counters = sim.counters();
    for kind in [
        "list pods",
        "get pod",
        "list nodes",
        "get node",
        "list replicasets",
        "get replicaset",
    ] {
        assert_eq!(counters.get(kind), 0, "{kind}: {counters}");
    }
    live.finish().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn list_then_subscribe_sees_every_change_once_and_in_order() {
    let sim = Simulator::builder()
        .generated_pods(5)
        .build_and_start()
        .await
        .expect("starts");
    let live = Live::start(&sim).await;
    let version = live.pod_list_version().await;

    // Changes between the list and the subscription are replayed...
    sim.upsert_pod(pod("web-1", "Pending", Some("ContainerCreating")));
    sim.upsert_pod(pod("web-1", "Running", None));
    let mut socket = connect(
        &live.app,
        json!({"Authorization": format!("Bearer {}", live.token)}),
    )
    .await;
    subscribe(&mut socket, Some(&version)).await;
    let (kind, name, status, _) = event(&mut socket).await;
    assert_eq!(
        (kind.as_str(), name.as_str(), status.as_str()),
        ("ADDED", "web-1", "ContainerCreating")
    );
    let (kind, _, status, _) = event(&mut socket).await;
    assert_eq!((kind.as_str(), status.as_str()), ("MODIFIED", "Running"));

    // ...and later ones arrive live, with kubectl's status.
    sim.upsert_pod(pod("web-1", "Running", Some("CrashLoopBackOff")));
    let (kind, _, status, resume_from) = event(&mut socket).await;
    assert_eq!(
        (kind.as_str(), status.as_str()),
        ("MODIFIED", "CrashLoopBackOff")
    );
    sim.delete_pod("live", "web-1");
    let (kind, name, _, _) = event(&mut socket).await;
    assert_eq!((kind.as_str(), name.as_str()), ("DELETED", "web-1"));

    // Resuming from an event's version replays exactly what came after it.
    let mut again = connect(
        &live.app,
        json!({"Authorization": format!("Bearer {}", live.token)}),
    )
    .await;
    subscribe(&mut again, Some(&resume_from)).await;
    let (kind, name, _, _) = event(&mut again).await;
    assert_eq!((kind.as_str(), name.as_str()), ("DELETED", "web-1"));
    live.finish().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn subscriptions_outlive_the_request_timeout_and_caches_show_in_metrics() {
    let sim = Simulator::builder()
        .generated_pods(4)
        .build_and_start()
        .await
        .expect("starts");
    let live = Live::start_with(&sim, |c| c.request_timeout = Duration::from_secs(1)).await;
    let mut socket = connect(
        &live.app,
        json!({"Authorization": format!("Bearer {}", live.token)}),
    )
    .await;
    subscribe(&mut socket, None).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    sim.upsert_pod(pod("patient", "Running", None));
    let (kind, name, _, _) = event(&mut socket).await;
    assert_eq!((kind.as_str(), name.as_str()), ("ADDED", "patient"));

    let metrics = live
        .app
        .client
        .get(live.app.url("/metrics"))
        .send()
        .await
        .expect("answered");
    let text = metrics.text().await.expect("text");
    let pods_line = text
        .lines()
        .find(|l| l.contains("cache") && l.contains("cluster=\"sim\"") && l.contains("pods"))
        .unwrap_or_else(|| panic!("a pod cache gauge in:\n{text}"));
    assert!(pods_line.ends_with(" 5"), "{pods_line}");
    live.finish().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn an_unknown_version_gets_an_explicit_resync() {
    let sim = Simulator::builder()
        .generated_pods(3)
        .build_and_start()
        .await
        .expect("starts");
    let live = Live::start(&sim).await;
    let mut socket = connect(&live.app, json!({"token": live.token})).await;
    subscribe(&mut socket, Some("ffff.12")).await;
    let (kind, _, _, version) = event(&mut socket).await;
    assert_eq!(kind, "RESYNC");
    assert_eq!(
        version,
        live.pod_list_version().await,
        "RESYNC names the version to list from"
    );
    sim.upsert_pod(pod("after-resync", "Running", None));
    let (kind, name, _, _) = event(&mut socket).await;
    assert_eq!((kind.as_str(), name.as_str()), ("ADDED", "after-resync"));
    live.finish().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn changes_missed_while_the_watch_was_down_still_arrive_after_410() {
    let sim = Simulator::builder()
        .generated_pods(3)
        .build_and_start()
        .await
        .expect("starts");
    sim.upsert_pod(pod("doomed", "Running", None));
    let live = Live::start(&sim).await;
    let mut socket = connect(
        &live.app,
        json!({"Authorization": format!("Bearer {}", live.token)}),
    )
    .await;
    subscribe(&mut socket, None).await;

    // Cut the pod watch, change pods behind its back, forget the history so
    // resuming gets 410 Gone, then let it reconnect.
    sim.reset_counters();
    sim.add_fault(FaultRule::new(Fault::Status(500)).path_prefix("/api/v1/pods"));
    sim.close_watches();
    sim.upsert_pod(pod("born-offline", "Running", None));
    sim.delete_pod("live", "doomed");
    sim.compact_history();
    sim.clear_faults();

    let mut seen = [event(&mut socket).await, event(&mut socket).await];
    seen.sort();
    let seen: Vec<(&str, &str)> = seen
        .iter()
        .map(|(k, n, _, _)| (k.as_str(), n.as_str()))
        .collect();
    assert_eq!(seen, [("ADDED", "born-offline"), ("DELETED", "doomed")]);
    // What brought them was a fresh list of pods, not the old watch.
    assert!(
        sim.counters().get("list pods") >= 1,
        "the cache relisted: {:?}",
        sim.counters()
    );
    live.finish().await;
    sim.shutdown().await;
}

/// Waits until the simulator has counted `at_least` requests named `name`.
async fn wait_for_count(sim: &Simulator, name: &str, at_least: u64) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while sim.counters().get(name) < at_least {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{name}: {}",
            sim.counters()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn dropped_watches_resume_from_their_resource_version_without_a_new_list() {
    let sim = Simulator::builder()
        .generated_pods(20)
        .build_and_start()
        .await
        .expect("starts");
    let live = Live::start(&sim).await;
    sim.reset_counters();

    for round in 0..3 {
        // A flaky link: every watch connection breaks, and the first attempt
        // to watch pods again fails too.
        sim.add_fault(
            FaultRule::new(Fault::Status(503))
                .path_prefix("/api/v1/pods")
                .watches(true)
                .times(1),
        );
        sim.drop_watch_connections();
        // A change while the watch is down still arrives once it resumes.
        let name = format!("after-drop-{round}");
        sim.upsert_pod(pod(&name, "Running", None));
        live.wait_for_cached_pod(&name).await;
    }

    let counters = sim.counters();
    // Each round: the failed re-watch and the one that resumed.
    assert!(counters.get("watch pods") >= 6, "{counters}");
    for kind in ["list pods", "list nodes", "list replicasets", "get pod"] {
        assert_eq!(counters.get(kind), 0, "{kind}: {counters}");
    }
    live.finish().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_watch_ended_by_an_error_event_resumes_unless_it_is_410_gone() {
    let sim = Simulator::builder()
        .generated_pods(20)
        .build_and_start()
        .await
        .expect("starts");
    let live = Live::start(&sim).await;
    sim.reset_counters();

    // An internal error mid-watch: resumed, nothing listed.
    sim.fail_watches(500);
    sim.upsert_pod(pod("after-500", "Running", None));
    live.wait_for_cached_pod("after-500").await;
    let counters = sim.counters();
    for kind in ["list pods", "list nodes", "list replicasets"] {
        assert_eq!(counters.get(kind), 0, "{kind}: {counters}");
    }

    // 410 Gone mid-watch: every kind lists again, exactly once.
    sim.fail_watches(410);
    sim.upsert_pod(pod("after-410", "Running", None));
    live.wait_for_cached_pod("after-410").await;
    for kind in ["list pods", "list nodes", "list replicasets"] {
        wait_for_count(&sim, kind, 1).await;
    }
    live.wait_until_synced().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let counters = sim.counters();
    for kind in ["list pods", "list nodes", "list replicasets"] {
        assert_eq!(counters.get(kind), 1, "{kind}: {counters}");
    }
    live.finish().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_watch_request_answered_410_gone_lists_again_once() {
    let sim = Simulator::builder()
        .generated_pods(20)
        .build_and_start()
        .await
        .expect("starts");
    let live = Live::start(&sim).await;
    sim.reset_counters();

    // The pod watch ends, and watching again from its resourceVersion is
    // refused with 410 itself rather than with an ERROR event.
    sim.add_fault(
        FaultRule::new(Fault::Status(410))
            .path_prefix("/api/v1/pods")
            .watches(true)
            .times(1),
    );
    sim.close_watches();
    sim.upsert_pod(pod("after-gone", "Running", None));
    live.wait_for_cached_pod("after-gone").await;
    wait_for_count(&sim, "list pods", 1).await;
    live.wait_until_synced().await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let counters = sim.counters();
    assert_eq!(counters.get("list pods"), 1, "{counters}");
    for kind in ["list nodes", "list replicasets"] {
        assert_eq!(counters.get(kind), 0, "{kind}: {counters}");
    }
    live.finish().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_quiet_cache_is_fresh_again_once_its_watch_resumes_without_a_new_list() {
    let sim = Simulator::builder()
        .generated_pods(10)
        .build_and_start()
        .await
        .expect("starts");
    let live = Live::start_with(&sim, |c| c.cache_stale_after = Duration::from_secs(1)).await;
    sim.reset_counters();

    // Watches cannot be renewed for longer than the staleness bound...
    sim.add_fault(FaultRule::new(Fault::Status(503)).watches(true));
    sim.close_watches();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let answer = live
            .app
            .graphql(
                Some(&live.token),
                "{ clusters { cache { pods { fresh } } } }",
                json!({}),
            )
            .await;
        if answer["data"]["clusters"][0]["cache"]["pods"]["fresh"] == false {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{answer}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // ...then they can: with no object changing, the accepted watches alone
    // make the caches fresh again, and nothing was listed.
    sim.clear_faults();
    live.wait_until_synced().await;
    let counters = sim.counters();
    for kind in ["list pods", "list nodes", "list replicasets"] {
        assert_eq!(counters.get(kind), 0, "{kind}: {counters}");
    }
    live.finish().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn bad_tokens_close_the_socket_with_a_reason_and_expiry_closes_it_with_4401() {
    let sim = Simulator::builder()
        .generated_pods(1)
        .build_and_start()
        .await
        .expect("starts");
    let live = Live::start_with(&sim, |c| c.token_ttl = Duration::from_secs(3)).await;

    let mut anonymous = connect(&live.app, json!({})).await;
    let (code, reason) = next(&mut anonymous).await.expect_err("closed");
    assert_eq!(code, 4403);
    assert!(reason.starts_with("missing token"), "{reason}");

    let mut forged = connect(&live.app, json!({"Authorization": "Bearer not.a.token"})).await;
    assert_eq!(
        next(&mut forged).await.expect_err("closed"),
        (4403, "invalid token".to_owned())
    );

    let token = live.app.admin_token().await;
    let mut socket = connect(
        &live.app,
        json!({"Authorization": format!("Bearer {token}")}),
    )
    .await;
    subscribe(&mut socket, None).await;
    let closed = loop {
        match next(&mut socket).await {
            Ok(_) => continue,
            Err(close) => break close,
        }
    };
    assert_eq!(
        closed,
        (
            u16::from(CloseCode::Library(4401)),
            "token expired".to_owned()
        )
    );

    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut late = connect(
        &live.app,
        json!({"Authorization": format!("Bearer {token}")}),
    )
    .await;
    assert_eq!(
        next(&mut late).await.expect_err("closed"),
        (4401, "token expired".to_owned())
    );
    live.finish().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_password_change_reaches_open_sockets_and_idle_sockets_are_closed() {
    let sim = Simulator::builder()
        .generated_pods(1)
        .build_and_start()
        .await
        .expect("starts");
    let live = Live::start(&sim).await;
    let admin = live.token.clone();
    let carol = live.app.user_with_token(&admin, "carol").await;

    let mut socket = connect(
        &live.app,
        json!({"Authorization": format!("Bearer {carol}")}),
    )
    .await;
    subscribe(&mut socket, None).await;
    let changed = live
        .app
        .send(
            Method::PUT,
            "/osp/api/users/carol",
            Some(&admin),
            Some(json!({"password": "carol-new-password"})),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK);

    // The change was made on this gateway: the connection is closed at once,
    // not at the next periodic check.
    let closed = loop {
        match next(&mut socket).await {
            Ok(_) => continue,
            Err(close) => break close,
        }
    };
    assert_eq!(closed, (4403, "token no longer valid".to_owned()));

    // A socket that never sends connection_init is not kept.
    let mut request = format!("ws://{}/graphql/ws", live.app.addr)
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    let (mut idle, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connects");
    assert_eq!(
        next(&mut idle).await.expect_err("closed"),
        (4408, "connection initialisation timeout".to_owned())
    );
    live.finish().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn unchanged_pods_answer_304_and_changes_give_a_new_etag() {
    let sim = Simulator::builder()
        .generated_pods(20)
        .build_and_start()
        .await
        .expect("starts");
    let live = Live::start(&sim).await;

    let first = live.get("/osp/api/pods/sim", None).await;
    assert_eq!(first.status(), StatusCode::OK);
    let tag = first.headers()["etag"].to_str().expect("etag").to_owned();
    let first_body = first.bytes().await.expect("body");

    let again = live.get("/osp/api/pods/sim", Some(&tag)).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()["etag"], tag.as_str());
    assert!(again.bytes().await.expect("body").is_empty());

    // Another filter is another resource with its own tag.
    let filtered = live
        .get("/osp/api/pods/sim?namespace=payments", Some(&tag))
        .await;
    assert_eq!(filtered.status(), StatusCode::OK);
    assert_ne!(filtered.headers()["etag"], tag.as_str());

    // The same list again is the very same body.
    let repeat = live.get("/osp/api/pods/sim", None).await;
    assert_eq!(repeat.bytes().await.expect("body"), first_body);

    sim.upsert_pod(pod("newcomer", "Running", None));
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let changed = loop {
        let answer = live.get("/osp/api/pods/sim", Some(&tag)).await;
        if answer.status() == StatusCode::OK {
            break answer;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the change never showed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_ne!(changed.headers()["etag"], tag.as_str());
    let body: Value = changed.json().await.expect("json");
    assert!(
        body["data"]
            .as_array()
            .expect("list")
            .iter()
            .any(|p| p["name"] == "newcomer")
    );

    let detail = live
        .get("/osp/api/pods/sim/live/newcomer?output=yaml", None)
        .await;
    let detail_tag = detail.headers()["etag"].to_str().expect("etag").to_owned();
    let cached = live
        .get(
            "/osp/api/pods/sim/live/newcomer?output=yaml",
            Some(&detail_tag),
        )
        .await;
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);
    let as_json = live
        .get("/osp/api/pods/sim/live/newcomer", Some(&detail_tag))
        .await;
    assert_eq!(
        as_json.status(),
        StatusCode::OK,
        "JSON and YAML are different resources"
    );

    // A stale tag is no way around authorization.
    let anonymous = live
        .app
        .client
        .get(live.app.url("/osp/api/pods/sim"))
        .header("if-none-match", tag)
        .send()
        .await
        .expect("answered");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    live.finish().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_cluster_whose_watch_cannot_be_kept_is_not_served_stale() {
    let sim = Simulator::builder()
        .generated_pods(10)
        .build_and_start()
        .await
        .expect("starts");
    let live = Live::start_with(&sim, |c| c.cache_stale_after = Duration::from_secs(1)).await;
    assert_eq!(
        live.get("/osp/api/pods/sim", None).await.status(),
        StatusCode::OK
    );

    sim.set_fault(Fault::Status(503));
    sim.close_watches();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let answer = live
            .app
            .send(Method::GET, "/osp/api/pods/sim", Some(&live.token), None)
            .await;
        if answer.status == StatusCode::BAD_GATEWAY {
            assert_eq!(answer.body["code"], "ClusterUnavailable");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still served from a dead watch: {:?}",
            answer.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    sim.set_fault(Fault::None);
    live.wait_until_synced().await;
    assert_eq!(
        live.get("/osp/api/pods/sim", None).await.status(),
        StatusCode::OK
    );
    live.finish().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn requests_during_the_first_sync_wait_for_it_and_cost_no_list_of_their_own() {
    let sim = Simulator::builder()
        .generated_pods(60)
        .build_and_start()
        .await
        .expect("starts");
    // The cache's first list of pods takes a while to arrive.
    sim.add_fault(
        FaultRule::new(Fault::Latency(Duration::from_millis(1200)))
            .path_prefix("/api/v1/pods")
            .times(1),
    );
    let db = TestDb::create(Backend::Sqlite).await;
    let app = TestApp::with_clusters(&db, &[("sim", &sim)], CacheMode::On).await;
    let token = app.admin_token().await;

    let rest = (0..8).map(|_| app.send(Method::GET, "/osp/api/pods/sim", Some(&token), None));
    let graphql = (0..4).map(|_| {
        app.graphql(
            Some(&token),
            r#"{ pods(cluster: "sim") { name node { name } } }"#,
            json!({}),
        )
    });
    let (rest, graphql) = tokio::join!(
        futures_util::future::join_all(rest),
        futures_util::future::join_all(graphql)
    );

    for answer in rest {
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
        assert_eq!(answer.body["data"].as_array().map(Vec::len), Some(60));
    }
    for answer in graphql {
        assert_eq!(
            answer["data"]["pods"].as_array().map(Vec::len),
            Some(60),
            "{answer}"
        );
    }
    let counters = sim.counters();
    assert_eq!(
        counters.get("list pods"),
        1,
        "the cache's own list only: {counters}"
    );
    assert!(counters.get("list nodes") <= 1, "{counters}");
    app.stop().await;
    db.drop_database().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_cache_whose_first_list_fails_leaves_reads_to_the_api_server() {
    let sim = Simulator::builder()
        .generated_pods(12)
        .build_and_start()
        .await
        .expect("starts");
    // The cluster-wide list the cache needs is refused (as for a gateway
    // allowed to read some namespaces only); namespaced reads are not.
    sim.add_fault(FaultRule::new(Fault::Status(403)).path_prefix("/api/v1/pods"));
    let namespace = sim.pods()[0]["metadata"]["namespace"]
        .as_str()
        .expect("namespace")
        .to_owned();
    let db = TestDb::create(Backend::Sqlite).await;
    let app = TestApp::with_clusters(&db, &[("sim", &sim)], CacheMode::On).await;
    let token = app.admin_token().await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let started = std::time::Instant::now();
    let answer = app
        .graphql(
            Some(&token),
            "query($ns: String) { pods(cluster: \"sim\", namespace: $ns) { name } }",
            json!({ "ns": namespace }),
        )
        .await;

    assert!(answer["errors"].is_null(), "{answer}");
    assert!(!answer["data"]["pods"].as_array().expect("pods").is_empty());
    // The test gateways' cluster timeout is 2 s: the read did not wait it out.
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    app.stop().await;
    db.drop_database().await;
    sim.shutdown().await;
}
