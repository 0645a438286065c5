//! The fast layer: no socket, no HTTP client. GraphQL resolvers run through
//! the gateway's own executor (`schema.execute` with the request data a real
//! request carries), and REST translation and envelopes through the router
//! with `tower::ServiceExt::oneshot`, on an in-memory SQLite database.

use std::net::IpAddr;

use async_graphql::{Request, Variables};
use axum::{
    body::Body,
    http::{Method, Request as HttpRequest, StatusCode},
};
use osp_gateway::{
    auth::Auth,
    config::Config,
    graphql::{Executor, RequestMeta},
    startup::{Application, router},
};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::helpers::{ADMIN, ADMIN_PASSWORD, JWT_SECRET};

/// A gateway built in this process on an in-memory database, never served.
pub(crate) struct Gateway {
    app: Application,
    executor: Executor,
}

impl Gateway {
    pub(crate) async fn new() -> Self {
        Self::with(|_| {}).await
    }

    /// A gateway whose configuration `tweak` changed first.
    pub(crate) async fn with(tweak: impl FnOnce(&mut Config)) -> Self {
        let mut config = Config::new("sqlite::memory:");
        config.listen = ([127, 0, 0, 1], 0).into();
        config.admin_password = Some(secrecy::SecretString::from(ADMIN_PASSWORD));
        config.jwt_secret = Some(secrecy::SecretString::from(JWT_SECRET));
        tweak(&mut config);
        let app = Application::build(config).await.expect("gateway builds");
        let executor = Executor::new(app.state().clone());
        Gateway { app, executor }
    }

    /// Runs one GraphQL document as the holder of `token` (anonymous without).
    pub(crate) async fn graphql(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> Value {
        self.graphql_from(None, token, query, variables).await
    }

    /// [`Gateway::graphql`], sent from the client address `client`.
    pub(crate) async fn graphql_from(
        &self,
        client: Option<IpAddr>,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> Value {
        let auth = match token {
            Some(token) => self.app.state().auth.from_token(token).await,
            None => Auth::Anonymous,
        };
        let request = Request::new(query).variables(Variables::from_json(variables));
        let meta = RequestMeta {
            client,
            ..RequestMeta::default()
        };
        let response = self.executor.execute(meta, auth, request).await;
        serde_json::to_value(response).expect("a response serialises")
    }

    /// Signs in as `name` from `client`: the token, or the error code.
    pub(crate) async fn sign_in_from(
        &self,
        client: Option<IpAddr>,
        name: &str,
        password: &str,
    ) -> Result<String, String> {
        let answer = self
            .graphql_from(
                client,
                None,
                "mutation($name: String!, $password: String!) { login(name: $name, password: $password) { token } }",
                json!({ "name": name, "password": password }),
            )
            .await;
        match answer["data"]["login"]["token"].as_str() {
            Some(token) => Ok(token.to_owned()),
            None => Err(code(&answer).to_owned()),
        }
    }

    /// Creates a plain user as the admin, with the password `<name>-password`.
    pub(crate) async fn create_user(&self, admin: &str, name: &str) {
        let answer = self
            .graphql(
                Some(admin),
                "mutation($input: CreateUserInput!) { createUser(input: $input) { name } }",
                json!({ "input": { "name": name, "email": format!("{name}@example.com"),
                                   "password": format!("{name}-password") } }),
            )
            .await;
        assert!(answer["errors"].is_null(), "create {name}: {answer}");
    }

    /// Creates a plain user with `grants` as the admin, and signs them in.
    pub(crate) async fn user_with_grants(&self, admin: &str, name: &str, grants: Value) -> String {
        self.create_user(admin, name).await;
        let answer = self
            .graphql(
                Some(admin),
                "mutation($n: String!, $g: [GrantInput!]!) { setGrants(name: $n, grants: $g) { name } }",
                json!({ "n": name, "g": grants }),
            )
            .await;
        assert!(answer["errors"].is_null(), "{answer}");
        self.sign_in_from(None, name, &format!("{name}-password"))
            .await
            .expect("signs in")
    }

    /// A token of the bootstrapped admin.
    pub(crate) async fn admin_token(&self) -> String {
        let answer = self
            .graphql(
                None,
                "mutation($name: String!, $password: String!) { login(name: $name, password: $password) { token } }",
                json!({ "name": ADMIN, "password": ADMIN_PASSWORD }),
            )
            .await;
        answer["data"]["login"]["token"]
            .as_str()
            .unwrap_or_else(|| panic!("admin signs in: {answer}"))
            .to_owned()
    }

    /// Sends one REST request through the router; the body is sent as the
    /// legacy clients send it, without a Content-Type.
    pub(crate) async fn rest(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = HttpRequest::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let request = request
            .body(body.map_or_else(Body::empty, |text| Body::from(text.to_owned())))
            .expect("request");
        let response = router(self.app.state().clone())
            .oneshot(request)
            .await
            .expect("answered");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("body");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, body)
    }
}

impl Gateway {
    /// Starts a subscription as the holder of `token`, as a REST follow runs
    /// one: its answers, read one at a time (nothing is buffered for a
    /// reader that does not read), once it has started or answered.
    pub(crate) async fn subscribe(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> impl futures_util::Stream<Item = Value> + Unpin + use<> {
        use futures_util::StreamExt;
        let auth = match token {
            Some(token) => self.app.state().auth.from_token(token).await,
            None => Auth::Anonymous,
        };
        let request = Request::new(query).variables(Variables::from_json(variables));
        let (mut answers, started) = self.executor.subscribe(
            RequestMeta::default(),
            auth,
            token.map(str::to_owned),
            request,
        );
        let (tx, rx) = tokio::sync::mpsc::channel::<Value>(1);
        tokio::spawn(async move {
            loop {
                let answer = tokio::select! {
                    answer = answers.next() => answer,
                    () = tx.closed() => return,
                };
                let Some(answer) = answer else { return };
                let answer = serde_json::to_value(answer).expect("a response serialises");
                if tx.send(answer).await.is_err() {
                    return;
                }
            }
        });
        // Fired once the subscription has started; dropped when it answered
        // an error instead.
        let _ = started.await;
        futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|answer| (answer, rx))
        })
        .boxed()
    }

    /// Sends one REST request through the router: status, headers and the
    /// body as text.
    pub(crate) async fn rest_text(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
    ) -> (StatusCode, axum::http::HeaderMap, String) {
        self.rest_text_from(None, method, path, token).await
    }

    /// [`Gateway::rest_text`], sent from the client address `client`.
    pub(crate) async fn rest_text_from(
        &self,
        client: Option<IpAddr>,
        method: Method,
        path: &str,
        token: Option<&str>,
    ) -> (StatusCode, axum::http::HeaderMap, String) {
        let mut request = HttpRequest::builder().method(method).uri(path);
        if let Some(client) = client {
            request = request.extension(axum::extract::ConnectInfo(std::net::SocketAddr::new(
                client, 40000,
            )));
        }
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let request = request.body(Body::empty()).expect("request");
        let response = router(self.app.state().clone())
            .oneshot(request)
            .await
            .expect("answered");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
            .await
            .expect("body");
        (
            status,
            headers,
            String::from_utf8(bytes.to_vec()).expect("utf8"),
        )
    }
}

/// The code of the first error of a GraphQL answer.
pub(crate) fn code(answer: &Value) -> &str {
    answer["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("an error code in {answer}"))
}

#[tokio::test]
async fn an_anonymous_me_is_unauthorized() {
    let gateway = Gateway::new().await;
    let answer = gateway.graphql(None, "{ me { name } }", json!({})).await;
    assert_eq!(code(&answer), "Unauthorized", "{answer}");
}

#[tokio::test]
async fn a_signed_in_admin_reads_themself() {
    let gateway = Gateway::new().await;
    let token = gateway.admin_token().await;
    let answer = gateway
        .graphql(Some(&token), "{ me { name role } }", json!({}))
        .await;
    assert_eq!(
        answer["data"]["me"],
        json!({"name": ADMIN, "role": "ADMIN"}),
        "{answer}"
    );
}

#[tokio::test]
async fn a_tampered_token_is_refused_by_the_resolvers() {
    let gateway = Gateway::new().await;
    let token = gateway.admin_token().await + "x";
    let answer = gateway
        .graphql(Some(&token), "{ me { name } }", json!({}))
        .await;
    assert_eq!(code(&answer), "Unauthorized", "{answer}");
}

#[tokio::test]
async fn a_rest_sign_in_without_content_type_is_enveloped() {
    let gateway = Gateway::new().await;
    let body = json!({ "name": ADMIN, "password": ADMIN_PASSWORD }).to_string();
    let (status, answer) = gateway
        .rest(Method::POST, "/osp/api/login", None, Some(&body))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["code"], "Success");
    assert!(answer["data"]["token"].is_string(), "{answer}");
}

#[tokio::test]
async fn a_rest_body_with_an_unknown_field_names_it() {
    let gateway = Gateway::new().await;
    let body = json!({ "name": ADMIN, "password": ADMIN_PASSWORD, "remember": true }).to_string();
    let (status, answer) = gateway
        .rest(Method::POST, "/osp/api/login", None, Some(&body))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["code"], "InvalidParameter");
    assert_eq!(
        answer["msg"],
        "invalid remember: unknown field (expected one of: name, password)"
    );
}

#[tokio::test]
async fn a_rest_body_that_is_not_an_object_is_refused() {
    let gateway = Gateway::new().await;
    let (status, answer) = gateway
        .rest(Method::POST, "/osp/api/login", None, Some(r#"["admin"]"#))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["msg"], "invalid body: must be a JSON object");
}

#[tokio::test]
async fn a_rest_read_of_an_unknown_cluster_is_a_not_found_envelope() {
    let gateway = Gateway::new().await;
    let token = gateway.admin_token().await;
    let (status, answer) = gateway
        .rest(Method::GET, "/osp/api/pods/nowhere", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(answer["code"], "ClusterNotFound");
}

#[tokio::test]
async fn an_unknown_rest_path_is_a_not_found_envelope() {
    let gateway = Gateway::new().await;
    let (status, answer) = gateway
        .rest(Method::GET, "/osp/api/nothing-here", None, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(answer["code"], "NotFound");
}
