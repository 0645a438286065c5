//! The REST envelope's error paths: bad input is refused, names its field, and
//! changes nothing. One behaviour per test; the ones that could leave a row
//! behind run on every database.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    db_tests,
    helpers::{Answer, Backend, TestApp, TestDb},
};

db_tests!(
    a_create_body_missing_a_field_or_of_the_wrong_shape_names_it_and_creates_nothing,
    a_create_body_failing_validation_names_the_field_and_creates_nothing,
);

/// A gateway on a fresh SQLite database, and an admin token.
async fn gateway() -> (TestDb, TestApp, String) {
    let db = TestDb::create(Backend::Sqlite).await;
    let app = TestApp::on(&db).await;
    let admin = app.admin_token().await;
    (db, app, admin)
}

async fn stop(db: TestDb, app: TestApp) {
    app.stop().await;
    db.drop_database().await;
}

async fn user_count(app: &TestApp, admin: &str) -> usize {
    let answer = app
        .send(Method::GET, "/osp/api/users", Some(admin), None)
        .await;
    answer.body["data"].as_array().expect("list").len()
}

/// Asserts a 400 `InvalidParameter` envelope whose message names `field`.
fn assert_names(answer: &Answer, field: &str, context: &str) {
    assert_eq!(
        answer.status,
        StatusCode::BAD_REQUEST,
        "{context}: {:?}",
        answer.body
    );
    assert_eq!(answer.body["code"], "InvalidParameter", "{context}");
    let msg = answer.body["msg"].as_str().expect("msg");
    assert!(
        msg.starts_with(&format!("invalid {field}:")),
        "{context}: {msg}"
    );
    assert_eq!(answer.body["data"], Value::Null, "{context}");
}

fn good_user() -> Value {
    json!({"name": "judy", "email": "judy@example.com", "password": "judy-password"})
}

fn with(field: &str, value: Value) -> Value {
    let mut body = good_user();
    body[field] = value;
    body
}

fn without(field: &str) -> Value {
    let mut body = good_user();
    body.as_object_mut().expect("object").remove(field);
    body
}

/// Posts each body as a new user and checks that each is refused naming its
/// field, and that no user was created.
async fn refused_creations(db: &TestDb, cases: Vec<(Value, &str)>) {
    let app = TestApp::on(db).await;
    let admin = app.admin_token().await;
    for (body, field) in cases {
        let answer = app
            .send(
                Method::POST,
                "/osp/api/users",
                Some(&admin),
                Some(body.clone()),
            )
            .await;
        assert_names(&answer, field, &body.to_string());
    }
    assert_eq!(user_count(&app, &admin).await, 1, "only the admin exists");
    app.stop().await;
}

async fn a_create_body_missing_a_field_or_of_the_wrong_shape_names_it_and_creates_nothing(
    db: &TestDb,
) {
    refused_creations(
        db,
        vec![
            (without("name"), "name"),
            (without("email"), "email"),
            (without("password"), "password"),
            (with("name", json!(42)), "name"),
            (with("email", json!(["a"])), "email"),
            (with("nickname", json!("j")), "nickname"),
            (json!(["not", "an", "object"]), "body"),
        ],
    )
    .await;
}

async fn a_create_body_failing_validation_names_the_field_and_creates_nothing(db: &TestDb) {
    refused_creations(
        db,
        vec![
            (with("name", json!("")), "name"),
            (with("email", json!("")), "email"),
            (with("password", json!("")), "password"),
            (with("name", json!("x".repeat(65))), "name"),
            (with("name", json!("no spaces")), "name"),
            (with("name", json!("../etc")), "name"),
            (with("email", json!("not-an-email")), "email"),
            (with("password", json!("p".repeat(1025))), "password"),
            (with("role", json!("root")), "role"),
        ],
    )
    .await;
}

#[tokio::test]
async fn a_body_that_is_not_json_is_an_invalid_body() {
    let (db, app, admin) = gateway().await;
    for raw in [
        &b"{\"name\": \"judy\""[..],
        b"",
        b"not json",
        b"{\"name\": }",
    ] {
        let answer = app
            .send_raw(Method::POST, "/osp/api/users", Some(&admin), raw.to_vec())
            .await;
        assert_names(&answer, "body", &String::from_utf8_lossy(raw));
    }
    stop(db, app).await;
}

#[tokio::test]
async fn a_sign_in_without_a_password_says_it_is_required() {
    let (db, app, _) = gateway().await;
    let login = app
        .send(
            Method::POST,
            "/osp/api/login",
            None,
            Some(json!({"name": "admin"})),
        )
        .await;
    assert_eq!(login.status, StatusCode::BAD_REQUEST);
    assert_eq!(login.body["msg"], "invalid password: is required");
    stop(db, app).await;
}

#[tokio::test]
async fn an_update_that_changes_nothing_is_refused() {
    let (db, app, admin) = gateway().await;
    let update = app
        .send(
            Method::PUT,
            "/osp/api/users/admin",
            Some(&admin),
            Some(json!({})),
        )
        .await;
    assert_names(&update, "body", "{}");
    stop(db, app).await;
}

#[tokio::test]
async fn an_update_with_a_value_of_the_wrong_type_names_the_field() {
    let (db, app, admin) = gateway().await;
    let update = app
        .send(
            Method::PUT,
            "/osp/api/users/admin",
            Some(&admin),
            Some(json!({"email": 5})),
        )
        .await;
    assert_eq!(update.status, StatusCode::BAD_REQUEST);
    assert_eq!(update.body["msg"], "invalid email: must be a string");
    stop(db, app).await;
}

#[tokio::test]
async fn a_user_name_in_the_path_is_validated() {
    let (db, app, admin) = gateway().await;
    let bad_path = app
        .send(
            Method::PUT,
            "/osp/api/users/a%2Fb",
            Some(&admin),
            Some(json!({"email": "a@example.com"})),
        )
        .await;
    assert_names(&bad_path, "name", "a/b");
    stop(db, app).await;
}

#[tokio::test]
async fn a_path_that_is_not_utf8_is_an_invalid_path() {
    let (db, app, admin) = gateway().await;
    let not_utf8 = app
        .send(
            Method::PUT,
            "/osp/api/users/%FF",
            Some(&admin),
            Some(json!({"email": "a@example.com"})),
        )
        .await;
    assert_names(&not_utf8, "path", "%FF");
    stop(db, app).await;
}

#[tokio::test]
async fn a_too_long_user_filter_is_refused() {
    let (db, app, admin) = gateway().await;
    let long_filter = app
        .send(
            Method::GET,
            &format!("/osp/api/users?name={}", "x".repeat(65)),
            Some(&admin),
            None,
        )
        .await;
    assert_names(&long_filter, "name", "65 characters");
    stop(db, app).await;
}

#[tokio::test]
async fn an_unknown_path_gets_a_not_found_envelope() {
    let (db, app, admin) = gateway().await;
    let unknown = app
        .send(Method::GET, "/osp/api/nope", Some(&admin), None)
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(
        unknown.body,
        json!({"code": "NotFound", "msg": "no such API path: /osp/api/nope", "data": null})
    );
    stop(db, app).await;
}

#[tokio::test]
async fn a_method_a_path_does_not_serve_gets_a_method_not_allowed_envelope() {
    let (db, app, admin) = gateway().await;
    let wrong_method = app
        .send(Method::DELETE, "/osp/api/users", Some(&admin), None)
        .await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.body["code"], "MethodNotAllowed");
    stop(db, app).await;
}

#[tokio::test]
async fn a_body_over_the_limit_gets_a_payload_too_large_envelope() {
    let (db, app, admin) = gateway().await;
    let huge = json!({"name": "k", "email": "k@example.com", "password": "x".repeat(70 * 1024)});
    let too_big = app
        .send(Method::POST, "/osp/api/users", Some(&admin), Some(huge))
        .await;
    assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(too_big.body["code"], "PayloadTooLarge");
    assert_eq!(user_count(&app, &admin).await, 1, "nothing was created");
    stop(db, app).await;
}

#[tokio::test]
async fn a_request_without_a_token_gets_an_unauthorized_envelope() {
    let (db, app, _) = gateway().await;
    let no_token = app.send(Method::GET, "/osp/api/users", None, None).await;
    assert_eq!(no_token.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        no_token.body,
        json!({"code": "Unauthorized", "msg": "missing or invalid token", "data": null})
    );
    stop(db, app).await;
}

/// The legacy REST API stays lenient on purpose: its documented requests
/// carry no Content-Type (and a misspelt Accept), and a form cannot act as a
/// signed-in user because tokens travel only in the Authorization header.
#[tokio::test]
async fn a_legacy_sign_in_without_content_type_still_works() {
    let (db, app, _) = gateway().await;
    let body = json!({"name": crate::helpers::ADMIN, "password": crate::helpers::ADMIN_PASSWORD});
    let response = app
        .client
        .post(app.url("/osp/api/login"))
        .header("accept", "applicaton/json")
        .body(body.to_string())
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().await.expect("envelope");
    assert_eq!(answer["code"], "Success");
    assert!(answer["data"]["token"].is_string(), "{answer}");
    stop(db, app).await;
}
