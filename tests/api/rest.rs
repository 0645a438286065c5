//! The REST envelope's error paths: bad input is refused, names its field, and
//! changes nothing.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    db_tests,
    helpers::{TestApp, TestDb},
};

db_tests!(bad_input_is_refused_with_the_field_named_and_changes_nothing);

async fn user_count(app: &TestApp, admin: &str) -> usize {
    let answer = app
        .send(Method::GET, "/osp/api/users", Some(admin), None)
        .await;
    answer.body["data"].as_array().expect("list").len()
}

async fn bad_input_is_refused_with_the_field_named_and_changes_nothing(db: &TestDb) {
    let app = TestApp::on(db).await;
    let admin = app.admin_token().await;
    let good = json!({"name": "judy", "email": "judy@example.com", "password": "judy-password"});
    let with = |field: &str, value: Value| {
        let mut body = good.clone();
        body[field] = value;
        body
    };
    let without = |field: &str| {
        let mut body = good.clone();
        body.as_object_mut().expect("object").remove(field);
        body
    };
    let cases: Vec<(Value, &str)> = vec![
        (without("name"), "name"),
        (without("email"), "email"),
        (without("password"), "password"),
        (with("name", json!(42)), "name"),
        (with("email", json!(["a"])), "email"),
        (with("name", json!("")), "name"),
        (with("email", json!("")), "email"),
        (with("password", json!("")), "password"),
        (with("name", json!("x".repeat(65))), "name"),
        (with("name", json!("no spaces")), "name"),
        (with("name", json!("../etc")), "name"),
        (with("email", json!("not-an-email")), "email"),
        (with("password", json!("p".repeat(1025))), "password"),
        (with("role", json!("root")), "role"),
        (with("nickname", json!("j")), "nickname"),
        (json!(["not", "an", "object"]), "body"),
    ];
    for (body, field) in cases {
        let answer = app
            .send(
                Method::POST,
                "/osp/api/users",
                Some(&admin),
                Some(body.clone()),
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{body}: {:?}",
            answer.body
        );
        assert_eq!(answer.body["code"], "InvalidParameter", "{body}");
        let msg = answer.body["msg"].as_str().expect("msg");
        assert!(
            msg.starts_with(&format!("invalid {field}:")),
            "{body}: {msg}"
        );
        assert_eq!(answer.body["data"], Value::Null);
    }

    for raw in [
        &b"{\"name\": \"judy\""[..],
        b"",
        b"not json",
        b"{\"name\": }",
    ] {
        let answer = app
            .send_raw(Method::POST, "/osp/api/users", Some(&admin), raw.to_vec())
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert_eq!(answer.body["code"], "InvalidParameter");
        assert!(
            answer.body["msg"]
                .as_str()
                .expect("msg")
                .starts_with("invalid body:")
        );
    }

    let login = app
        .send(
            Method::POST,
            "/osp/api/login",
            None,
            Some(json!({"name": "admin"})),
        )
        .await;
    assert_eq!(login.body["msg"], "invalid password: is required");
    let update = app
        .send(
            Method::PUT,
            "/osp/api/users/admin",
            Some(&admin),
            Some(json!({})),
        )
        .await;
    assert_eq!(update.status, StatusCode::BAD_REQUEST);
    let update = app
        .send(
            Method::PUT,
            "/osp/api/users/admin",
            Some(&admin),
            Some(json!({"email": 5})),
        )
        .await;
    assert_eq!(update.body["msg"], "invalid email: must be a string");
    let bad_path = app
        .send(
            Method::PUT,
            "/osp/api/users/a%2Fb",
            Some(&admin),
            Some(json!({"email": "a@example.com"})),
        )
        .await;
    assert_eq!(bad_path.status, StatusCode::BAD_REQUEST);
    assert!(
        bad_path.body["msg"]
            .as_str()
            .expect("msg")
            .starts_with("invalid name:")
    );
    let not_utf8 = app
        .send(
            Method::PUT,
            "/osp/api/users/%FF",
            Some(&admin),
            Some(json!({"email": "a@example.com"})),
        )
        .await;
    assert_eq!(not_utf8.status, StatusCode::BAD_REQUEST);
    assert!(
        not_utf8.body["msg"]
            .as_str()
            .expect("msg")
            .starts_with("invalid path:"),
        "{:?}",
        not_utf8.body
    );
    let long_filter = app
        .send(
            Method::GET,
            &format!("/osp/api/users?name={}", "x".repeat(65)),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(long_filter.status, StatusCode::BAD_REQUEST);

    assert_eq!(user_count(&app, &admin).await, 1, "only the admin exists");
    app.stop().await;
}

#[tokio::test]
async fn unknown_paths_wrong_methods_and_huge_bodies_get_envelopes() {
    let db = TestDb::create(crate::helpers::Backend::Sqlite).await;
    let app = TestApp::on(&db).await;
    let admin = app.admin_token().await;

    let unknown = app
        .send(Method::GET, "/osp/api/nope", Some(&admin), None)
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(
        unknown.body,
        json!({"code": "NotFound", "msg": "no such API path: /osp/api/nope", "data": null})
    );

    let wrong_method = app
        .send(Method::DELETE, "/osp/api/users", Some(&admin), None)
        .await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.body["code"], "MethodNotAllowed");

    let huge = json!({"name": "k", "email": "k@example.com", "password": "x".repeat(70 * 1024)});
    let too_big = app
        .send(Method::POST, "/osp/api/users", Some(&admin), Some(huge))
        .await;
    assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(too_big.body["code"], "PayloadTooLarge");

    let no_token = app.send(Method::GET, "/osp/api/users", None, None).await;
    assert_eq!(no_token.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        no_token.body,
        json!({"code": "Unauthorized", "msg": "missing or invalid token", "data": null})
    );
    app.stop().await;
    db.drop_database().await;
}
