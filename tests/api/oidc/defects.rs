//! Every defect a hostile provider can put in a sign-in is refused, with a
//! clear error and an audit event naming it; nothing is signed in, nobody is
//! created and nothing is taken over.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{
    Browser, CALLBACK, fragment,
    hostile::{CLIENT_ID, CLIENT_SECRET, Defect, HostileProvider},
    location, verifier_pair,
};
use crate::inprocess::{Gateway, code};

async fn gateway_for(
    provider: &HostileProvider,
    tweak: impl FnOnce(&mut osp_gateway::config::Config),
) -> Gateway {
    let issuer = provider.issuer().to_owned();
    let gateway = Gateway::with(|config| {
        config.oidc_issuer = Some(issuer);
        config.oidc_client_id = Some(CLIENT_ID.to_owned());
        config.oidc_client_secret = Some(secrecy::SecretString::from(CLIENT_SECRET));
        config.oidc_redirect_url = Some(CALLBACK.to_owned());
        tweak(config);
    })
    .await;
    gateway.wait_for_provider().await;
    gateway
}

async fn sign_in(gateway: &Gateway) -> (String, String) {
    gateway
        .sign_in_through(&mut Browser::new(), "/graphql", |url| url)
        .await
}

#[tokio::test]
async fn every_defective_id_token_is_refused_with_its_reason_in_the_audit_trail() {
    let provider = HostileProvider::start().await;
    let gateway = gateway_for(&provider, |_| {}).await;
    let admin = gateway.admin_token().await;
    let cases = [
        (Defect::AlgNone, "algorithm"),
        (Defect::Hs256WithClientSecret, "algorithm"),
        (Defect::UnknownKey, "signature"),
        (Defect::WrongKeyKnownKid, "signature"),
        (Defect::EmbeddedJwk, "signature"),
        (Defect::WrongIssuer, "issuer"),
        (Defect::WrongAudience, "audience"),
        (Defect::SeveralAudiencesNoAzp, "azp"),
        (Defect::WrongAzp, "azp"),
        (Defect::Expired, "expired"),
        (Defect::FutureIat, "iat"),
        (Defect::MissingNonce, "nonce"),
        (Defect::WrongNonce, "nonce"),
    ];
    for (defect, reason) in cases {
        provider.set_defect(defect);
        let (back, _) = sign_in(&gateway).await;
        assert!(back.starts_with("/graphql#"), "{defect:?}: {back}");
        let answer = fragment(&back);
        assert_eq!(answer["osp_error"], "Unauthorized", "{defect:?}: {back}");
        assert!(
            answer["osp_error_description"].starts_with("sign-in refused: "),
            "{defect:?}: {answer:?}"
        );
        assert!(!answer.contains_key("osp_code"), "{defect:?}");
        let latest = &gateway.login_events(&admin).await[0];
        assert_eq!(
            *latest,
            json!({ "actor": null, "target": null, "outcome": "Unauthorized",
                    "detail": format!("method=oidc reason={reason}") }),
            "{defect:?}"
        );
    }
    // Nobody was created by any of them.
    let users = gateway
        .graphql(Some(&admin), "{ users { name } }", json!({}))
        .await;
    assert_eq!(users["data"]["users"], json!([{ "name": "admin" }]));

    // The same flow with a sound token signs in: the refusals above are the
    // checks', not the harness's.
    provider.set_defect(Defect::None);
    let (back, verifier) = sign_in(&gateway).await;
    let answer = fragment(&back);
    let token = gateway.redeem(&answer["osp_code"], &verifier).await;
    let token = token["data"]["redeemSignInCode"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("{token}"));
    let me = gateway
        .graphql(Some(token), "{ me { name source groups } }", json!({}))
        .await;
    assert_eq!(
        me["data"]["me"],
        json!({ "name": "hostile", "source": "OIDC", "groups": ["dev"] })
    );
}

#[tokio::test]
async fn a_token_under_an_unknown_key_refetches_the_keys_at_most_once_in_10_seconds() {
    let provider = HostileProvider::start().await;
    let gateway = gateway_for(&provider, |_| {}).await;
    assert_eq!(provider.key_fetches(), 1, "discovery fetches the keys once");
    provider.set_defect(Defect::UnknownKey);
    for _ in 0..3 {
        let (back, _) = sign_in(&gateway).await;
        assert_eq!(fragment(&back)["osp_error"], "Unauthorized");
    }
    // Discovery's fetch was less than 10 s ago: the unknown key is refused
    // without fetching again, however often it comes.
    assert_eq!(provider.key_fetches(), 1);
}

#[tokio::test]
async fn a_replayed_callback_is_refused_as_an_unknown_state() {
    let provider = HostileProvider::start().await;
    let gateway = gateway_for(&provider, |_| {}).await;
    let admin = gateway.admin_token().await;
    let (verifier, challenge) = verifier_pair();
    let (_, headers, _) = gateway.start_sign_in(None, Some(&challenge)).await;
    let callback = Browser::new().follow_to_callback(&location(&headers)).await;
    let (status, headers, _) = gateway.callback(&callback).await;
    assert_eq!(status, StatusCode::FOUND);
    let first = fragment(&location(&headers));
    assert!(location(&headers).starts_with("/#osp_code="));

    let (status, _, body) = gateway.callback(&callback).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let body: Value = serde_json::from_str(&body).expect("an envelope");
    assert_eq!(body["code"], "InvalidParameter", "{body}");
    assert!(
        body["msg"].as_str().is_some_and(|m| m.contains("state")),
        "{body}"
    );
    assert_eq!(
        gateway.login_events(&admin).await[0]["detail"],
        "method=oidc reason=state"
    );
    // A state never issued, and none at all, alike.
    for query in ["state=made-up&code=x", "code=x", ""] {
        let (status, _, body) = gateway.callback(&format!("{CALLBACK}?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
    }
    // The first sign-in still works.
    let answer = gateway.redeem(&first["osp_code"], &verifier).await;
    assert!(
        answer["data"]["redeemSignInCode"]["token"].is_string(),
        "{answer}"
    );
}

#[tokio::test]
async fn a_sign_in_code_signs_in_once_and_only_with_the_verifier_that_started_it() {
    let provider = HostileProvider::start().await;
    let gateway = gateway_for(&provider, |_| {}).await;
    let admin = gateway.admin_token().await;

    // Someone else's verifier (a callback link sent to a victim): refused,
    // and the code is used up.
    let (back, verifier) = sign_in(&gateway).await;
    let code_ = fragment(&back)["osp_code"].clone();
    let (other, _) = verifier_pair();
    let answer = gateway.redeem(&code_, &other).await;
    assert_eq!(code(&answer), "Unauthorized", "{answer}");
    let answer = gateway.redeem(&code_, &verifier).await;
    assert_eq!(code(&answer), "Unauthorized", "{answer}");

    // The right verifier signs in, once.
    let (back, verifier) = sign_in(&gateway).await;
    let code_ = fragment(&back)["osp_code"].clone();
    let answer = gateway.redeem(&code_, &verifier).await;
    assert!(
        answer["data"]["redeemSignInCode"]["token"].is_string(),
        "{answer}"
    );
    let again = gateway.redeem(&code_, &verifier).await;
    assert_eq!(code(&again), "Unauthorized", "{again}");
    let garbage = gateway.redeem("not-a-code", &verifier).await;
    assert_eq!(code(&garbage), "Unauthorized", "{garbage}");

    let details: Vec<Value> = gateway
        .login_events(&admin)
        .await
        .iter()
        .map(|event| event["detail"].clone())
        .collect();
    assert_eq!(
        details[..5],
        [
            json!("method=oidc reason=code"),
            json!("method=oidc reason=code"),
            json!("method=oidc"),
            json!("method=oidc reason=code"),
            json!("method=oidc reason=verifier"),
        ]
    );
}

#[tokio::test]
async fn a_sign_in_goes_back_only_to_the_gateway_or_an_allowed_origin() {
    let provider = HostileProvider::start().await;
    let gateway = gateway_for(&provider, |config| {
        config.cors_origins = vec!["https://app.example.com".to_owned()];
    })
    .await;
    let (_, challenge) = verifier_pair();
    for refused in [
        "//evil.example.com/",
        "/\\evil.example.com",
        "https://evil.example.com/",
        "https://app.example.com@evil.example.com/",
        "https://app.example.com.evil.example.com/",
        "javascript:alert(1)",
        "/graphql#x",
    ] {
        let (status, _, body) = gateway.start_sign_in(Some(refused), Some(&challenge)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}: {body}");
        let body: Value = serde_json::from_str(&body).expect("an envelope");
        assert_eq!(body["code"], "InvalidParameter", "{refused}");
        assert!(
            body["msg"].as_str().is_some_and(|m| m.contains("redirect")),
            "{body}"
        );
    }
    for missing in [None, Some("too-short")] {
        let (status, _, body) = gateway.start_sign_in(Some("/"), missing).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body.contains("challenge"), "{body}");
    }
    // An allowed origin gets the code in its own fragment.
    let (back, _) = gateway
        .sign_in_through(
            &mut Browser::new(),
            "https://app.example.com/signed-in",
            |url| url,
        )
        .await;
    assert!(
        back.starts_with("https://app.example.com/signed-in#osp_code="),
        "{back}"
    );
    // The provider was sent there with PKCE S256, a state and a nonce.
    let (_, headers, _) = gateway.start_sign_in(None, Some(&challenge)).await;
    let to_provider = url::Url::parse(&location(&headers)).expect("a URL");
    let query: std::collections::HashMap<String, String> =
        to_provider.query_pairs().into_owned().collect();
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(query["redirect_uri"], CALLBACK);
    assert!(query["scope"].starts_with("openid"), "{query:?}");
    assert_ne!(
        query["code_challenge"], challenge,
        "the browser's challenge stays with the gateway"
    );
    assert!(query["state"].len() >= 43 && query["nonce"].len() >= 43);
    assert_eq!(headers["cache-control"], "no-store");
}

#[tokio::test]
async fn a_name_that_is_taken_is_refused_and_nothing_is_taken_over() {
    let provider = HostileProvider::start().await;
    let gateway = gateway_for(&provider, |_| {}).await;
    let admin = gateway.admin_token().await;

    // The provider's `admin` is not the gateway's.
    provider.sign_in_as("someone-else", "admin");
    let (back, _) = sign_in(&gateway).await;
    let answer = fragment(&back);
    assert_eq!(answer["osp_error"], "UserAlreadyExists", "{back}");
    assert_eq!(
        gateway.login_events(&admin).await[0],
        json!({ "actor": null, "target": "admin", "outcome": "UserAlreadyExists",
                "detail": "method=oidc reason=name taken" })
    );
    let users = gateway
        .graphql(Some(&admin), "{ users { name source } }", json!({}))
        .await;
    assert_eq!(
        users["data"]["users"],
        json!([{ "name": "admin", "source": "LOCAL" }])
    );

    // Users are found by issuer and subject: a new name for the same subject
    // is the same user; the same name for another subject is refused.
    provider.sign_in_as("dana-sub", "dana");
    let (back, verifier) = sign_in(&gateway).await;
    assert!(
        gateway
            .redeem(&fragment(&back)["osp_code"], &verifier)
            .await["errors"]
            .is_null()
    );
    provider.sign_in_as("dana-sub", "dana-renamed");
    let (back, verifier) = sign_in(&gateway).await;
    let token = gateway
        .redeem(&fragment(&back)["osp_code"], &verifier)
        .await;
    let token = token["data"]["redeemSignInCode"]["token"]
        .as_str()
        .expect("token");
    let me = gateway
        .graphql(Some(token), "{ me { name } }", json!({}))
        .await;
    assert_eq!(me["data"]["me"]["name"], "dana");
    provider.sign_in_as("not-dana", "dana");
    let (back, _) = sign_in(&gateway).await;
    assert_eq!(fragment(&back)["osp_error"], "UserAlreadyExists");

    // Dana has no password to guess, and cannot be given one.
    let login = gateway
        .sign_in_from(None, "dana", "any-password-at-all")
        .await;
    assert_eq!(login, Err("Unauthorized".to_owned()));
    let set = gateway
        .graphql(
            Some(&admin),
            "mutation { updateUser(name: \"dana\", input: { password: \"a-new-password\" }) { name } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&set), "InvalidParameter", "{set}");
}

#[tokio::test]
async fn without_discovery_a_sign_in_cannot_start_and_says_when_to_retry() {
    // A provider that is not there (nothing listens on port 9 of 127.0.0.1).
    let gateway = Gateway::with(|config| {
        config.oidc_issuer = Some("http://127.0.0.1:9".to_owned());
        config.oidc_client_id = Some(CLIENT_ID.to_owned());
        config.oidc_redirect_url = Some(CALLBACK.to_owned());
    })
    .await;
    let (_, challenge) = verifier_pair();
    let (status, headers, body) = gateway.start_sign_in(None, Some(&challenge)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(headers["retry-after"], "10");
    let body: Value = serde_json::from_str(&body).expect("an envelope");
    assert_eq!(body["code"], "ServiceUnavailable");

    let (status, _, body) = gateway
        .rest_text(axum::http::Method::GET, "/osp/auth/oidc", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        serde_json::from_str::<Value>(&body).expect("JSON"),
        json!({ "enabled": true, "ready": false })
    );

    // And without a provider configured there is no such route.
    let plain = Gateway::new().await;
    let (status, _, _) = plain.start_sign_in(None, Some(&challenge)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, _, body) = plain
        .rest_text(axum::http::Method::GET, "/osp/auth/oidc", None)
        .await;
    assert_eq!(
        serde_json::from_str::<Value>(&body).expect("JSON"),
        json!({ "enabled": false, "ready": false })
    );
}

#[tokio::test]
async fn starts_and_redemptions_are_limited_per_client_address() {
    let provider = HostileProvider::start().await;
    let gateway = gateway_for(&provider, |config| config.login_limit_per_address = 3).await;
    let (_, challenge) = verifier_pair();
    let client: std::net::IpAddr = [192, 0, 2, 7].into();
    let path = format!("/osp/auth/oidc/login?challenge={challenge}");
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let (status, _, _) = gateway
            .rest_text_from(Some(client), axum::http::Method::GET, &path, None)
            .await;
        statuses.push(status);
    }
    assert_eq!(
        statuses,
        [
            StatusCode::FOUND,
            StatusCode::FOUND,
            StatusCode::FOUND,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    // Another address is not held back by this one.
    let (status, _, _) = gateway
        .rest_text_from(
            Some([192, 0, 2, 8].into()),
            axum::http::Method::GET,
            &path,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FOUND);
    // Redemptions count against the same limit.
    let (verifier, _) = verifier_pair();
    let redeem = |n: u8| {
        gateway.graphql_from(
            Some([192, 0, 2, 9].into()),
            None,
            "mutation($c: String!, $v: String!) { redeemSignInCode(code: $c, verifier: $v) { token } }",
            json!({ "c": format!("guess-{n}"), "v": verifier }),
        )
    };
    let mut codes = Vec::new();
    for n in 0..4 {
        codes.push(code(&redeem(n).await).to_owned());
    }
    assert_eq!(
        codes,
        [
            "Unauthorized",
            "Unauthorized",
            "Unauthorized",
            "TooManyRequests"
        ]
    );
}
