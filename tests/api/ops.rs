//! The production surface over HTTP: health and readiness, metrics, sign-in
//! rate limits, the request timeout, the query size cap and CORS.

use std::time::Duration;

use kube_sim::{Fault, Simulator};
use osp_gateway::{config::Config, startup::Application};
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::helpers::{
    ADMIN, ADMIN_PASSWORD, Backend, TestApp, TestDb, gql_code, test_config, write_kubeconfig,
};

async fn sqlite() -> TestDb {
    TestDb::create(Backend::Sqlite).await
}

async fn simulator() -> Simulator {
    Simulator::builder()
        .generated_pods(3)
        .build_and_start()
        .await
        .expect("simulator starts")
}

fn with_clusters(db: &TestDb, clusters: &[(&str, &Simulator)]) -> Config {
    let mut config = test_config(db);
    config.kubeconfig_paths = vec![write_kubeconfig(clusters)];
    config.cluster_timeout = Duration::from_secs(2);
    // Every read goes upstream, so each request shows in the upstream metrics.
    config.pod_cache = osp_gateway::config::CacheMode::Off;
    config
}

pub(crate) async fn metrics_text(app: &TestApp) -> String {
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()[header::CONTENT_TYPE]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    response.text().await.expect("text")
}

/// The value of the sample with exactly this name and these labels, if any.
pub(crate) fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn healthz_answers_ok_without_a_token() {
    let db = sqlite().await;
    let app = TestApp::on(&db).await;

    let answer = app.send(Method::GET, "/healthz", None, None).await;

    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body, json!({"status": "ok"}));
    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn readyz_stays_ready_with_a_dead_cluster_and_reports_each_cluster() {
    let live = simulator().await;
    let dead = simulator().await;
    dead.set_fault(Fault::Status(503));
    let db = sqlite().await;
    let app = TestApp::start(with_clusters(&db, &[("live", &live), ("dead", &dead)])).await;

    let answer = app.send(Method::GET, "/readyz", None, None).await;

    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    assert_eq!(
        answer.body,
        json!({
            "status": "ok",
            "database": "ok",
            "clusters": {"dead": "unreachable", "live": "reachable"},
        })
    );
    app.stop().await;
    db.drop_database().await;
    live.shutdown().await;
    dead.shutdown().await;
}

#[tokio::test]
async fn readyz_is_unavailable_when_the_database_does_not_answer() {
    let db = sqlite().await;
    let app = Application::build(test_config(&db))
        .await
        .expect("gateway builds");
    let addr = app.local_addr();
    let state = app.state().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let ready = client
        .get(format!("http://{addr}/readyz"))
        .send()
        .await
        .expect("answered");
    assert_eq!(ready.status(), StatusCode::OK);

    state.db.close_by_ref().await.expect("pool closes");
    let unready = client
        .get(format!("http://{addr}/readyz"))
        .send()
        .await
        .expect("answered");
    let status = unready.status();
    let body: Value = unready.json().await.expect("json");
    let live = client
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .expect("answered");

    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        body,
        json!({"status": "unavailable", "database": "unreachable", "clusters": {}})
    );
    assert_eq!(live.status(), StatusCode::OK, "still alive, only not ready");
    let _ = stop.send(());
    let _ = server.await;
    db.drop_database().await;
}

#[tokio::test]
async fn metrics_count_http_requests_by_matched_route_method_and_status() {
    let db = sqlite().await;
    let app = TestApp::on(&db).await;
    let update = json!({"email": "x@example.com"});
    for _ in 0..2 {
        app.send(
            Method::PUT,
            "/osp/api/users/alice",
            None,
            Some(update.clone()),
        )
        .await;
    }
    app.send(Method::GET, "/osp/api/users", None, None).await;
    app.send(Method::GET, "/osp/api/no/such/path", None, None)
        .await;

    let text = metrics_text(&app).await;

    let count = |series: &str| sample(&text, series);
    assert_eq!(
        count(
            r#"osp_http_requests_total{method="PUT",route="/osp/api/users/{name}",status="401"}"#
        ),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        count(r#"osp_http_requests_total{method="GET",route="/osp/api/users",status="401"}"#),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        count(r#"osp_http_requests_total{method="GET",route="unmatched",status="404"}"#),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        count(
            r#"osp_http_request_duration_seconds_count{method="PUT",route="/osp/api/users/{name}",status="401"}"#
        ),
        Some(2.0),
        "{text}"
    );
    assert!(
        !text.contains("/osp/api/users/alice"),
        "raw paths are not labels"
    );
    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn metrics_count_upstream_calls_by_cluster_and_outcome() {
    let live = simulator().await;
    let broken = simulator().await;
    broken.set_fault(Fault::Status(500));
    let db = sqlite().await;
    let app = TestApp::start(with_clusters(&db, &[("live", &live), ("broken", &broken)])).await;
    let token = app.admin_token().await;

    let ok = app
        .send(Method::GET, "/osp/api/pods/live", Some(&token), None)
        .await;
    let failed = app
        .send(Method::GET, "/osp/api/pods/broken", Some(&token), None)
        .await;
    let text = metrics_text(&app).await;

    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(failed.status, StatusCode::BAD_GATEWAY);
    let ok_calls = sample(
        &text,
        r#"osp_upstream_requests_total{cluster="live",outcome="ok"}"#,
    );
    let failed_calls = sample(
        &text,
        r#"osp_upstream_requests_total{cluster="broken",outcome="error"}"#,
    );
    assert!(ok_calls.is_some_and(|n| n >= 1.0), "{text}");
    assert!(failed_calls.is_some_and(|n| n >= 1.0), "{text}");
    assert_eq!(
        sample(
            &text,
            r#"osp_upstream_requests_total{cluster="live",outcome="error"}"#
        ),
        None,
        "{text}"
    );
    app.stop().await;
    db.drop_database().await;
    live.shutdown().await;
    broken.shutdown().await;
}

#[tokio::test]
async fn failed_sign_ins_are_counted() {
    let db = sqlite().await;
    let app = TestApp::on(&db).await;
    let wrong = json!({"name": ADMIN, "password": "wrong-password"});

    let answer = app
        .send(Method::POST, "/osp/api/login", None, Some(wrong))
        .await;
    app.admin_token().await;
    let text = metrics_text(&app).await;

    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        sample(
            &text,
            r#"osp_login_failures_total{reason="bad_credentials"}"#
        ),
        Some(1.0),
        "{text}"
    );
    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn sign_ins_past_the_name_limit_get_429_with_retry_after() {
    let db = sqlite().await;
    let mut config = test_config(&db);
    config.login_limit_per_name = 2;
    let app = TestApp::start(config).await;
    let wrong = json!({"name": ADMIN, "password": "wrong-password"});
    for _ in 0..2 {
        let answer = app
            .send(Method::POST, "/osp/api/login", None, Some(wrong.clone()))
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }

    // Even the right password is refused now: the limit counts attempts.
    let limited = app
        .client
        .post(app.url("/osp/api/login"))
        .json(&json!({"name": "ADMIN", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .expect("answered");

    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = limited.headers()[header::RETRY_AFTER]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("whole seconds");
    assert!((1..=30).contains(&retry_after), "{retry_after}");
    let body: Value = limited.json().await.expect("json");
    assert_eq!(
        body,
        json!({
            "code": "TooManyRequests",
            "msg": format!("too many attempts; try again in {retry_after} s"),
            "data": null,
        })
    );
    let text = metrics_text(&app).await;
    assert_eq!(
        sample(&text, r#"osp_login_failures_total{reason="rate_limited"}"#),
        Some(1.0),
        "{text}"
    );
    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn graphql_sign_ins_past_the_address_limit_carry_retry_after() {
    let db = sqlite().await;
    let mut config = test_config(&db);
    config.login_limit_per_name = 0;
    config.login_limit_per_address = 2;
    let app = TestApp::start(config).await;
    let login = "mutation($n: String!) { login(name: $n, password: \"wrong-password\") { token } }";
    for name in ["a", "b"] {
        let answer = app.graphql(None, login, json!({"n": name})).await;
        assert_eq!(gql_code(&answer), "Unauthorized", "{answer}");
    }

    let limited = app.graphql(None, login, json!({"n": "c"})).await;

    assert_eq!(gql_code(&limited), "TooManyRequests", "{limited}");
    let retry_after = limited["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .expect("retryAfter in seconds");
    assert!((1..=30).contains(&retry_after), "{retry_after}");
    assert_eq!(limited["data"], Value::Null);
    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn query_text_over_32_kib_is_refused_before_parsing() {
    let db = sqlite().await;
    let app = TestApp::on(&db).await;
    let padded = |bytes: usize| format!("{{ __typename }}{}", " ".repeat(bytes - 14));

    let fits = app
        .send(
            Method::POST,
            "/graphql",
            None,
            Some(json!({"query": padded(32 * 1024)})),
        )
        .await;
    let too_long = app
        .send(
            Method::POST,
            "/graphql",
            None,
            Some(json!({"query": padded(32 * 1024 + 1)})),
        )
        .await;

    assert_eq!(fits.status, StatusCode::OK);
    assert_eq!(fits.body, json!({"data": {"__typename": "QueryRoot"}}));
    assert_eq!(too_long.status, StatusCode::BAD_REQUEST);
    assert_eq!(gql_code(&too_long.body), "InvalidParameter");
    assert_eq!(
        too_long.body["errors"][0]["message"],
        "invalid query: longer than 32768 bytes"
    );
    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn slow_requests_are_cut_off_with_504_in_each_api_shape() {
    let slow = simulator().await;
    slow.set_fault(Fault::Latency(Duration::from_secs(5)));
    let db = sqlite().await;
    let mut config = with_clusters(&db, &[("slow", &slow)]);
    config.request_timeout = Duration::from_secs(1);
    config.cluster_timeout = Duration::from_secs(4);
    let app = TestApp::start(config).await;
    let token = app.admin_token().await;

    let rest = app
        .send(Method::GET, "/osp/api/pods/slow", Some(&token), None)
        .await;
    let graphql = app
        .send(
            Method::POST,
            "/graphql",
            Some(&token),
            Some(json!({"query": "{ pods(cluster: \"slow\") { name } }"})),
        )
        .await;
    let health = app.send(Method::GET, "/healthz", None, None).await;

    assert_eq!(rest.status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(
        rest.body,
        json!({"code": "Timeout", "msg": "the request took longer than 1s to answer", "data": null})
    );
    assert_eq!(graphql.status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(gql_code(&graphql.body), "Timeout", "{:?}", graphql.body);
    assert_eq!(health.status, StatusCode::OK);
    app.stop().await;
    db.drop_database().await;
    slow.shutdown().await;
}

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.client
        .request(Method::OPTIONS, app.url("/osp/api/login"))
        .header(header::ORIGIN, origin)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            "authorization,content-type",
        )
        .send()
        .await
        .expect("answered")
}

#[tokio::test]
async fn cors_admits_only_the_configured_origins() {
    let db = sqlite().await;
    let mut config = test_config(&db);
    config.cors_origins = vec!["https://app.example.com".to_owned()];
    let app = TestApp::start(config).await;

    let allowed = preflight(&app, "https://app.example.com").await;
    let other = preflight(&app, "https://evil.example.com").await;
    let simple = app
        .client
        .get(app.url("/healthz"))
        .header(header::ORIGIN, "https://app.example.com")
        .send()
        .await
        .expect("answered");

    assert_eq!(allowed.status(), StatusCode::OK);
    let headers = allowed.headers();
    assert_eq!(
        headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://app.example.com"
    );
    let allowed_headers = headers[header::ACCESS_CONTROL_ALLOW_HEADERS]
        .to_str()
        .expect("ascii");
    assert!(
        allowed_headers.contains("authorization"),
        "{allowed_headers}"
    );
    assert!(
        allowed_headers.contains("content-type"),
        "{allowed_headers}"
    );
    let methods = headers[header::ACCESS_CONTROL_ALLOW_METHODS]
        .to_str()
        .expect("ascii");
    assert!(
        methods.contains("POST") && methods.contains("PUT"),
        "{methods}"
    );
    assert!(
        !headers.contains_key(header::ACCESS_CONTROL_ALLOW_CREDENTIALS),
        "tokens travel in a header, so cookies are never allowed"
    );
    assert!(
        !other
            .headers()
            .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
    );
    assert_eq!(
        simple.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://app.example.com"
    );
    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn cors_is_off_by_default() {
    let db = sqlite().await;
    let app = TestApp::on(&db).await;

    let answer = preflight(&app, "https://app.example.com").await;

    assert!(
        !answer
            .headers()
            .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
    );
    app.stop().await;
    db.drop_database().await;
}
