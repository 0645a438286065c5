//! The whole sign-in over real HTTP, on every database backend: what a
//! sign-in keeps between its steps (state, code), users by issuer and subject,
//! group grants and sign-out, as each database stores them.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{
    Browser, CALLBACK, fragment,
    hostile::{CLIENT_ID, CLIENT_SECRET, HostileProvider},
    verifier_pair,
};
use crate::{
    db_tests,
    helpers::{ADMIN, ADMIN_PASSWORD, TestApp, TestDb, test_config},
};

db_tests!(a_sign_in_through_the_provider_is_kept_and_finished_by_each_database);

/// GETs `path` on the gateway without following redirects: status, Location.
async fn get(app: &TestApp, path: &str) -> (StatusCode, String, String) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let response = client.get(app.url(path)).send().await.expect("answered");
    let status = response.status();
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, location, response.text().await.unwrap_or_default())
}

/// One sign-in as `sub`/`name`: where the gateway sends the browser back to,
/// the verifier, and the callback path (to replay).
async fn sign_in(
    app: &TestApp,
    provider: &HostileProvider,
    sub: &str,
    name: &str,
) -> (String, String, String) {
    provider.sign_in_as(sub, name);
    let (verifier, challenge) = verifier_pair();
    let (status, to_provider, body) = get(
        app,
        &format!("/osp/auth/oidc/login?redirect=%2Fgraphql&challenge={challenge}"),
    )
    .await;
    assert_eq!(status, StatusCode::FOUND, "{body}");
    let callback = Browser::new().follow_to_callback(&to_provider).await;
    let callback = url::Url::parse(&callback).expect("a URL");
    let path = format!(
        "{}?{}",
        callback.path(),
        callback.query().unwrap_or_default()
    );
    let (status, back, body) = get(app, &path).await;
    assert_eq!(status, StatusCode::FOUND, "{body}");
    (back, verifier, path)
}

async fn redeem(app: &TestApp, back: &str, verifier: &str) -> String {
    let answer = app
        .graphql(
            None,
            "mutation($c: String!, $v: String!) { redeemSignInCode(code: $c, verifier: $v) { token } }",
            json!({ "c": fragment(back)["osp_code"], "v": verifier }),
        )
        .await;
    answer["data"]["redeemSignInCode"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("{answer}"))
        .to_owned()
}

async fn a_sign_in_through_the_provider_is_kept_and_finished_by_each_database(db: &TestDb) {
    let provider = HostileProvider::start().await;
    let mut config = test_config(db);
    config.oidc_issuer = Some(provider.issuer().to_owned());
    config.oidc_client_id = Some(CLIENT_ID.to_owned());
    config.oidc_client_secret = Some(secrecy::SecretString::from(CLIENT_SECRET));
    config.oidc_redirect_url = Some(CALLBACK.to_owned());
    let app = TestApp::start(config).await;
    for _ in 0..200 {
        let status: Value = app.get("/osp/auth/oidc").await.json().await.expect("JSON");
        if status["ready"] == json!(true) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    let (back, verifier, callback) = sign_in(&app, &provider, "fay-sub", "fay").await;
    assert!(back.starts_with("/graphql#osp_code="), "{back}");
    let token = redeem(&app, &back, &verifier).await;
    // A state is used once.
    let (status, _, body) = get(&app, &callback).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let admin = app
        .graphql(
            None,
            "mutation($n: String!, $p: String!) { login(name: $n, password: $p) { token } }",
            json!({ "n": ADMIN, "p": ADMIN_PASSWORD }),
        )
        .await;
    let admin = admin["data"]["login"]["token"]
        .as_str()
        .expect("admin token")
        .to_owned();
    let set = app
        .graphql(
            Some(&admin),
            "mutation { setGroupGrants(group: \"dev\", grants: [{ cluster: \"*\", namespace: \"team-a\", reveal: true }]) { group } }",
            json!({}),
        )
        .await;
    assert!(set["errors"].is_null(), "{set}");
    let me = app
        .graphql(
            Some(&token),
            "{ me { name source groups effectiveGrants { cluster namespace reveal } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        me["data"]["me"],
        json!({ "name": "fay", "source": "OIDC", "groups": ["dev"],
                "effectiveGrants": [{ "cluster": "*", "namespace": "team-a", "reveal": true }] })
    );

    // Found again by subject; a taken name refused by the database's index.
    let (back, verifier, _) = sign_in(&app, &provider, "fay-sub", "fay").await;
    let again = redeem(&app, &back, &verifier).await;
    let (back, _, _) = sign_in(&app, &provider, "other-sub", "FAY").await;
    assert_eq!(fragment(&back)["osp_error"], "UserAlreadyExists", "{back}");

    let out = app
        .graphql(
            Some(&again),
            "mutation { signOut { endSessionUrl } }",
            json!({}),
        )
        .await;
    let url = out["data"]["signOut"]["endSessionUrl"]
        .as_str()
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        url.starts_with(&format!("{}/logout?", provider.issuer())),
        "{url}"
    );
    for ended in [&token, &again] {
        let answer = app.graphql(Some(ended), "{ me { name } }", json!({})).await;
        assert_eq!(
            answer["errors"][0]["extensions"]["code"], "Unauthorized",
            "{answer}"
        );
    }
    app.stop().await;
}
