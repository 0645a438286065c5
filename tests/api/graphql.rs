//! `/graphql` itself: the playground, request shapes, limits and error codes.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestDb, gql_code};

/// The query GraphiQL sends to draw its documentation explorer.
const INTROSPECTION: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) {
    name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason
  }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}
"#;

#[tokio::test]
async fn playground_introspection_and_request_shapes() {
    let db = TestDb::create(Backend::Sqlite).await;
    let app = TestApp::on(&db).await;

    let page = app
        .client
        .get(app.url("/graphql"))
        .send()
        .await
        .expect("answered");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(html.contains("graphiql"), "GraphiQL page");

    // The standard introspection query passes the depth and complexity limits.
    let schema = app.graphql(None, INTROSPECTION, json!({})).await;
    assert!(schema["errors"].is_null(), "{schema}");
    assert_eq!(schema["data"]["__schema"]["queryType"]["name"], "QueryRoot");

    let batch = app
        .send(
            Method::POST,
            "/graphql",
            None,
            Some(json!([{"query": "{ me { name } }"}])),
        )
        .await;
    assert_eq!(batch.status, StatusCode::BAD_REQUEST);
    assert_eq!(gql_code(&batch.body), "InvalidParameter");

    let garbage = app
        .send_raw(Method::POST, "/graphql", None, b"{".to_vec())
        .await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
    assert_eq!(gql_code(&garbage.body), "InvalidParameter");

    let syntax = app.graphql(None, "{ me { name ", json!({})).await;
    assert_eq!(gql_code(&syntax), "InvalidParameter");
    let unknown_field = app.graphql(None, "{ nothing }", json!({})).await;
    assert_eq!(gql_code(&unknown_field), "InvalidParameter");

    // A well-formed query one level past the depth limit is refused for its
    // depth (and one at the limit is not).
    let nested = |levels: usize| {
        // __schema, types, fields, type: four levels before the ofType chain,
        // and `name` is the last.
        let chain = levels - 5;
        format!(
            "{{ __schema {{ types {{ fields {{ type {{ {}name{} }} }} }} }} }}",
            "ofType { ".repeat(chain),
            " }".repeat(chain)
        )
    };
    let at_limit = app
        .graphql(None, &nested(osp_gateway::graphql::MAX_DEPTH), json!({}))
        .await;
    assert!(at_limit["errors"].is_null(), "{at_limit}");
    let too_deep = app
        .graphql(
            None,
            &nested(osp_gateway::graphql::MAX_DEPTH + 1),
            json!({}),
        )
        .await;
    assert_eq!(gql_code(&too_deep), "InvalidParameter", "{too_deep}");
    assert!(
        too_deep["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("too deep")),
        "{too_deep}"
    );

    // A mutation sent with GET is never executed: GET only serves the playground.
    let get_mutation = app
        .client
        .get(app.url("/graphql?query=mutation%7BcreateUser%7D"))
        .send()
        .await
        .expect("answered");
    assert!(
        get_mutation
            .text()
            .await
            .expect("text")
            .contains("graphiql")
    );
    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn graphql_errors_carry_the_documented_codes() {
    let db = TestDb::create(Backend::Sqlite).await;
    let app = TestApp::on(&db).await;
    let admin = app.admin_token().await;
    let create = "mutation($i: CreateUserInput!) { createUser(input: $i) { name email role } }";

    let created = app
        .graphql(
            Some(&admin),
            create,
            json!({"i": {"name": "kim", "email": "kim@example.com", "password": "kim-password", "role": "ADMIN"}}),
        )
        .await;
    assert_eq!(
        created,
        json!({"data": {"createUser": {"name": "kim", "email": "kim@example.com", "role": "ADMIN"}}})
    );
    let again = app
        .graphql(
            Some(&admin),
            create,
            json!({"i": {"name": "KIM", "email": "kim@example.com", "password": "kim-password"}}),
        )
        .await;
    assert_eq!(gql_code(&again), "UserAlreadyExists");
    let invalid = app
        .graphql(
            Some(&admin),
            create,
            json!({"i": {"name": "kim!", "email": "kim@example.com", "password": "kim-password"}}),
        )
        .await;
    assert_eq!(gql_code(&invalid), "InvalidParameter");
    assert!(
        invalid["errors"][0]["message"]
            .as_str()
            .expect("msg")
            .starts_with("invalid name:")
    );
    let missing_field = app
        .graphql(
            Some(&admin),
            create,
            json!({"i": {"name": "lee", "email": "lee@example.com"}}),
        )
        .await;
    assert_eq!(gql_code(&missing_field), "InvalidParameter");
    let not_found = app
        .graphql(
            Some(&admin),
            r#"mutation { updateUser(name: "ghost", input: {email: "g@example.com"}) { name } }"#,
            json!({}),
        )
        .await;
    assert_eq!(gql_code(&not_found), "UserNotFound");
    let wrong = app
        .graphql(
            None,
            r#"mutation { login(name: "kim", password: "wrong-password") { token } }"#,
            json!({}),
        )
        .await;
    assert_eq!(gql_code(&wrong), "Unauthorized");
    app.stop().await;
    db.drop_database().await;
}

/// Posts a sign-in mutation to `/graphql` with the given Content-Type (none
/// when `None`), as a cross-site HTML form could.
async fn sign_in_posted_as(app: &TestApp, content_type: Option<&str>) -> (StatusCode, Value) {
    let body = json!({
        "query": "mutation($n: String!, $p: String!) { login(name: $n, password: $p) { token } }",
        "variables": {"n": crate::helpers::ADMIN, "p": crate::helpers::ADMIN_PASSWORD},
    });
    let mut request = app.client.post(app.url("/graphql")).body(body.to_string());
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    let response = request.send().await.expect("answered");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_graphql_body_not_declared_json_is_refused_before_any_resolver() {
    let db = TestDb::create(Backend::Sqlite).await;
    let app = TestApp::on(&db).await;
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        Some("application/jsonp"),
    ] {
        let (status, body) = sign_in_posted_as(&app, content_type).await;
        assert_eq!(
            status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}: {body}"
        );
        assert_eq!(gql_code(&body), "UnsupportedMediaType", "{content_type:?}");
        assert!(body.get("data").is_none(), "{content_type:?}: {body}");
    }
    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn a_graphql_body_declared_json_with_a_charset_is_executed() {
    let db = TestDb::create(Backend::Sqlite).await;
    let app = TestApp::on(&db).await;
    for content_type in ["application/json", "Application/JSON; charset=utf-8"] {
        let (status, body) = sign_in_posted_as(&app, Some(content_type)).await;
        assert_eq!(status, StatusCode::OK, "{content_type}: {body}");
        assert!(body["data"]["login"]["token"].is_string(), "{body}");
    }
    app.stop().await;
    db.drop_database().await;
}
