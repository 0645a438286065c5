//! Container logs: `podLogs`, the `podLogLines` follow and the REST route,
//! against the Kubernetes API simulator over real HTTP: every option, every
//! error, sharing, reopening, limits, grants and the audit trail. Most run
//! in process; the transport tests (a REST follow, a WebSocket follow) start
//! a gateway.

use std::time::Duration;

use axum::http::Method;
use futures_util::StreamExt;
use kube_sim::Simulator;
use serde_json::{Value, json};

use crate::{
    helpers::write_kubeconfig,
    inprocess::{Gateway, code},
};

const CLUSTER: &str = "c";

/// Pods labelled `app=web`: `web-1` (team-a): init container `init-db`
/// done, `app` running, `sidecar` crash-looping; `solo-1` (team-a): one
/// running `app`; `new-1` (team-a): its container still being created;
/// `db-0` (team-b): running.
fn pods() -> Vec<Value> {
    let running = |name: &str| {
        json!({ "name": name, "restartCount": 0, "ready": true,
                "state": { "running": { "startedAt": "2024-05-01T10:00:05Z" } } })
    };
    let pod = |ns: &str, name: &str, containers: Value, statuses: Value| {
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": { "name": name, "namespace": ns, "uid": format!("uid-{name}"),
                          "creationTimestamp": "2024-05-01T10:00:00Z", "labels": { "app": "web" } },
            "spec": { "nodeName": "n1", "containers": containers },
            "status": { "phase": "Running", "containerStatuses": statuses }
        })
    };
    let mut web = pod(
        "team-a",
        "web-1",
        json!([{ "name": "app", "image": "nginx" }, { "name": "sidecar", "image": "envoy" }]),
        json!([running("app"), {
            "name": "sidecar", "restartCount": 3, "ready": false,
            "state": { "waiting": { "reason": "CrashLoopBackOff" } },
            "lastState": { "terminated": { "exitCode": 1, "reason": "Error",
                "startedAt": "2024-05-01T10:30:00Z", "finishedAt": "2024-05-01T10:31:00Z" } } }]),
    );
    web["spec"]["initContainers"] = json!([{ "name": "init-db", "image": "busybox" }]);
    web["status"]["initContainerStatuses"] = json!([{ "name": "init-db", "restartCount": 0,
        "ready": true, "state": { "terminated": { "exitCode": 0, "reason": "Completed",
        "startedAt": "2024-05-01T10:00:01Z", "finishedAt": "2024-05-01T10:00:03Z" } } }]);
    vec![
        web,
        pod(
            "team-a",
            "solo-1",
            json!([{ "name": "app", "image": "nginx" }]),
            json!([running("app")]),
        ),
        pod(
            "team-a",
            "new-1",
            json!([{ "name": "app", "image": "nginx" }]),
            json!([{ "name": "app", "restartCount": 0, "ready": false,
                     "state": { "waiting": { "reason": "ContainerCreating" } } }]),
        ),
        pod(
            "team-b",
            "db-0",
            json!([{ "name": "db", "image": "postgres" }]),
            json!([running("db")]),
        ),
    ]
}

async fn simulator() -> Simulator {
    Simulator::builder()
        .pods(pods())
        .log_lines(20)
        .build_and_start()
        .await
        .expect("simulator starts")
}

async fn gateway_with(
    sim: &Simulator,
    tweak: impl FnOnce(&mut osp_gateway::config::Config),
) -> Gateway {
    let kubeconfig = write_kubeconfig(&[(CLUSTER, sim)]);
    Gateway::with(|config| {
        config.kubeconfig_paths = vec![kubeconfig];
        config.cluster_timeout = Duration::from_secs(5);
        tweak(config);
    })
    .await
}

const POD_LOGS: &str = "query($ns: String!, $pod: String!, $container: String, $previous: Boolean! = false, \
    $tail: Int, $sinceSeconds: Int, $sinceTime: String, $timestamps: Boolean! = false, $limit: Int) { \
    podLogs(cluster: \"c\", namespace: $ns, name: $pod, container: $container, previous: $previous, \
    tailLines: $tail, sinceSeconds: $sinceSeconds, sinceTime: $sinceTime, timestamps: $timestamps, \
    limitBytes: $limit) { container truncated lines { time text } } }";

const FOLLOW: &str = "subscription($ns: String!, $pod: String!, $container: String, $previous: Boolean! = false, \
    $tail: Int, $sinceSeconds: Int, $timestamps: Boolean! = false) { \
    podLogLines(cluster: \"c\", namespace: $ns, name: $pod, container: $container, previous: $previous, \
    tailLines: $tail, sinceSeconds: $sinceSeconds, timestamps: $timestamps) { time text } }";

fn texts(log: &Value) -> Vec<String> {
    log["lines"]
        .as_array()
        .unwrap_or_else(|| panic!("lines in {log}"))
        .iter()
        .map(|line| line["text"].as_str().expect("text").to_owned())
        .collect()
}

async fn read(gateway: &Gateway, token: &str, variables: Value) -> Value {
    gateway.graphql(Some(token), POD_LOGS, variables).await
}

#[tokio::test]
async fn pod_logs_reads_with_every_option() {
    let sim = simulator().await;
    let gateway = gateway_with(&sim, |_| {}).await;
    let admin = gateway.admin_token().await;

    // One container: it needs no name; every line, no times.
    let answer = read(&gateway, &admin, json!({ "ns": "team-a", "pod": "solo-1" })).await;
    let log = &answer["data"]["podLogs"];
    assert_eq!(log["container"], "app", "{answer}");
    assert_eq!(log["truncated"], false);
    let all = texts(log);
    assert_eq!(all.len(), 20);
    assert_eq!(all[0], "starting app in pod solo-1");
    assert!(log["lines"][0]["time"].is_null());

    let answer = read(
        &gateway,
        &admin,
        json!({ "ns": "team-a", "pod": "solo-1", "tail": 3 }),
    )
    .await;
    assert_eq!(texts(&answer["data"]["podLogs"]), all[17..]);

    let answer = read(
        &gateway,
        &admin,
        json!({ "ns": "team-a", "pod": "solo-1", "tail": 1, "timestamps": true }),
    )
    .await;
    assert_eq!(
        answer["data"]["podLogs"]["lines"],
        json!([{ "time": "2024-05-01T10:00:24.000000000Z", "text": all[19] }])
    );

    let answer = read(
        &gateway,
        &admin,
        json!({ "ns": "team-a", "pod": "solo-1", "sinceTime": "2024-05-01T10:00:21Z" }),
    )
    .await;
    assert_eq!(texts(&answer["data"]["podLogs"]), all[16..]);

    let answer = read(
        &gateway,
        &admin,
        json!({ "ns": "team-a", "pod": "solo-1", "sinceSeconds": 60 }),
    )
    .await;
    assert_eq!(texts(&answer["data"]["podLogs"]), Vec::<String>::new());
    assert!(sim.append_log("team-a", "solo-1", "app", &["just now"]));
    let answer = read(
        &gateway,
        &admin,
        json!({ "ns": "team-a", "pod": "solo-1", "sinceSeconds": 60 }),
    )
    .await;
    assert_eq!(texts(&answer["data"]["podLogs"]), ["just now"]);

    // limitBytes cuts the log, mid-line as kubectl does, and says so.
    let answer = read(
        &gateway,
        &admin,
        json!({ "ns": "team-a", "pod": "solo-1", "limit": 10 }),
    )
    .await;
    assert_eq!(texts(&answer["data"]["podLogs"]), ["starting a"]);
    assert_eq!(answer["data"]["podLogs"]["truncated"], true);

    // The init container, and the previous instance of a crashing one.
    let answer = read(
        &gateway,
        &admin,
        json!({ "ns": "team-a", "pod": "web-1", "container": "init-db", "tail": 1 }),
    )
    .await;
    assert_eq!(
        answer["data"]["podLogs"]["container"], "init-db",
        "{answer}"
    );
    let answer = read(
        &gateway,
        &admin,
        json!({ "ns": "team-a", "pod": "web-1", "container": "sidecar", "previous": true, "tail": 1 }),
    )
    .await;
    let last = texts(&answer["data"]["podLogs"]);
    assert!(last[0].ends_with("connection refused"), "{answer}");
}

#[tokio::test]
async fn pod_logs_errors_say_what_is_wrong() {
    let sim = simulator().await;
    let gateway = gateway_with(&sim, |_| {}).await;
    let admin = gateway.admin_token().await;
    let cases = [
        (
            json!({ "ns": "team-a", "pod": "web-1" }),
            "InvalidParameter",
            "give one of: app, sidecar (init containers: init-db)",
        ),
        (
            json!({ "ns": "team-a", "pod": "web-1", "container": "db" }),
            "InvalidParameter",
            "has no container db",
        ),
        (
            json!({ "ns": "team-a", "pod": "solo-1", "previous": true }),
            "InvalidParameter",
            r#"previous terminated container "app" in pod "solo-1" not found"#,
        ),
        (
            json!({ "ns": "team-a", "pod": "new-1" }),
            "InvalidParameter",
            "is waiting to start: ContainerCreating",
        ),
        (
            json!({ "ns": "team-a", "pod": "solo-1", "tail": -1 }),
            "InvalidParameter",
            "tailLines",
        ),
        (
            json!({ "ns": "team-a", "pod": "solo-1", "sinceSeconds": 0 }),
            "InvalidParameter",
            "sinceSeconds",
        ),
        (
            json!({ "ns": "team-a", "pod": "solo-1", "limit": 0 }),
            "InvalidParameter",
            "limitBytes",
        ),
        (
            json!({ "ns": "team-a", "pod": "solo-1", "sinceTime": "yesterday" }),
            "InvalidParameter",
            "RFC 3339",
        ),
        (
            json!({ "ns": "team-a", "pod": "solo-1", "container": "App!" }),
            "InvalidParameter",
            "container name",
        ),
        (
            json!({ "ns": "team-a", "pod": "gone-1" }),
            "PodNotFound",
            "gone-1",
        ),
    ];
    for (variables, want, says) in cases {
        let answer = read(&gateway, &admin, variables.clone()).await;
        assert_eq!(code(&answer), want, "{variables}: {answer}");
        let message = answer["errors"][0]["message"].as_str().expect("message");
        assert!(message.contains(says), "{variables}: {message}");
    }
    let answer = gateway
        .graphql(
            Some(&admin),
            r#"{ podLogs(cluster: "nope", namespace: "a", name: "b") { container } }"#,
            json!({}),
        )
        .await;
    assert_eq!(code(&answer), "ClusterNotFound", "{answer}");
}

#[tokio::test]
async fn long_lines_are_cut_and_reads_are_capped() {
    let sim = simulator().await;
    let gateway = gateway_with(&sim, |config| {
        config.log_line_bytes = 16;
        config.log_max_bytes = 100;
    })
    .await;
    let admin = gateway.admin_token().await;
    assert!(sim.append_log("team-a", "solo-1", "app", &["0123456789abcdefghij"]));
    let answer = read(
        &gateway,
        &admin,
        json!({ "ns": "team-a", "pod": "solo-1", "tail": 1 }),
    )
    .await;
    assert_eq!(
        texts(&answer["data"]["podLogs"]),
        ["0123456789abcdef [cut]"],
        "{answer}"
    );
    let answer = read(&gateway, &admin, json!({ "ns": "team-a", "pod": "solo-1" })).await;
    let log = &answer["data"]["podLogs"];
    assert_eq!(log["truncated"], true, "{answer}");
    let bytes: usize = texts(log).iter().map(|t| t.len() + 1).sum();
    assert!(bytes <= 100 + 1, "{bytes} bytes");
    // limitBytes above the cap is held to it.
    let answer = read(
        &gateway,
        &admin,
        json!({ "ns": "team-a", "pod": "solo-1", "limit": 100_000 }),
    )
    .await;
    assert_eq!(answer["data"]["podLogs"]["truncated"], true, "{answer}");
}

/// The audit events of `action`, newest first, once at least `count` are there.
async fn audited(gateway: &Gateway, admin: &str, actor: &str, count: usize) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let answer = gateway
            .graphql(
                Some(admin),
                "query($actor: String) { auditEvents(actor: $actor, action: \"pod_logs_read\") { edges { node { target outcome detail } } } }",
                json!({ "actor": actor }),
            )
            .await;
        let events: Vec<Value> = answer["data"]["auditEvents"]["edges"]
            .as_array()
            .unwrap_or_else(|| panic!("events in {answer}"))
            .iter()
            .map(|edge| edge["node"].clone())
            .collect();
        if events.len() >= count {
            return events;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{count} events expected: {events:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_namespace_user_reads_logs_of_their_namespace_only_and_every_read_is_audited() {
    let sim = simulator().await;
    let gateway = gateway_with(&sim, |_| {}).await;
    let admin = gateway.admin_token().await;
    let alice = gateway
        .user_with_grants(
            &admin,
            "alice",
            json!([{ "cluster": "c", "namespace": "team-a" }]),
        )
        .await;
    let answer = read(
        &gateway,
        &alice,
        json!({ "ns": "team-a", "pod": "solo-1", "tail": 1 }),
    )
    .await;
    assert!(answer["errors"].is_null(), "{answer}");
    let answer = read(&gateway, &alice, json!({ "ns": "team-b", "pod": "db-0" })).await;
    assert_eq!(code(&answer), "Forbidden", "{answer}");
    let mut follow = gateway
        .subscribe(
            Some(&alice),
            FOLLOW,
            json!({ "ns": "team-b", "pod": "db-0" }),
        )
        .await;
    let refused = follow.next().await.expect("an answer");
    assert_eq!(code(&refused), "Forbidden", "{refused}");
    assert_eq!(
        sim.counters().get("get pods/log"),
        1,
        "nothing read upstream for her"
    );
    assert_eq!(sim.counters().get("follow pods/log"), 0);

    let events = audited(&gateway, &admin, "alice", 3).await;
    assert_eq!(
        events,
        [
            json!({ "target": "c/team-b/db-0", "outcome": "Forbidden", "detail": "follow" }),
            json!({ "target": "c/team-b/db-0", "outcome": "Forbidden", "detail": null }),
            json!({ "target": "c/team-a/solo-1/app", "outcome": "Success", "detail": null }),
        ]
    );
}

/// The next line of a follow (its text), or `None` when it ended.
async fn line(follow: &mut (impl futures_util::Stream<Item = Value> + Unpin)) -> Option<String> {
    let answer = tokio::time::timeout(Duration::from_secs(10), follow.next())
        .await
        .expect("a line in time")?;
    assert!(answer["errors"].is_null(), "{answer}");
    Some(
        answer["data"]["podLogLines"]["text"]
            .as_str()
            .unwrap_or_else(|| panic!("a line in {answer}"))
            .to_owned(),
    )
}

async fn lines(
    follow: &mut (impl futures_util::Stream<Item = Value> + Unpin),
    n: usize,
) -> Vec<String> {
    let mut got = Vec::new();
    for _ in 0..n {
        got.push(line(follow).await.expect("a line"));
    }
    got
}

#[tokio::test]
async fn followers_of_a_container_share_one_upstream_stream() {
    let sim = simulator().await;
    let gateway = gateway_with(&sim, |_| {}).await;
    let admin = gateway.admin_token().await;
    let follow = |tail: i32| {
        gateway.subscribe(
            Some(&admin),
            FOLLOW,
            json!({ "ns": "team-a", "pod": "solo-1", "tail": tail }),
        )
    };
    let solo = lines_of_solo(&sim).await;
    let mut first = follow(2).await;
    assert_eq!(lines(&mut first, 2).await, solo[18..]);
    let mut second = follow(2).await;
    assert_eq!(lines(&mut second, 2).await, solo[18..]);
    assert!(sim.append_log("team-a", "solo-1", "app", &["a", "b"]));
    assert_eq!(lines(&mut first, 2).await, ["a", "b"]);
    assert_eq!(lines(&mut second, 2).await, ["a", "b"]);
    assert_eq!(
        sim.counters().get("follow pods/log"),
        1,
        "one upstream stream"
    );
    let reads = sim.counters().get("get pods/log");
    // A joiner the kept lines cover is served from them...
    let mut third = follow(3).await;
    assert_eq!(lines(&mut third, 3).await[1..], ["a", "b"]);
    assert_eq!(
        sim.counters().get("get pods/log"),
        reads,
        "served from the kept lines"
    );
    // ...one reaching further back reads once, then shares the stream.
    let mut fourth = follow(6).await;
    let got = lines(&mut fourth, 6).await;
    assert_eq!(got[4..], ["a", "b"]);
    assert_eq!(sim.counters().get("get pods/log"), reads + 1);
    assert!(sim.append_log("team-a", "solo-1", "app", &["c"]));
    for follow in [&mut first, &mut second, &mut third, &mut fourth] {
        assert_eq!(line(follow).await.as_deref(), Some("c"));
    }
    assert_eq!(sim.counters().get("follow pods/log"), 1);
    // The upstream stream closes when the last follower leaves.
    drop((first, second, third, fourth));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while sim.open_log_follows() > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the upstream stream stays open"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The log of `solo-1`'s `app` as the simulator has it.
async fn lines_of_solo(sim: &Simulator) -> Vec<String> {
    let body = reqwest::get(format!(
        "{}/api/v1/namespaces/team-a/pods/solo-1/log?container=app",
        sim.url()
    ))
    .await
    .expect("log")
    .text()
    .await
    .expect("text");
    body.lines().map(str::to_owned).collect()
}

#[tokio::test]
async fn a_dropped_stream_is_reopened_without_duplicates_or_gaps_and_a_stopped_container_ends_it() {
    let sim = simulator().await;
    let gateway = gateway_with(&sim, |_| {}).await;
    let admin = gateway.admin_token().await;
    let mut follow = gateway
        .subscribe(
            Some(&admin),
            FOLLOW,
            json!({ "ns": "team-a", "pod": "solo-1", "tail": 1 }),
        )
        .await;
    assert_eq!(lines(&mut follow, 1).await.len(), 1);
    assert!(sim.append_log("team-a", "solo-1", "app", &["x1", "x2"]));
    assert_eq!(lines(&mut follow, 2).await, ["x1", "x2"]);
    sim.drop_log_streams();
    assert!(sim.append_log("team-a", "solo-1", "app", &["x3"]));
    assert_eq!(line(&mut follow).await.as_deref(), Some("x3"));
    assert!(sim.append_log("team-a", "solo-1", "app", &["x4"]));
    assert_eq!(line(&mut follow).await.as_deref(), Some("x4"));
    assert_eq!(
        sim.counters().get("follow pods/log"),
        2,
        "opened again once"
    );
    // The container stops: the follow ends.
    assert!(sim.end_log("team-a", "solo-1", "app"));
    assert_eq!(line(&mut follow).await, None);
}

#[tokio::test]
async fn a_slow_follower_loses_lines_with_a_marker_never_the_gateways_memory() {
    let sim = simulator().await;
    let gateway = gateway_with(&sim, |_| {}).await;
    let admin = gateway.admin_token().await;
    let mut slow = gateway
        .subscribe(
            Some(&admin),
            FOLLOW,
            json!({ "ns": "team-a", "pod": "solo-1", "tail": 0 }),
        )
        .await;
    // Nothing is read while 2,000 lines arrive at once.
    let many: Vec<String> = (0..2_000).map(|i| format!("line {i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert!(sim.append_log("team-a", "solo-1", "app", &many));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut got = Vec::new();
    while got.last().map(String::as_str) != Some("line 1999") {
        got.push(line(&mut slow).await.expect("a line"));
    }
    let markers: Vec<&String> = got.iter().filter(|l| l.starts_with("[dropped ")).collect();
    assert_eq!(markers.len(), 1, "{got:?}");
    let kept = got.len() - 1;
    assert!(kept < 2_000, "lines were dropped, not buffered");
    assert_eq!(*markers[0], format!("[dropped {} lines]", 2_000 - kept));
}

#[tokio::test]
async fn follows_are_limited_per_user_and_per_gateway() {
    let sim = simulator().await;
    let gateway = gateway_with(&sim, |config| {
        config.log_follows_per_user = 2;
        config.log_follows = 3;
    })
    .await;
    let admin = gateway.admin_token().await;
    let bob = gateway
        .user_with_grants(&admin, "bob", json!([{ "cluster": "c" }]))
        .await;
    let follow = |token: String| {
        let gateway = &gateway;
        async move {
            gateway
                .subscribe(
                    Some(&token),
                    FOLLOW,
                    json!({ "ns": "team-a", "pod": "solo-1", "tail": 1 }),
                )
                .await
        }
    };
    let mut a1 = follow(admin.clone()).await;
    assert_eq!(lines(&mut a1, 1).await.len(), 1);
    let mut a2 = follow(admin.clone()).await;
    assert_eq!(lines(&mut a2, 1).await.len(), 1);
    let mut a3 = follow(admin.clone()).await;
    let refused = a3.next().await.expect("an answer");
    assert_eq!(code(&refused), "TooManyRequests", "{refused}");
    let mut b1 = follow(bob.clone()).await;
    assert_eq!(lines(&mut b1, 1).await.len(), 1);
    let mut b2 = follow(bob.clone()).await;
    let refused = b2.next().await.expect("an answer");
    assert_eq!(
        code(&refused),
        "TooManyRequests",
        "the gateway's: {refused}"
    );
    // A follow that ends gives its place back.
    drop(a1);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut b3 = follow(bob.clone()).await;
    assert_eq!(lines(&mut b3, 1).await.len(), 1);
}

#[tokio::test]
async fn a_revoked_grant_ends_a_follow_at_once() {
    let sim = simulator().await;
    let gateway = gateway_with(&sim, |_| {}).await;
    let admin = gateway.admin_token().await;
    let carol = gateway
        .user_with_grants(
            &admin,
            "carol",
            json!([{ "cluster": "c", "namespace": "team-a" }]),
        )
        .await;
    let mut follow = gateway
        .subscribe(
            Some(&carol),
            FOLLOW,
            json!({ "ns": "team-a", "pod": "solo-1", "tail": 1 }),
        )
        .await;
    assert_eq!(lines(&mut follow, 1).await.len(), 1);
    let answer = gateway
        .graphql(
            Some(&admin),
            "mutation { setGrants(name: \"carol\", grants: []) { name } }",
            json!({}),
        )
        .await;
    assert!(answer["errors"].is_null(), "{answer}");
    let ended = tokio::time::timeout(Duration::from_secs(5), follow.next())
        .await
        .expect("ended in time")
        .expect("an answer");
    assert_eq!(code(&ended), "Forbidden", "{ended}");
}

#[tokio::test]
async fn a_previous_follow_gives_the_terminated_instance_and_ends() {
    let sim = simulator().await;
    let gateway = gateway_with(&sim, |_| {}).await;
    let admin = gateway.admin_token().await;
    let mut follow = gateway
        .subscribe(
            Some(&admin),
            FOLLOW,
            json!({ "ns": "team-a", "pod": "web-1", "container": "sidecar", "previous": true, "tail": 2 }),
        )
        .await;
    let got = lines(&mut follow, 2).await;
    assert!(got[1].ends_with("connection refused"), "{got:?}");
    assert_eq!(line(&mut follow).await, None);
    assert_eq!(sim.counters().get("follow pods/log"), 0);
}

#[tokio::test]
async fn rest_logs_are_plain_text_and_errors_keep_the_envelope() {
    let sim = simulator().await;
    let gateway = gateway_with(&sim, |_| {}).await;
    let admin = gateway.admin_token().await;
    let (status, headers, body) = gateway
        .rest_text(
            Method::GET,
            "/osp/api/pods/c/team-a/solo-1/logs?tailLines=2&timestamps=true",
            Some(&admin),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
    let sent: Vec<&str> = body.lines().collect();
    assert_eq!(sent.len(), 2, "{body}");
    assert!(
        sent[0].starts_with("2024-05-01T10:00:23.000000000Z app: "),
        "{body}"
    );
    let (_, headers, body) = gateway
        .rest_text(
            Method::GET,
            "/osp/api/pods/c/team-a/solo-1/logs?limitBytes=10",
            Some(&admin),
        )
        .await;
    assert_eq!(body, "starting a\n");
    assert_eq!(headers["osp-log-truncated"], "true");

    for (path, status, want) in [
        ("/osp/api/pods/c/team-a/web-1/logs", 400, "InvalidParameter"),
        (
            "/osp/api/pods/c/team-a/solo-1/logs?tailLines=many",
            400,
            "InvalidParameter",
        ),
        (
            "/osp/api/pods/c/team-a/solo-1/logs?follow=maybe",
            400,
            "InvalidParameter",
        ),
        ("/osp/api/pods/c/team-a/gone-1/logs", 404, "PodNotFound"),
        (
            "/osp/api/pods/c/team-a/new-1/logs?follow=true",
            400,
            "InvalidParameter",
        ),
    ] {
        let (got, _, body) = gateway.rest_text(Method::GET, path, Some(&admin)).await;
        let envelope: Value =
            serde_json::from_str(&body).unwrap_or_else(|_| panic!("{path}: {body}"));
        assert_eq!(
            (got.as_u16(), envelope["code"].as_str()),
            (status, Some(want)),
            "{path}: {body}"
        );
    }
    let (got, _, _) = gateway
        .rest_text(Method::GET, "/osp/api/pods/c/team-a/solo-1/logs", None)
        .await;
    assert_eq!(got, 401);
    // A follow with limitBytes ends once that many bytes were sent, as
    // `kubectl logs -f --limit-bytes` does.
    let (status, _, body) = gateway
        .rest_text(
            Method::GET,
            "/osp/api/pods/c/team-a/solo-1/logs?follow=true&limitBytes=10",
            Some(&admin),
        )
        .await;
    assert_eq!((status.as_u16(), body.as_str()), (200, "starting a"));
    // Both sinceSeconds and sinceTime: the later applies.
    let (status, _, body) = gateway
        .rest_text(
            Method::GET,
            "/osp/api/pods/c/team-a/solo-1/logs?sinceSeconds=3600&sinceTime=2024-05-01T10:00:00Z",
            Some(&admin),
        )
        .await;
    assert_eq!((status.as_u16(), body.as_str()), (200, ""));
}

/// Over real HTTP: a REST follow streams lines as they are written, outlives
/// the request timeout, and ends when the container stops; a WebSocket
/// follow gets the same lines.
#[tokio::test]
async fn a_rest_follow_streams_over_http_and_a_websocket_follow_gets_the_same_lines() {
    use crate::helpers::{Backend, TestApp, TestDb, test_config};
    use crate::live::{connect, next, send};

    let sim = simulator().await;
    let db = TestDb::create(Backend::Sqlite).await;
    let mut config = test_config(&db);
    config.kubeconfig_paths = vec![write_kubeconfig(&[(CLUSTER, &sim)])];
    config.request_timeout = Duration::from_secs(1);
    let app = TestApp::start(config).await;
    let admin = app.admin_token().await;

    let mut socket = connect(&app, json!({ "Authorization": format!("Bearer {admin}") })).await;
    assert_eq!(
        next(&mut socket).await.expect("ack")["type"],
        "connection_ack"
    );
    send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": FOLLOW,
                "variables": { "ns": "team-a", "pod": "solo-1", "tail": 0 } } }),
    )
    .await;

    let mut response = reqwest::Client::new()
        .get(app.url("/osp/api/pods/c/team-a/solo-1/logs?follow=true&tailLines=1"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("a follow");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    let mut text = String::new();
    let mut read_until = async |text: &mut String, until: &str| {
        while !text.contains(until) {
            let chunk = tokio::time::timeout(Duration::from_secs(10), response.chunk())
                .await
                .expect("a chunk in time")
                .expect("no error")
                .unwrap_or_else(|| panic!("the follow ended at {text:?}"));
            text.push_str(std::str::from_utf8(&chunk).expect("utf8"));
        }
    };
    read_until(&mut text, "(request 19)\n").await;
    // Past the request timeout, lines still arrive.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(sim.append_log("team-a", "solo-1", "app", &["after the timeout"]));
    read_until(&mut text, "after the timeout\n").await;
    let message = next(&mut socket).await.expect("a line");
    assert_eq!(
        message["payload"]["data"]["podLogLines"]["text"], "after the timeout",
        "{message}"
    );
    assert!(sim.end_log("team-a", "solo-1", "app"));
    let end = tokio::time::timeout(Duration::from_secs(10), response.chunk())
        .await
        .expect("ends in time")
        .expect("a clean end");
    assert_eq!(end, None);
    assert_eq!(
        next(&mut socket).await.expect("complete")["type"],
        "complete"
    );
    app.stop().await;
    db.drop_database().await;
}

const MERGED: &str = "subscription($selector: String!, $clusters: [String!], $tail: Int! = 10) { \
    logs(clusters: $clusters, labelSelector: $selector, tailLines: $tail) { \
    cluster namespace pod container time text } }";

/// The next line of a `logs` subscription: (cluster/namespace/pod/container, text).
async fn merged_line(
    follow: &mut (impl futures_util::Stream<Item = Value> + Unpin),
) -> (String, String) {
    let answer = tokio::time::timeout(Duration::from_secs(10), follow.next())
        .await
        .expect("a line in time")
        .expect("a line");
    let line = &answer["data"]["logs"];
    assert!(answer["errors"].is_null(), "{answer}");
    let s = |k: &str| {
        line[k]
            .as_str()
            .unwrap_or_else(|| panic!("{k} in {answer}"))
            .to_owned()
    };
    (
        format!(
            "{}/{}/{}/{}",
            s("cluster"),
            s("namespace"),
            s("pod"),
            s("container")
        ),
        s("text"),
    )
}

#[tokio::test]
async fn the_logs_subscription_merges_matching_containers_across_clusters_within_the_grants() {
    let sim = simulator().await;
    let other = Simulator::builder()
        .pods(
            pods()
                .into_iter()
                .filter(|p| p["metadata"]["name"] == "solo-1")
                .map(|mut p| {
                    p["metadata"]["namespace"] = json!("team-c");
                    p["metadata"]["name"] = json!("api-1");
                    p
                }),
        )
        .log_lines(5)
        .build_and_start()
        .await
        .expect("simulator starts");
    let kubeconfig = write_kubeconfig(&[(CLUSTER, &sim), ("d", &other)]);
    let gateway = Gateway::with(|config| {
        config.kubeconfig_paths = vec![kubeconfig];
        config.cluster_timeout = Duration::from_secs(5);
    })
    .await;
    let admin = gateway.admin_token().await;
    let dora = gateway
        .user_with_grants(
            &admin,
            "dora",
            json!([{ "cluster": "c", "namespace": "team-a" }, { "cluster": "d" }]),
        )
        .await;
    // Lines written in a namespace she may not read never reach her.
    assert!(sim.append_log("team-b", "db-0", "db", &["secret of team-b"]));
    let mut logs = gateway
        .subscribe(
            Some(&dora),
            MERGED,
            json!({ "selector": "app=web", "tail": 1 }),
        )
        .await;
    let mut sources = std::collections::BTreeSet::new();
    for _ in 0..3 {
        sources.insert(merged_line(&mut logs).await.0);
    }
    assert_eq!(
        sources.into_iter().collect::<Vec<_>>(),
        [
            "c/team-a/solo-1/app",
            "c/team-a/web-1/app",
            "d/team-c/api-1/app"
        ],
        "every running matching container of what she may read"
    );
    // A pod that starts matching joins, from its start.
    let mut joiner = pods()[1].clone();
    joiner["metadata"]["name"] = json!("solo-2");
    sim.upsert_pod(joiner);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        assert!(sim.append_log("team-a", "solo-2", "app", &["hello from solo-2"]));
        let (source, text) = merged_line(&mut logs).await;
        assert!(!source.contains("team-b"), "{source}: {text}");
        if source == "c/team-a/solo-2/app" && text == "hello from solo-2" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "solo-2 never joined"
        );
    }
    // Lines of one container arrive in order.
    assert!(other.append_log("team-c", "api-1", "app", &["one", "two", "three"]));
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let (source, text) = merged_line(&mut logs).await;
        if source == "d/team-c/api-1/app" {
            seen.push(text);
        }
    }
    assert_eq!(seen, ["one", "two", "three"]);
    drop(logs);
    let events = audited(&gateway, &admin, "dora", 1).await;
    assert_eq!(
        events[0],
        json!({ "target": "app=web", "outcome": "Success", "detail": "logs: 4 pods" })
    );

    // A selector is checked, and one matching too many pods is refused.
    let mut refused = gateway
        .subscribe(Some(&admin), MERGED, json!({ "selector": "app in (web" }))
        .await;
    let answer = refused.next().await.expect("an answer");
    assert_eq!(code(&answer), "InvalidParameter", "{answer}");
}

#[tokio::test]
async fn a_selector_matching_more_pods_than_allowed_is_refused() {
    let sim = simulator().await;
    let gateway = gateway_with(&sim, |config| config.log_selector_pods = 3).await;
    let admin = gateway.admin_token().await;
    let mut refused = gateway
        .subscribe(Some(&admin), MERGED, json!({ "selector": "app=web" }))
        .await;
    let answer = refused.next().await.expect("an answer");
    assert_eq!(code(&answer), "InvalidParameter", "{answer}");
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("matches 4 pods")),
        "{answer}"
    );
    let gateway = gateway_with(&sim, |config| config.log_selector_pods = 4).await;
    let admin = gateway.admin_token().await;
    let mut allowed = gateway
        .subscribe(
            Some(&admin),
            MERGED,
            json!({ "selector": "app=web", "tail": 1 }),
        )
        .await;
    let (source, _) = merged_line(&mut allowed).await;
    assert!(source.starts_with("c/"), "{source}");
}

/// `logs` over 100 matching pods in two clusters: every line written to each
/// running container arrives, in order per container.
#[tokio::test]
async fn the_logs_subscription_delivers_every_line_of_a_hundred_pods_in_order() {
    let labelled = |cluster: &str| {
        (0..50)
            .map(|i| {
                let mut pod = pods()[1].clone();
                pod["metadata"]["name"] = json!(format!("{cluster}-{i:02}"));
                pod["metadata"]["labels"] = json!({ "app": "fleet" });
                pod
            })
            .collect::<Vec<_>>()
    };
    let east = Simulator::builder()
        .pods(labelled("east"))
        .log_lines(3)
        .build_and_start()
        .await
        .expect("simulator starts");
    let west = Simulator::builder()
        .pods(labelled("west"))
        .log_lines(3)
        .build_and_start()
        .await
        .expect("simulator starts");
    let kubeconfig = write_kubeconfig(&[("east", &east), ("west", &west)]);
    let gateway = Gateway::with(|config| {
        config.kubeconfig_paths = vec![kubeconfig];
        config.cluster_timeout = Duration::from_secs(5);
    })
    .await;
    let admin = gateway.admin_token().await;
    let mut logs = gateway
        .subscribe(
            Some(&admin),
            MERGED,
            json!({ "selector": "app=fleet", "tail": 0 }),
        )
        .await;
    // Every container is followed before the lines are written.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while east.open_log_follows() + west.open_log_follows() < 100 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not every pod is followed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    const LINES: usize = 5;
    for (sim, cluster) in [(&east, "east"), (&west, "west")] {
        for i in 0..50 {
            let pod = format!("{cluster}-{i:02}");
            let lines: Vec<String> = (0..LINES).map(|n| format!("{pod} line {n}")).collect();
            let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
            assert!(sim.append_log("team-a", &pod, "app", &lines));
        }
    }
    let mut per_container: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for _ in 0..100 * LINES {
        let (source, text) = merged_line(&mut logs).await;
        per_container.entry(source).or_default().push(text);
    }
    assert_eq!(per_container.len(), 100);
    for (source, lines) in per_container {
        let pod = source.split('/').nth(2).expect("pod").to_owned();
        let want: Vec<String> = (0..LINES).map(|n| format!("{pod} line {n}")).collect();
        assert_eq!(lines, want, "{source}");
    }
}
