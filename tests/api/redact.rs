//! Secrets out of sight (`OSP_REDACT`): env values and secret annotations of
//! every `json` and `yaml` answer are redacted for viewers without a
//! revealing grant, in GraphQL and REST, in single reads, lists and
//! connections, for pods and other kinds; revealing grants and admins see
//! objects as they are, and their reads are audited as `revealed`.

use std::time::Duration;

use axum::http::Method;
use kube_sim::{ResourceKind, Simulator};
use serde_json::{Value, json};

use crate::{helpers::write_kubeconfig, inprocess::Gateway};

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

fn env() -> Value {
    json!([
        { "name": "PASSWORD", "value": "hunter2" },
        { "name": "TOKEN", "valueFrom": { "secretKeyRef": { "name": "db", "key": "token" } } }
    ])
}

fn annotations() -> Value {
    json!({ LAST_APPLIED: "{\"env\":\"hunter2\"}", "vault.example/token": "s3cr3t", "team": "a" })
}

/// `secret-1` (team-a) and Deployment `web` (team-a), both carrying secrets.
async fn simulator() -> Simulator {
    Simulator::builder()
        .pod(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": { "name": "secret-1", "namespace": "team-a", "uid": "uid-secret-1",
                          "creationTimestamp": "2024-05-01T10:00:00Z", "annotations": annotations() },
            "spec": { "nodeName": "n1",
                      "initContainers": [{ "name": "init", "image": "busybox", "env": env() }],
                      "containers": [{ "name": "app", "image": "nginx", "env": env() }] },
            "status": { "phase": "Running", "containerStatuses": [{ "name": "app", "restartCount": 0,
                "ready": true, "state": { "running": { "startedAt": "2024-05-01T10:00:05Z" } } }] }
        }))
        .object(
            ResourceKind::Deployment,
            json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": { "name": "web", "namespace": "team-a", "uid": "uid-web",
                              "creationTimestamp": "2024-05-01T10:00:00Z", "annotations": annotations() },
                "spec": { "replicas": 1, "selector": { "matchLabels": { "app": "web" } },
                          "template": { "metadata": { "labels": { "app": "web" } },
                                        "spec": { "containers": [{ "name": "app", "image": "nginx", "env": env() }] } } },
                "status": { "replicas": 1, "readyReplicas": 1, "updatedReplicas": 1, "availableReplicas": 1 }
            }),
        )
        .build_and_start()
        .await
        .expect("simulator starts")
}

async fn gateway(sim: &Simulator, redact: bool) -> Gateway {
    let kubeconfig = write_kubeconfig(&[("c", sim)]);
    Gateway::with(|config| {
        config.kubeconfig_paths = vec![kubeconfig];
        config.cluster_timeout = Duration::from_secs(5);
        config.redact_annotations = vec!["vault.example/token".to_owned()];
        if !redact {
            config.redact = osp_gateway::config::RedactMode::Off;
        }
    })
    .await
}

async fn user(gateway: &Gateway, admin: &str, name: &str, grants: Value) -> String {
    gateway.create_user(admin, name).await;
    let answer = gateway
        .graphql(
            Some(admin),
            "mutation($n: String!, $g: [GrantInput!]!) { setGrants(name: $n, grants: $g) { grants { cluster namespace reveal } } }",
            json!({ "n": name, "g": grants }),
        )
        .await;
    assert!(answer["errors"].is_null(), "{answer}");
    assert_eq!(
        answer["data"]["setGrants"]["grants"], grants,
        "grants read back"
    );
    gateway
        .sign_in_from(None, name, &format!("{name}-password"))
        .await
        .expect("signs in")
}

const POD: &str = r#"{ pod(cluster: "c", namespace: "team-a", name: "secret-1") { name ready status json yaml } }"#;

/// Whether an answer shows any secret.
fn shows_secrets(answer: &Value) -> bool {
    let text = answer.to_string();
    text.contains("hunter2") || text.contains("s3cr3t") || text.contains("last-applied")
}

fn assert_redacted(object: &Value) {
    for list in ["containers", "initContainers"] {
        let env = &object["spec"][list][0]["env"];
        assert_eq!(
            env[0],
            json!({ "name": "PASSWORD", "value": "(redacted)" }),
            "{list}"
        );
        assert_eq!(env[1], env_value_from(), "{list}: references stay");
    }
    assert_eq!(
        object["metadata"]["annotations"],
        json!({ "vault.example/token": "(redacted)", "team": "a" })
    );
}

fn env_value_from() -> Value {
    json!({ "name": "TOKEN", "valueFrom": { "secretKeyRef": { "name": "db", "key": "token" } } })
}

#[tokio::test]
async fn pods_are_redacted_unless_a_grant_reveals_them() {
    let sim = simulator().await;
    let gateway = gateway(&sim, true).await;
    let admin = gateway.admin_token().await;
    let bob = user(
        &gateway,
        &admin,
        "bob",
        json!([{ "cluster": "c", "namespace": "team-a", "reveal": false }]),
    )
    .await;
    let carol = user(
        &gateway,
        &admin,
        "carol",
        json!([{ "cluster": "c", "namespace": "team-a", "reveal": true }]),
    )
    .await;

    let answer = gateway.graphql(Some(&bob), POD, json!({})).await;
    assert!(answer["errors"].is_null(), "{answer}");
    let pod = &answer["data"]["pod"];
    assert_redacted(&pod["json"]);
    assert!(!shows_secrets(pod), "{answer}");
    assert!(pod["yaml"].as_str().expect("yaml").contains("(redacted)"));

    // Lists and connections are redacted alike.
    for query in [
        r#"{ pods(cluster: "c") { json } }"#,
        r#"{ podList(cluster: "c") { items { yaml } } }"#,
        r#"{ podConnection { edges { node { json yaml } } } }"#,
    ] {
        let answer = gateway.graphql(Some(&bob), query, json!({})).await;
        assert!(answer["errors"].is_null(), "{query}: {answer}");
        assert!(!shows_secrets(&answer), "{query}: {answer}");
        assert!(
            answer.to_string().contains("(redacted)"),
            "{query}: {answer}"
        );
    }

    // REST's json and yaml too.
    let (status, body) = gateway
        .rest(
            Method::GET,
            "/osp/api/pods/c/team-a/secret-1",
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_redacted(&body["data"]);
    let (_, body) = gateway
        .rest(
            Method::GET,
            "/osp/api/pods/c/team-a/secret-1?output=yaml",
            Some(&bob),
            None,
        )
        .await;
    assert!(!shows_secrets(&body), "{body}");

    // A revealing grant and an admin see the pod as it is; the summary is
    // the same for everyone.
    let revealed = gateway.graphql(Some(&carol), POD, json!({})).await;
    let as_admin = gateway.graphql(Some(&admin), POD, json!({})).await;
    for answer in [&revealed, &as_admin] {
        let pod = &answer["data"]["pod"];
        assert_eq!(
            pod["json"]["spec"]["containers"][0]["env"],
            env(),
            "{answer}"
        );
        assert!(pod["json"]["metadata"]["annotations"][LAST_APPLIED].is_string());
        assert!(pod["yaml"].as_str().expect("yaml").contains("hunter2"));
    }
    for field in ["name", "ready", "status"] {
        assert_eq!(
            answer["data"]["pod"][field], revealed["data"]["pod"][field],
            "{field}"
        );
    }

    // Their reads are audited as revealed; bob's are not.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let events = gateway
            .graphql(
                Some(&admin),
                "{ auditEvents(action: \"pod_read\") { edges { node { actor target detail } } } }",
                json!({}),
            )
            .await;
        let edges = events["data"]["auditEvents"]["edges"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let of = |actor: &str| {
            edges
                .iter()
                .filter(|e| e["node"]["actor"] == actor)
                .map(|e| e["node"]["detail"].clone())
                .collect::<Vec<_>>()
        };
        if of("carol").len() == 1 && of("admin").len() == 1 && !of("bob").is_empty() {
            assert_eq!(of("carol"), [json!("revealed")]);
            assert_eq!(of("admin"), [json!("revealed")]);
            assert!(
                of("bob")
                    .iter()
                    .all(|d| !d.to_string().contains("revealed")),
                "{edges:?}"
            );
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "events: {events}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn other_kinds_are_redacted_and_kept_answers_never_cross_what_viewers_may_see() {
    let sim = simulator().await;
    let gateway = gateway(&sim, true).await;
    let admin = gateway.admin_token().await;
    // Every namespace of every cluster, but nothing revealed: not an admin's view.
    let dave = user(
        &gateway,
        &admin,
        "dave",
        json!([{ "cluster": "*", "namespace": null, "reveal": false }]),
    )
    .await;
    let query = r#"{ deploymentConnection { edges { node { name json yaml } } } }"#;
    let as_admin = gateway.graphql(Some(&admin), query, json!({})).await;
    let deployment = &as_admin["data"]["deploymentConnection"]["edges"][0]["node"];
    assert_eq!(
        deployment["json"]["spec"]["template"]["spec"]["containers"][0]["env"],
        env(),
        "{as_admin}"
    );
    let as_dave = gateway.graphql(Some(&dave), query, json!({})).await;
    assert!(as_dave["errors"].is_null(), "{as_dave}");
    assert!(!shows_secrets(&as_dave), "{as_dave}");
    let object = &as_dave["data"]["deploymentConnection"]["edges"][0]["node"]["json"];
    assert_eq!(
        object["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"],
        "(redacted)"
    );
    assert_eq!(
        object["metadata"]["annotations"],
        json!({ "vault.example/token": "(redacted)", "team": "a" })
    );
    // A REST body rendered for the admin is never served to her: kept
    // bodies are keyed by what the viewer may see.
    for output in ["json", "yaml"] {
        let path = format!("/osp/api/pods/c/team-a/secret-1?output={output}");
        let (_, body) = gateway.rest(Method::GET, &path, Some(&admin), None).await;
        assert!(shows_secrets(&body), "{body}");
        let (status, body) = gateway.rest(Method::GET, &path, Some(&dave), None).await;
        assert_eq!(status, 200, "{body}");
        assert!(!shows_secrets(&body), "{output}: {body}");
    }
    // The admin's unredacted read is audited.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let events = gateway
            .graphql(
                Some(&admin),
                "{ auditEvents(action: \"object_read\") { edges { node { actor target detail } } } }",
                json!({}),
            )
            .await;
        if events["data"]["auditEvents"]["edges"]
            .as_array()
            .is_some_and(|edges| !edges.is_empty())
        {
            assert_eq!(
                events["data"]["auditEvents"]["edges"][0]["node"],
                json!({ "actor": "admin", "target": "c/Deployment/team-a/web", "detail": "revealed" })
            );
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "events: {events}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn with_redaction_off_everyone_sees_objects_as_they_are() {
    let sim = simulator().await;
    let gateway = gateway(&sim, false).await;
    let admin = gateway.admin_token().await;
    let bob = user(
        &gateway,
        &admin,
        "bob",
        json!([{ "cluster": "c", "namespace": "team-a", "reveal": false }]),
    )
    .await;
    let answer = gateway.graphql(Some(&bob), POD, json!({})).await;
    assert_eq!(
        answer["data"]["pod"]["json"]["spec"]["containers"][0]["env"],
        env(),
        "{answer}"
    );
}
