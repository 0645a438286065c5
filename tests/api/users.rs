//! Users and sign-in, over REST and GraphQL, on every database backend.

use std::time::Duration;

use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    db_tests,
    helpers::{
        ADMIN, ADMIN_PASSWORD, JWT_SECRET, TestApp, TestDb, gql_code, issued_earlier, test_config,
    },
    inprocess::{Gateway, code},
};

db_tests!(
    login_issues_a_token_that_opens_the_api,
    unknown_user_and_wrong_password_get_the_same_answer,
    admin_creates_and_lists_users_over_rest_and_graphql_alike,
    names_are_unique_regardless_of_case,
    non_admin_cannot_create_users,
    users_update_themselves_but_not_others,
    only_admins_change_roles_and_the_last_admin_stays,
    password_change_invalidates_earlier_tokens,
    concurrent_creates_of_one_name_yield_one_success,
    data_and_tokens_survive_a_restart,
    name_filter_is_a_literal_substring,
);

async fn login_issues_a_token_that_opens_the_api(db: &TestDb) {
    let app = TestApp::on(db).await;

    let rest = app
        .send(
            Method::POST,
            "/osp/api/login",
            None,
            Some(json!({"name": ADMIN, "password": ADMIN_PASSWORD})),
        )
        .await;
    assert_eq!(rest.status, StatusCode::OK);
    assert_eq!(rest.body["code"], "Success");
    assert_eq!(rest.body["msg"], "Success");
    let token = rest.body["data"]["token"].as_str().expect("token");

    let me = app
        .graphql(Some(token), "{ me { name role } }", json!({}))
        .await;
    assert_eq!(
        me,
        json!({"data": {"me": {"name": "admin", "role": "ADMIN"}}})
    );

    let gql = app
        .graphql(
            None,
            "mutation($n: String!, $p: String!) { login(name: $n, password: $p) { token expiresAt } }",
            json!({"n": ADMIN, "p": ADMIN_PASSWORD}),
        )
        .await;
    let expires = gql["data"]["login"]["expiresAt"]
        .as_str()
        .expect("expiresAt");
    let expires = chrono::DateTime::parse_from_rfc3339(expires).expect("RFC 3339");
    let ttl = expires.with_timezone(&Utc) - Utc::now();
    assert!((29 * 60..=30 * 60).contains(&ttl.num_seconds()), "{ttl}");

    let no_token = app.graphql(None, "{ me { name } }", json!({})).await;
    assert_eq!(gql_code(&no_token), "Unauthorized");
    app.stop().await;
}

async fn unknown_user_and_wrong_password_get_the_same_answer(db: &TestDb) {
    let app = TestApp::on(db).await;
    let wrong = app
        .send(
            Method::POST,
            "/osp/api/login",
            None,
            Some(json!({"name": ADMIN, "password": "not-the-password"})),
        )
        .await;
    let unknown = app
        .send(
            Method::POST,
            "/osp/api/login",
            None,
            Some(json!({"name": "nobody", "password": "not-the-password"})),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong.body,
        json!({"code": "Unauthorized", "msg": "invalid name or password", "data": null})
    );
    assert_eq!(unknown.status, wrong.status);
    assert_eq!(unknown.body, wrong.body);
    app.stop().await;
}

async fn admin_creates_and_lists_users_over_rest_and_graphql_alike(db: &TestDb) {
    let app = TestApp::on(db).await;
    let admin = app.admin_token().await;

    let created = app
        .send(
            Method::POST,
            "/osp/api/users",
            Some(&admin),
            Some(json!({"name": "alice", "email": "alice@example.com", "password": "alice-password"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK);
    assert_eq!(
        created.body,
        json!({"code": "Success", "msg": "Success", "data": null})
    );

    let rest = app
        .send(Method::GET, "/osp/api/users?name=ali", Some(&admin), None)
        .await;
    assert_eq!(rest.status, StatusCode::OK);
    let listed = rest.body["data"].as_array().expect("list").clone();
    assert_eq!(listed.len(), 1);
    let alice = &listed[0];
    assert_eq!(alice["name"], "alice");
    assert_eq!(alice["email"], "alice@example.com");
    let keys: Vec<&str> = alice
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["create_time", "email", "name", "update_time"]);
    let create_time = alice["create_time"].as_str().expect("time");
    let parsed = chrono::NaiveDateTime::parse_from_str(create_time, "%Y-%m-%d %H:%M:%S")
        .expect("YYYY-MM-DD HH:MM:SS");
    assert!((Utc::now().naive_utc() - parsed).num_seconds().abs() < 60);

    let gql = app
        .graphql(
            Some(&admin),
            "query($n: String) { users(name: $n) { name email createTime updateTime } }",
            json!({"n": "ali"}),
        )
        .await;
    let from_gql = &gql["data"]["users"][0];
    assert_eq!(from_gql["name"], alice["name"]);
    assert_eq!(from_gql["email"], alice["email"]);
    let gql_time =
        chrono::DateTime::parse_from_rfc3339(from_gql["createTime"].as_str().expect("time"))
            .expect("RFC 3339");
    assert_eq!(
        gql_time.naive_utc(),
        parsed,
        "REST and GraphQL show the same time"
    );

    // Any signed-in user may list users.
    let alice_token = app.login("alice", "alice-password").await;
    let everyone = app
        .send(Method::GET, "/osp/api/users", Some(&alice_token), None)
        .await;
    let names: Vec<&str> = everyone.body["data"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|u| u["name"].as_str())
        .collect();
    assert_eq!(names, ["admin", "alice"]);
    app.stop().await;
}

async fn names_are_unique_regardless_of_case(db: &TestDb) {
    let app = TestApp::on(db).await;
    let admin = app.admin_token().await;
    app.user_with_token(&admin, "Bob").await;

    let again = app
        .send(
            Method::POST,
            "/osp/api/users",
            Some(&admin),
            Some(json!({"name": "bob", "email": "b@example.com", "password": "bob-password"})),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.body["code"], "UserAlreadyExists");

    // Look-ups ignore case too, and the stored spelling is kept.
    let token = app.login("BOB", "Bob-password").await;
    let me = app
        .graphql(Some(&token), "{ me { name } }", json!({}))
        .await;
    assert_eq!(me["data"]["me"]["name"], "Bob");
    let updated = app
        .send(
            Method::PUT,
            "/osp/api/users/bOb",
            Some(&admin),
            Some(json!({"email": "new@example.com"})),
        )
        .await;
    assert_eq!(updated.body["code"], "Success", "{:?}", updated.body);
    app.stop().await;
}

async fn non_admin_cannot_create_users(db: &TestDb) {
    let app = TestApp::on(db).await;
    let admin = app.admin_token().await;
    let carol = app.user_with_token(&admin, "carol").await;
    let denied = app
        .send(
            Method::POST,
            "/osp/api/users",
            Some(&carol),
            Some(json!({"name": "mallory", "email": "m@example.com", "password": "mallory-password"})),
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert_eq!(denied.body["code"], "Forbidden");
    let gql = app
        .graphql(
            Some(&carol),
            r#"mutation { createUser(input: {name: "m2", email: "m@example.com", password: "12345678"}) { name } }"#,
            json!({}),
        )
        .await;
    assert_eq!(gql_code(&gql), "Forbidden");
    assert_eq!(gql["data"], Value::Null);

    let listed = app
        .send(Method::GET, "/osp/api/users", Some(&admin), None)
        .await;
    assert_eq!(
        listed.body["data"].as_array().expect("list").len(),
        2,
        "nothing was created"
    );
    app.stop().await;
}

async fn users_update_themselves_but_not_others(db: &TestDb) {
    let app = TestApp::on(db).await;
    let admin = app.admin_token().await;
    let dave = app.user_with_token(&admin, "dave").await;
    app.user_with_token(&admin, "erin").await;

    let own = app
        .send(
            Method::PUT,
            "/osp/api/users/dave",
            Some(&dave),
            Some(json!({"email": "dave@new.example.com"})),
        )
        .await;
    assert_eq!(own.status, StatusCode::OK, "{:?}", own.body);

    let other = app
        .send(
            Method::PUT,
            "/osp/api/users/erin",
            Some(&dave),
            Some(json!({"email": "hijack@example.com"})),
        )
        .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    assert_eq!(other.body["code"], "Forbidden");

    let by_admin = app
        .send(
            Method::PUT,
            "/osp/api/users/erin",
            Some(&admin),
            Some(json!({"email": "erin@new.example.com"})),
        )
        .await;
    assert_eq!(by_admin.status, StatusCode::OK);

    let missing = app
        .send(
            Method::PUT,
            "/osp/api/users/nobody",
            Some(&admin),
            Some(json!({"email": "x@example.com"})),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.body["code"], "UserNotFound");

    let users = app
        .send(Method::GET, "/osp/api/users", Some(&admin), None)
        .await;
    let emails: Vec<&str> = users.body["data"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|u| u["email"].as_str())
        .collect();
    assert!(emails.contains(&"dave@new.example.com"));
    assert!(emails.contains(&"erin@new.example.com"));
    assert!(!emails.contains(&"hijack@example.com"));
    app.stop().await;
}

async fn only_admins_change_roles_and_the_last_admin_stays(db: &TestDb) {
    let app = TestApp::on(db).await;
    let admin = app.admin_token().await;
    let frank = app.user_with_token(&admin, "frank").await;

    let self_promotion = app
        .send(
            Method::PUT,
            "/osp/api/users/frank",
            Some(&frank),
            Some(json!({"role": "admin"})),
        )
        .await;
    assert_eq!(self_promotion.status, StatusCode::FORBIDDEN);

    let last_admin = app
        .send(
            Method::PUT,
            "/osp/api/users/admin",
            Some(&admin),
            Some(json!({"role": "user"})),
        )
        .await;
    assert_eq!(
        last_admin.status,
        StatusCode::FORBIDDEN,
        "{:?}",
        last_admin.body
    );

    let promoted = app
        .send(
            Method::PUT,
            "/osp/api/users/frank",
            Some(&admin),
            Some(json!({"role": "admin"})),
        )
        .await;
    assert_eq!(promoted.status, StatusCode::OK);
    // The role is read per request, so frank's existing token now acts as admin.
    let me = app
        .graphql(Some(&frank), "{ me { role } }", json!({}))
        .await;
    assert_eq!(me["data"]["me"]["role"], "ADMIN");
    app.stop().await;
}

async fn password_change_invalidates_earlier_tokens(db: &TestDb) {
    let app = TestApp::on(db).await;
    let admin = app.admin_token().await;
    let before = app.user_with_token(&admin, "grace").await;

    let changed = app
        .send(
            Method::PUT,
            "/osp/api/users/grace",
            Some(&before),
            Some(json!({"password": "grace-new-password"})),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK);

    let old = app
        .send(Method::GET, "/osp/api/users", Some(&before), None)
        .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    assert_eq!(old.body["code"], "Unauthorized");

    let old_password = app
        .send(
            Method::POST,
            "/osp/api/login",
            None,
            Some(json!({"name": "grace", "password": "grace-password"})),
        )
        .await;
    assert_eq!(old_password.status, StatusCode::UNAUTHORIZED);
    let after = app.login("grace", "grace-new-password").await;
    let works = app
        .send(Method::GET, "/osp/api/users", Some(&after), None)
        .await;
    assert_eq!(works.status, StatusCode::OK);
    app.stop().await;
}

async fn concurrent_creates_of_one_name_yield_one_success(db: &TestDb) {
    let app = TestApp::on(db).await;
    let admin = app.admin_token().await;
    let attempts = (0..20).map(|i| {
        app.send(
            Method::POST,
            "/osp/api/users",
            Some(&admin),
            Some(json!({"name": "heidi", "email": format!("h{i}@example.com"), "password": "heidi-password"})),
        )
    });
    let answers = futures_util::future::join_all(attempts).await;
    let codes: Vec<&str> = answers
        .iter()
        .map(|a| a.body["code"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(
        codes.iter().filter(|c| **c == "Success").count(),
        1,
        "{codes:?}"
    );
    assert_eq!(
        codes.iter().filter(|c| **c == "UserAlreadyExists").count(),
        19,
        "{codes:?}"
    );
    assert!(
        answers
            .iter()
            .all(|a| a.status == StatusCode::OK || a.status == StatusCode::CONFLICT)
    );
    app.stop().await;
}

async fn data_and_tokens_survive_a_restart(db: &TestDb) {
    // No configured key: the generated one is stored in the database.
    let mut config = test_config(db);
    config.jwt_secret = None;
    let first = TestApp::start(config.clone()).await;
    let admin = first.admin_token().await;
    first.user_with_token(&admin, "ivan").await;
    first.stop().await;

    config.admin_password = None; // not needed again: users exist
    let second = TestApp::start(config).await;
    let users = second
        .send(Method::GET, "/osp/api/users?name=ivan", Some(&admin), None)
        .await;
    assert_eq!(users.status, StatusCode::OK, "the old token still verifies");
    assert_eq!(users.body["data"][0]["name"], "ivan");
    second.login("ivan", "ivan-password").await;
    second.stop().await;
}

async fn name_filter_is_a_literal_substring(db: &TestDb) {
    let app = TestApp::on(db).await;
    let admin = app.admin_token().await;
    for name in ["a_b", "axb", "a.b"] {
        app.user_with_token(&admin, name).await;
    }
    let names = |body: Value| -> Vec<String> {
        body["data"]
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|u| u["name"].as_str().map(str::to_owned))
            .collect()
    };
    let underscore = app
        .send(Method::GET, "/osp/api/users?name=a_b", Some(&admin), None)
        .await;
    assert_eq!(names(underscore.body), ["a_b"]);
    let percent = app
        .send(Method::GET, "/osp/api/users?name=%25", Some(&admin), None)
        .await;
    assert_eq!(names(percent.body), Vec::<String>::new());
    let upper = app
        .send(Method::GET, "/osp/api/users?name=AXB", Some(&admin), None)
        .await;
    assert_eq!(names(upper.body), ["axb"]);
    app.stop().await;
}

// Token checks need only one backend: they never reach past the user look-up.

#[tokio::test]
async fn tampered_foreign_and_unsigned_tokens_are_unauthorized() {
    let db = TestDb::create(crate::helpers::Backend::Sqlite).await;
    let app = TestApp::on(&db).await;
    let token = app.admin_token().await;

    let mut tampered = token.clone().into_bytes();
    let at = tampered.len() - 3;
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ascii");

    let now = Utc::now().timestamp();
    let claims = json!({"sub": "1", "iat": now, "exp": now + 600, "gen": 0});
    let foreign = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(b"some-other-secret-some-other-secret"),
    )
    .expect("sign");
    let header = base64url(br#"{"alg":"none","typ":"JWT"}"#);
    let unsigned = format!("{header}.{}.", base64url(claims.to_string().as_bytes()));

    for bad in [
        tampered.as_str(),
        foreign.as_str(),
        unsigned.as_str(),
        "not-a-jwt",
    ] {
        let answer = app
            .send(Method::GET, "/osp/api/users", Some(bad), None)
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{bad}");
        assert_eq!(answer.body["code"], "Unauthorized", "{bad}");
    }
    let basic = app
        .client
        .get(app.url("/osp/api/users"))
        .header("authorization", "Basic YWRtaW46YWRtaW4=")
        .send()
        .await
        .expect("answered");
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn expired_token_is_rejected_as_expired() {
    let db = TestDb::create(crate::helpers::Backend::Sqlite).await;
    let app = TestApp::on(&db).await;
    let issuer = crate::helpers::claims_of(&app.admin_token().await)["iss"].clone();
    let now = Utc::now().timestamp();
    let claims = json!({"sub": "1", "iat": now - 1200, "exp": now - 30, "gen": 0,
        "iss": issuer, "aud": issuer});
    let expired = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .expect("sign");
    let answer = app
        .send(Method::GET, "/osp/api/users", Some(&expired), None)
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.body,
        json!({"code": "TokenExpired", "msg": "token expired", "data": null})
    );
    let gql = app
        .graphql(Some(&expired), "{ me { name } }", json!({}))
        .await;
    assert_eq!(gql_code(&gql), "TokenExpired");
    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn token_stops_working_soon_after_its_ttl() {
    let db = TestDb::create(crate::helpers::Backend::Sqlite).await;
    let mut config = test_config(&db);
    config.token_ttl = Duration::from_secs(1);
    let app = TestApp::start(config).await;
    let token = app.admin_token().await;
    let fresh = app
        .send(Method::GET, "/osp/api/users", Some(&token), None)
        .await;
    assert_eq!(fresh.status, StatusCode::OK);
    // TTL (1 s) plus the documented leeway (5 s), plus a margin.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let stale = app
        .send(Method::GET, "/osp/api/users", Some(&token), None)
        .await;
    assert_eq!(stale.body["code"], "TokenExpired");
    app.stop().await;
    db.drop_database().await;
}

fn base64url(bytes: &[u8]) -> String {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    URL_SAFE_NO_PAD.encode(bytes)
}

// Changing one's own password: in process, where the transport is not the point.

const CHANGE_PASSWORD: &str = "mutation($name: String!, $input: UpdateUserInput!) { \
    updateUser(name: $name, input: $input) { name } }";

/// A gateway with the user `ivy` (password `ivy-password`), her token from
/// ten minutes ago (past the recent sign-in window), and the admin's token.
async fn ivy_signed_in_long_ago(
    tweak: impl FnOnce(&mut osp_gateway::config::Config),
) -> (Gateway, String, String) {
    let gateway = Gateway::with(tweak).await;
    let admin = gateway.admin_token().await;
    gateway.create_user(&admin, "ivy").await;
    let fresh = gateway
        .sign_in_from(None, "ivy", "ivy-password")
        .await
        .expect("ivy signs in");
    (gateway, issued_earlier(&fresh, 600), admin)
}

/// Whether `name` signs in with `password`.
async fn signs_in(gateway: &Gateway, name: &str, password: &str) -> bool {
    gateway.sign_in_from(None, name, password).await.is_ok()
}

#[tokio::test]
async fn an_old_token_cannot_change_its_own_password_without_the_current_one() {
    let (gateway, old, _) = ivy_signed_in_long_ago(|_| {}).await;
    let answer = gateway
        .graphql(
            Some(&old),
            CHANGE_PASSWORD,
            json!({ "name": "ivy", "input": { "password": "taken-over-1" } }),
        )
        .await;
    assert_eq!(code(&answer), "InvalidParameter", "{answer}");
    let message = answer["errors"][0]["message"].as_str().expect("message");
    assert!(
        message.starts_with("invalid currentPassword: required"),
        "{message}"
    );
    assert!(!signs_in(&gateway, "ivy", "taken-over-1").await);
    assert!(signs_in(&gateway, "ivy", "ivy-password").await);
}

#[tokio::test]
async fn an_old_token_changes_its_own_password_with_the_right_current_one() {
    let (gateway, old, _) = ivy_signed_in_long_ago(|_| {}).await;
    let answer = gateway
        .graphql(
            Some(&old),
            CHANGE_PASSWORD,
            json!({ "name": "ivy",
                    "input": { "password": "ivy-new-password", "currentPassword": "ivy-password" } }),
        )
        .await;
    assert_eq!(
        answer,
        json!({ "data": { "updateUser": { "name": "ivy" } } })
    );
    assert!(signs_in(&gateway, "ivy", "ivy-new-password").await);
}

#[tokio::test]
async fn a_wrong_current_password_is_refused_recorded_and_counted_as_a_sign_in() {
    let (gateway, old, admin) = ivy_signed_in_long_ago(|config| {
        config.login_limit_per_name = 3;
    })
    .await;
    let change = json!({ "name": "ivy",
        "input": { "password": "taken-over-1", "currentPassword": "a-guess-123" } });
    // Ivy's sign-in above was the first attempt of the minute.
    for attempt in 2..=3 {
        let answer = gateway
            .graphql(Some(&old), CHANGE_PASSWORD, change.clone())
            .await;
        assert_eq!(code(&answer), "Unauthorized", "attempt {attempt}: {answer}");
    }
    let answer = gateway
        .graphql(Some(&old), CHANGE_PASSWORD, change.clone())
        .await;
    assert_eq!(code(&answer), "TooManyRequests", "{answer}");
    assert_eq!(
        gateway.sign_in_from(None, "ivy", "ivy-password").await,
        Err("TooManyRequests".to_owned()),
        "the guesses spent ivy's sign-in attempts"
    );

    let events = gateway
        .graphql(
            Some(&admin),
            "{ auditEvents(actor: \"ivy\", action: \"user_updated\") { edges { node { target outcome detail } } } }",
            json!({}),
        )
        .await;
    let outcome = |outcome: &str| json!({ "node": { "target": "ivy", "outcome": outcome, "detail": "fields: password" } });
    assert_eq!(
        events["data"]["auditEvents"]["edges"],
        json!([
            outcome("TooManyRequests"),
            outcome("Unauthorized"),
            outcome("Unauthorized")
        ]),
        "{events}"
    );
}

#[tokio::test]
async fn a_fresh_token_changes_its_own_password_without_the_current_one() {
    let gateway = Gateway::new().await;
    let admin = gateway.admin_token().await;
    gateway.create_user(&admin, "ivy").await;
    let fresh = gateway
        .sign_in_from(None, "ivy", "ivy-password")
        .await
        .expect("ivy signs in");
    let answer = gateway
        .graphql(
            Some(&fresh),
            CHANGE_PASSWORD,
            json!({ "name": "ivy", "input": { "password": "ivy-new-password" } }),
        )
        .await;
    assert_eq!(
        answer,
        json!({ "data": { "updateUser": { "name": "ivy" } } })
    );
}

#[tokio::test]
async fn a_legacy_client_signs_in_and_then_changes_its_password_over_rest() {
    let gateway = Gateway::new().await;
    let admin = gateway.admin_token().await;
    gateway.create_user(&admin, "ivy").await;
    let body = json!({ "name": "ivy", "password": "ivy-password" }).to_string();
    let (_, signed_in) = gateway
        .rest(Method::POST, "/osp/api/login", None, Some(&body))
        .await;
    let token = signed_in["data"]["token"].as_str().expect("token");
    let body = json!({ "password": "ivy-new-password" }).to_string();
    let (status, answer) = gateway
        .rest(Method::PUT, "/osp/api/users/ivy", Some(token), Some(&body))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(signs_in(&gateway, "ivy", "ivy-new-password").await);
}

#[tokio::test]
async fn rest_takes_the_current_password_as_current_password() {
    let (gateway, old, _) = ivy_signed_in_long_ago(|_| {}).await;
    let without = json!({ "password": "ivy-new-password" }).to_string();
    let (status, answer) = gateway
        .rest(
            Method::PUT,
            "/osp/api/users/ivy",
            Some(&old),
            Some(&without),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(answer["code"], "InvalidParameter");

    let with =
        json!({ "password": "ivy-new-password", "current_password": "ivy-password" }).to_string();
    let (status, answer) = gateway
        .rest(Method::PUT, "/osp/api/users/ivy", Some(&old), Some(&with))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(signs_in(&gateway, "ivy", "ivy-new-password").await);
}

#[tokio::test]
async fn an_admin_gives_the_current_password_for_their_own_but_not_for_another() {
    let (gateway, _, admin) = ivy_signed_in_long_ago(|_| {}).await;
    let old_admin = issued_earlier(&admin, 600);
    let own = gateway
        .graphql(
            Some(&old_admin),
            CHANGE_PASSWORD,
            json!({ "name": ADMIN, "input": { "password": "admin-new-password" } }),
        )
        .await;
    assert_eq!(code(&own), "InvalidParameter", "{own}");
    let other = gateway
        .graphql(
            Some(&old_admin),
            CHANGE_PASSWORD,
            json!({ "name": "ivy", "input": { "password": "ivy-reset-password" } }),
        )
        .await;
    assert_eq!(
        other,
        json!({ "data": { "updateUser": { "name": "ivy" } } })
    );
}

#[tokio::test]
async fn a_second_password_change_in_one_operation_is_refused() {
    let gateway = Gateway::new().await;
    let admin = gateway.admin_token().await;
    gateway.create_user(&admin, "ivy").await;
    gateway.create_user(&admin, "jay").await;
    let answer = gateway
        .graphql(
            Some(&admin),
            "mutation { \
             a: updateUser(name: \"ivy\", input: { password: \"ivy-new-password\" }) { name } \
             b: updateUser(name: \"jay\", input: { password: \"jay-new-password\" }) { name } }",
            json!({}),
        )
        .await;
    assert_eq!(answer["data"]["a"], json!({ "name": "ivy" }), "{answer}");
    assert_eq!(answer["data"]["b"], Value::Null, "{answer}");
    assert_eq!(answer["errors"][0]["path"], json!(["b"]), "{answer}");
    assert_eq!(code(&answer), "InvalidParameter", "{answer}");
    assert!(signs_in(&gateway, "ivy", "ivy-new-password").await);
    assert!(signs_in(&gateway, "jay", "jay-password").await, "unchanged");
    let recorded = gateway
        .graphql(
            Some(&admin),
            "{ auditEvents(action: \"user_updated\") { edges { node { target outcome } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        recorded["data"]["auditEvents"]["edges"],
        json!([
            { "node": { "target": "jay", "outcome": "InvalidParameter" } },
            { "node": { "target": "ivy", "outcome": "Success" } },
        ]),
        "{recorded}"
    );
}

#[tokio::test]
async fn wrong_current_passwords_slow_the_accounts_sign_ins_as_failed_sign_ins_do() {
    let (gateway, old, _) = ivy_signed_in_long_ago(|config| config.login_limit_per_name = 1).await;
    let change = json!({ "name": "ivy",
        "input": { "password": "taken-over-1", "currentPassword": "a-guess-123" } });
    for i in 1..=4 {
        let from = Some(std::net::IpAddr::from([10, 0, 0, i]));
        let answer = gateway
            .graphql_from(from, Some(&old), CHANGE_PASSWORD, change.clone())
            .await;
        assert_eq!(code(&answer), "Unauthorized", "{answer}");
    }
    let started = std::time::Instant::now();
    let from = Some(std::net::IpAddr::from([10, 0, 0, 9]));
    assert!(
        gateway
            .sign_in_from(from, "ivy", "ivy-password")
            .await
            .is_ok()
    );
    // Four failures, three past the limit of one: 600 ms.
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(500), "{took:?}");
}
