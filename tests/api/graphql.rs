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

    let page = app.get("/graphql").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(html.contains("graphiql"), "GraphiQL page");

    // The standard introspection query passes the depth and complexity limits.
    let token = app.admin_token().await;
    let schema = app.graphql(Some(&token), INTROSPECTION, json!({})).await;
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

    // A mutation sent with GET is never executed.
    let get_mutation = app.get("/graphql?query=mutation%7BcreateUser%7D").await;
    assert_eq!(get_mutation.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(get_mutation.headers()["allow"], "POST");
    // Without an operation, GET serves the playground.
    let page = app.get("/graphql").await;
    assert!(page.text().await.expect("text").contains("graphiql"));
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

/// POSTs `body` to /graphql with `accept`; status, content type and body.
async fn post_accepting(app: &TestApp, accept: &str, body: Value) -> (StatusCode, String, Value) {
    let answer = app
        .client
        .post(app.url("/graphql"))
        .header("accept", accept)
        .json(&body)
        .send()
        .await
        .expect("answered");
    let status = answer.status();
    let media = answer.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_owned();
    (status, media, answer.json().await.expect("json"))
}

#[tokio::test]
async fn answers_follow_graphql_over_http_media_types() {
    let db = TestDb::create(Backend::Sqlite).await;
    let app = TestApp::on(&db).await;
    let grj = "application/graphql-response+json";
    let ok = json!({"query": "{ __typename }"});

    let (status, media, body) = post_accepting(&app, grj, ok.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(media.starts_with(grj), "{media}");
    assert!(body.get("errors").is_none(), "{body}");
    for accept in [
        "application/json",
        "*/*",
        "application/graphql-response+json;q=0, application/json",
    ] {
        let (status, media, _) = post_accepting(&app, accept, ok.clone()).await;
        assert_eq!(status, StatusCode::OK, "{accept}");
        assert!(media.starts_with("application/json"), "{accept}: {media}");
    }

    // Requests that never execute: errors only; 400 under the GraphQL media type.
    for query in ["{", "{ noSuchField }", "query($id: ID!) { __typename }"] {
        let (status, media, body) = post_accepting(&app, grj, json!({"query": query})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert!(media.starts_with(grj));
        assert!(body.get("data").is_none(), "{query}: {body}");
        assert_eq!(gql_code(&body), "InvalidParameter");
        let (status, _, body) =
            post_accepting(&app, "application/json", json!({"query": query})).await;
        assert_eq!(status, StatusCode::OK, "{query}");
        assert!(body.get("data").is_none(), "{query}: {body}");
    }
    // An executed request with a field error keeps its data entry and 200.
    let (status, _, body) = post_accepting(&app, grj, json!({"query": "{ me { name } }"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("data").is_some(), "{body}");
    app.stop().await;
    db.drop_database().await;
}

/// POSTs a persisted query: its hash, with the text when given.
async fn post_persisted(
    app: &TestApp,
    token: Option<&str>,
    query: Option<&str>,
    hash: &str,
) -> crate::helpers::Answer {
    let mut body = json!({ "extensions": persisted(hash) });
    if let Some(query) = query {
        body["query"] = json!(query);
    }
    app.send(Method::POST, "/graphql", token, Some(body)).await
}

fn persisted(hash: &str) -> Value {
    json!({"persistedQuery": {"version": 1, "sha256Hash": hash}})
}

fn sha256(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn persisted_queries_register_by_hash_and_run_by_get_with_an_etag() {
    let db = TestDb::create(Backend::Sqlite).await;
    let app = TestApp::on(&db).await;
    let admin = app.admin_token().await;
    let query = "query Me { me { name role } }";
    let hash = sha256(query);

    // Miss: the client is asked for the text.
    let miss = post_persisted(&app, Some(&admin), None, &hash).await;
    assert_eq!(miss.status, StatusCode::OK);
    assert_eq!(miss.body["errors"][0]["message"], "PersistedQueryNotFound");
    assert_eq!(
        miss.body["errors"][0]["extensions"]["code"],
        "PERSISTED_QUERY_NOT_FOUND"
    );

    // A hash that is not the text's: refused, nothing registered.
    let wrong = sha256("{ users { name } }");
    let forged = post_persisted(&app, Some(&admin), Some("{ users { name email } }"), &wrong).await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST);
    assert_eq!(gql_code(&forged.body), "InvalidParameter");
    let still = post_persisted(&app, Some(&admin), None, &wrong).await;
    assert_eq!(still.body["errors"][0]["message"], "PersistedQueryNotFound");

    // Register with the text, then run by hash alone.
    let registered = post_persisted(&app, Some(&admin), Some(query), &hash).await;
    assert_eq!(registered.body["data"]["me"]["name"], crate::helpers::ADMIN);
    let hit = post_persisted(&app, Some(&admin), None, &hash).await;
    assert_eq!(hit.body, registered.body);
    // Without a valid token, no hash is looked up: a known one answers as an
    // unknown one does (no oracle for what others ran), and a text sent with
    // its hash runs without being registered.
    for token in [None, Some("not.a.token")] {
        let anonymous = post_persisted(&app, token, None, &hash).await;
        assert_eq!(anonymous.body, miss.body, "{token:?}");
    }
    let text = "query Anonymous { __typename }";
    let anonymous = post_persisted(&app, None, Some(text), &sha256(text)).await;
    assert_eq!(anonymous.body["data"]["__typename"], "QueryRoot");
    let unregistered = post_persisted(&app, Some(&admin), None, &sha256(text)).await;
    assert_eq!(unregistered.body, miss.body);

    // By GET, with an ETag and 304 on If-None-Match.
    let extensions = persisted(&hash).to_string();
    let url = format!(
        "/graphql?operationName=Me&extensions={}",
        urlencode(&extensions)
    );
    let first = get_as(&app, &url, &admin, None).await;
    assert_eq!(first.status(), StatusCode::OK);
    let etag = first.headers()["etag"].to_str().expect("ascii").to_owned();
    assert_eq!(first.headers()["cache-control"], "private, no-cache");
    let body: Value = first.json().await.expect("json");
    assert_eq!(body, registered.body);
    let again = get_as(&app, &url, &admin, Some(&etag)).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()["etag"], etag.as_str());

    // Another viewer's answer differs, and so does its ETag.
    let other = app.user_with_token(&admin, "kim").await;
    let theirs = get_as(&app, &url, &other, Some(&etag)).await;
    assert_eq!(theirs.status(), StatusCode::OK);
    assert_ne!(theirs.headers()["etag"], etag.as_str());

    // A persisted mutation never runs by GET.
    let mutation = "mutation M { login(name: \"admin\", password: \"x\") { token } }";
    let mutation_hash = sha256(mutation);
    post_persisted(&app, Some(&admin), Some(mutation), &mutation_hash).await;
    let by_get = get_as(
        &app,
        &format!(
            "/graphql?extensions={}",
            urlencode(&persisted(&mutation_hash).to_string())
        ),
        &admin,
        None,
    )
    .await;
    assert_eq!(by_get.status(), StatusCode::METHOD_NOT_ALLOWED);

    // Plain queries run by GET too, variables as JSON, `+` as a space.
    let plain = get_as(
        &app,
        "/graphql?query=query+Type%28%24name%3A+String%21%29+%7B+__type%28name%3A+%24name%29+%7B+name+%7D+%7D&variables=%7B%22name%22%3A%22Pod%22%7D",
        &admin,
        None,
    )
    .await;
    assert_eq!(plain.status(), StatusCode::OK);
    let plain: Value = plain.json().await.expect("json");
    assert_eq!(plain["data"]["__type"]["name"], "Pod", "{plain}");
    app.stop().await;
    db.drop_database().await;
}

/// GETs `path` as `token`, with `If-None-Match` when given.
async fn get_as(app: &TestApp, path: &str, token: &str, etag: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(app.url(path)).bearer_auth(token);
    if let Some(etag) = etag {
        request = request.header("if-none-match", etag);
    }
    request.send().await.expect("answered")
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
