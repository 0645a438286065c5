//! Container logs as the API server serves them: every option, its errors,
//! follows and the control endpoints.

use std::time::Duration;

use kube_sim::{LOGS_PATH, Simulator};
use serde_json::{Value, json};

use super::http;

/// A pod with an init container that ran, a running `app`, and a `sidecar`
/// crash-looping after 3 restarts.
fn pod() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": { "name": "web-1", "namespace": "team-a", "creationTimestamp": "2024-05-01T10:00:00Z" },
        "spec": {
            "nodeName": "n1",
            "initContainers": [{ "name": "init-db", "image": "busybox" }],
            "containers": [{ "name": "app", "image": "nginx" }, { "name": "sidecar", "image": "envoy" }]
        },
        "status": {
            "phase": "Running",
            "initContainerStatuses": [{ "name": "init-db", "restartCount": 0, "ready": true,
                "state": { "terminated": { "exitCode": 0, "reason": "Completed",
                    "startedAt": "2024-05-01T10:00:01Z", "finishedAt": "2024-05-01T10:00:03Z" } } }],
            "containerStatuses": [
                { "name": "app", "restartCount": 0, "ready": true,
                  "state": { "running": { "startedAt": "2024-05-01T10:00:05Z" } } },
                { "name": "sidecar", "restartCount": 3, "ready": false,
                  "state": { "waiting": { "reason": "CrashLoopBackOff" } },
                  "lastState": { "terminated": { "exitCode": 1, "reason": "Error",
                      "startedAt": "2024-05-01T10:30:00Z", "finishedAt": "2024-05-01T10:31:00Z" } } }
            ]
        }
    })
}

/// A pod whose only container is still being created.
fn pending_pod() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": { "name": "new-1", "namespace": "team-a" },
        "spec": { "nodeName": "n1", "containers": [{ "name": "app", "image": "nginx" }] },
        "status": { "phase": "Pending", "containerStatuses": [{ "name": "app", "restartCount": 0,
            "ready": false, "state": { "waiting": { "reason": "ContainerCreating" } } }] }
    })
}

async fn sim() -> Simulator {
    Simulator::builder()
        .pod(pod())
        .pod(pending_pod())
        .log_lines(20)
        .build_and_start()
        .await
        .expect("simulator starts")
}

/// GET `.../pods/{pod}/log?{query}`: status and body text.
async fn read(sim: &Simulator, pod: &str, query: &str) -> (u16, String) {
    let resp = http()
        .get(format!(
            "{}/api/v1/namespaces/team-a/pods/{pod}/log?{query}",
            sim.url()
        ))
        .send()
        .await
        .expect("log request");
    let code = resp.status().as_u16();
    (code, resp.text().await.expect("body"))
}

fn message(body: &str) -> String {
    let status: Value = serde_json::from_str(body).expect("a Status");
    assert_eq!(status["kind"], "Status", "{body}");
    status["message"].as_str().expect("message").to_owned()
}

#[tokio::test]
async fn a_log_is_read_with_every_option() {
    let sim = sim().await;
    let (code, body) = read(&sim, "web-1", "container=app").await;
    assert_eq!(code, 200, "{body}");
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines.len(), 20);
    assert_eq!(lines[0], "starting app in pod web-1");
    // The same text twice: lines are made once per container instance.
    assert_eq!(read(&sim, "web-1", "container=app").await.1, body);

    let (_, tail) = read(&sim, "web-1", "container=app&tailLines=3").await;
    assert_eq!(tail.lines().collect::<Vec<_>>(), lines[17..]);
    let (_, none) = read(&sim, "web-1", "container=app&tailLines=0").await;
    assert_eq!(none, "");

    let (_, stamped) = read(&sim, "web-1", "container=app&timestamps=true&tailLines=2").await;
    let stamped: Vec<&str> = stamped.lines().collect();
    assert_eq!(
        stamped[0],
        format!("2024-05-01T10:00:23.000000000Z {}", lines[18])
    );

    // sinceTime keeps lines at or after it; sinceSeconds counts back from now.
    let (_, since) = read(
        &sim,
        "web-1",
        "container=app&sinceTime=2024-05-01T10:00:20Z",
    )
    .await;
    assert_eq!(since.lines().count(), 5);
    let (_, recent) = read(&sim, "web-1", "container=app&sinceSeconds=60").await;
    assert_eq!(recent, "");
    assert!(sim.append_log("team-a", "web-1", "app", &["just now"]));
    let (_, recent) = read(&sim, "web-1", "container=app&sinceSeconds=60").await;
    assert_eq!(recent, "just now\n");

    // limitBytes cuts the text, even mid-line.
    let (_, cut) = read(&sim, "web-1", "container=app&limitBytes=10").await;
    assert_eq!(cut, "starting a");

    // The init container's log, and the previous instance of the crashing one.
    let (code, init) = read(&sim, "web-1", "container=init-db").await;
    assert_eq!(code, 200);
    assert!(init.starts_with("starting init-db"), "{init}");
    let (code, previous) = read(
        &sim,
        "web-1",
        "container=sidecar&previous=true&timestamps=true",
    )
    .await;
    assert_eq!(code, 200, "{previous}");
    assert!(
        previous.starts_with("2024-05-01T10:30:00.000000000Z starting sidecar"),
        "{previous}"
    );
    assert!(
        previous.trim_end().ends_with("connection refused"),
        "{previous}"
    );
    // A container waiting to start again answers with its last instance's log.
    let (code, waiting) = read(&sim, "web-1", "container=sidecar&timestamps=true").await;
    assert_eq!(code, 200);
    assert_eq!(waiting, previous);

    let counters = sim.counters();
    assert!(counters.get("get pods/log") >= 10, "{counters:?}");
}

#[tokio::test]
async fn errors_are_the_api_servers() {
    let sim = sim().await;
    let cases = [
        ("nope", "", 404, r#"pods "nope" not found"#),
        (
            "web-1",
            "",
            400,
            "a container name must be specified for pod web-1, choose one of: [app sidecar] or one of the init containers: [init-db]",
        ),
        (
            "web-1",
            "container=db",
            400,
            "container db is not valid for pod web-1",
        ),
        (
            "web-1",
            "container=app&previous=true",
            400,
            r#"previous terminated container "app" in pod "web-1" not found"#,
        ),
        (
            "new-1",
            "",
            400,
            r#"container "app" in pod "new-1" is waiting to start: ContainerCreating"#,
        ),
        (
            "web-1",
            "container=app&tailLines=-1",
            422,
            r#"PodLogOptions "web-1" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0"#,
        ),
        (
            "web-1",
            "container=app&limitBytes=0",
            422,
            r#"PodLogOptions "web-1" is invalid: limitBytes: Invalid value: 0: must be greater than 0"#,
        ),
        (
            "web-1",
            "container=app&sinceSeconds=0",
            422,
            r#"PodLogOptions "web-1" is invalid: sinceSeconds: Invalid value: 0: must be greater than 0"#,
        ),
        (
            "web-1",
            "container=app&sinceSeconds=5&sinceTime=2024-05-01T10:00:20Z",
            422,
            "PodLogOptions \"web-1\" is invalid: sinceSeconds: Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified",
        ),
    ];
    for (pod, query, want_code, want) in cases {
        let (code, body) = read(&sim, pod, query).await;
        assert_eq!(
            (code, message(&body)),
            (want_code, want.to_owned()),
            "{pod}?{query}"
        );
    }
}

/// Reads what a follow has sent until `until` holds of it (or fails after 10 s).
async fn read_until(resp: &mut reqwest::Response, text: &mut String, until: impl Fn(&str) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !until(text) {
        let chunk = tokio::time::timeout_at(deadline, resp.chunk())
            .await
            .unwrap_or_else(|_| panic!("follow stalled at {text:?}"))
            .expect("chunk");
        match chunk {
            Some(chunk) => text.push_str(std::str::from_utf8(&chunk).expect("utf8")),
            None => panic!("follow ended at {text:?}"),
        }
    }
}

async fn follow(sim: &Simulator, query: &str) -> reqwest::Response {
    let resp = http()
        .get(format!(
            "{}/api/v1/namespaces/team-a/pods/web-1/log?follow=true&{query}",
            sim.url()
        ))
        .send()
        .await
        .expect("follow request");
    assert_eq!(resp.status().as_u16(), 200);
    resp
}

#[tokio::test]
async fn a_follow_yields_new_lines_until_its_log_ends() {
    let sim = sim().await;
    let mut resp = follow(&sim, "container=app&tailLines=1").await;
    let mut text = String::new();
    read_until(&mut resp, &mut text, |t| t.lines().count() == 1).await;
    assert_eq!(sim.open_log_follows(), 1);
    assert_eq!(sim.counters().get("follow pods/log"), 1);
    // Lines appended over the control endpoint arrive on the open stream.
    let appended = http()
        .post(format!("{}{LOGS_PATH}/team-a/web-1/app", sim.url()))
        .body("one\ntwo\n")
        .send()
        .await
        .expect("append");
    assert_eq!(appended.status().as_u16(), 200);
    read_until(&mut resp, &mut text, |t| t.ends_with("one\ntwo\n")).await;
    // Ending the log ends the stream normally.
    let ended = http()
        .post(format!("{}{LOGS_PATH}/team-a/web-1/app/end", sim.url()))
        .send()
        .await
        .expect("end");
    assert_eq!(ended.status().as_u16(), 200);
    assert_eq!(resp.chunk().await.expect("clean end"), None);
    let open: Value = http()
        .get(format!("{}{LOGS_PATH}", sim.url()))
        .send()
        .await
        .expect("open follows")
        .json()
        .await
        .expect("json");
    assert_eq!(open, json!({ "openFollows": 0 }));
    // No such container: 404 from the control endpoint.
    let missing = http()
        .post(format!("{}{LOGS_PATH}/team-a/web-1/nope", sim.url()))
        .body("x")
        .send()
        .await
        .expect("append");
    assert_eq!(missing.status().as_u16(), 404);
}

#[tokio::test]
async fn a_follow_ends_when_its_pod_goes_or_its_bytes_are_spent_and_drops_on_demand() {
    let sim = sim().await;
    // limitBytes: the stream ends once that many bytes were sent.
    let mut resp = follow(&sim, "container=app&tailLines=0&limitBytes=6").await;
    assert!(sim.append_log("team-a", "web-1", "app", &["abcdefgh"]));
    let mut text = String::new();
    read_until(&mut resp, &mut text, |t| t.len() == 6).await;
    assert_eq!(text, "abcdef");
    assert_eq!(resp.chunk().await.expect("clean end"), None);

    // A dropped connection is an error to the reader, not a clean end.
    let mut resp = follow(&sim, "container=app&tailLines=0").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while sim.open_log_follows() == 0 {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    sim.drop_log_streams();
    assert!(resp.chunk().await.is_err(), "a dropped follow errs");

    // A deleted pod ends its follows.
    let mut resp = follow(&sim, "container=app&tailLines=0").await;
    assert!(sim.delete_pod("team-a", "web-1"));
    let end = tokio::time::timeout(Duration::from_secs(5), resp.chunk())
        .await
        .expect("the follow ends");
    assert_eq!(end.expect("clean end"), None);
}
