//! Sign-in through an OpenID Provider: the gateway's side of the flow, played
//! by the test as a browser would (start, provider, callback, redemption),
//! against a real certified provider (`real`, the npm package oidc-provider)
//! and against a hostile one (`hostile`) for the defects a real one never
//! produces.

mod backends;
mod defects;
mod hostile;
mod real;

use std::collections::HashMap;

use axum::http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};

use crate::inprocess::Gateway;

/// Where the provider sends the browser back to in the in-process tests (never
/// contacted: the test carries the callback to the gateway itself).
pub(crate) const CALLBACK: &str = "http://127.0.0.1:9/osp/auth/oidc/callback";

/// A PKCE pair as a frontend makes one: a random verifier and its S256
/// challenge.
pub(crate) fn verifier_pair() -> (String, String) {
    use base64::Engine;
    use sha2::Digest;
    let verifier = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

pub(crate) fn location(headers: &HeaderMap) -> String {
    headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("a Location header in {headers:?}"))
        .to_owned()
}

/// The `#…` part of a location, decoded.
pub(crate) fn fragment(location: &str) -> HashMap<String, String> {
    let (_, fragment) = location
        .split_once('#')
        .unwrap_or_else(|| panic!("a fragment in {location}"));
    url::form_urlencoded::parse(fragment.as_bytes())
        .into_owned()
        .collect()
}

/// An HTTP client that follows no redirects and carries cookies by hand
/// (what a browser does between the provider's pages).
pub(crate) struct Browser {
    client: reqwest::Client,
    cookies: HashMap<String, String>,
}

impl Browser {
    pub(crate) fn new() -> Self {
        Browser {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookies: HashMap::new(),
        }
    }

    fn keep_cookies(&mut self, headers: &reqwest::header::HeaderMap) {
        for set in headers.get_all("set-cookie") {
            let Ok(set) = set.to_str() else { continue };
            let pair = set.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                self.cookies
                    .insert(name.trim().to_owned(), value.to_owned());
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// GETs `url` on the provider: status and Location.
    pub(crate) async fn get(&mut self, url: &str) -> (reqwest::StatusCode, Option<String>) {
        let response = self
            .client
            .get(url)
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        self.keep_cookies(response.headers());
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        (response.status(), location)
    }

    /// Follows the provider's redirects from `url` until one leads to the
    /// gateway's callback: that URL.
    pub(crate) async fn follow_to_callback(&mut self, url: &str) -> String {
        let mut next = url.to_owned();
        for _ in 0..10 {
            let (status, location) = self.get(&next).await;
            let location = location.unwrap_or_else(|| {
                panic!("the provider answered {status} to {next} without a redirect")
            });
            let absolute = url::Url::parse(&next)
                .and_then(|base| base.join(&location))
                .expect("a URL")
                .to_string();
            if absolute.contains("/osp/auth/oidc/callback") {
                return absolute;
            }
            next = absolute;
        }
        panic!("the provider never sent the browser back to the gateway");
    }
}

impl Gateway {
    /// `GET /osp/auth/oidc/login`: status, headers, body.
    pub(crate) async fn start_sign_in(
        &self,
        redirect: Option<&str>,
        challenge: Option<&str>,
    ) -> (StatusCode, HeaderMap, String) {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if let Some(redirect) = redirect {
            query.append_pair("redirect", redirect);
        }
        if let Some(challenge) = challenge {
            query.append_pair("challenge", challenge);
        }
        let path = format!("/osp/auth/oidc/login?{}", query.finish());
        self.rest_text(Method::GET, &path, None).await
    }

    /// Waits until the gateway has discovered its provider.
    pub(crate) async fn wait_for_provider(&self) {
        let (_, challenge) = verifier_pair();
        for _ in 0..200 {
            let (status, _, _) = self.start_sign_in(None, Some(&challenge)).await;
            if status != StatusCode::SERVICE_UNAVAILABLE {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the gateway never discovered its identity provider");
    }

    /// Carries the provider's redirect to the callback into the gateway:
    /// status, headers, body.
    pub(crate) async fn callback(&self, callback_url: &str) -> (StatusCode, HeaderMap, String) {
        let url = url::Url::parse(callback_url).expect("a callback URL");
        let path = format!("{}?{}", url.path(), url.query().unwrap_or_default());
        self.rest_text(Method::GET, &path, None).await
    }

    /// `redeemSignInCode`: the answer.
    pub(crate) async fn redeem(&self, code: &str, verifier: &str) -> Value {
        self.graphql(
            None,
            "mutation($c: String!, $v: String!) { redeemSignInCode(code: $c, verifier: $v) { token } }",
            json!({ "c": code, "v": verifier }),
        )
        .await
    }

    /// A whole sign-in as a browser makes it, to the provider's sign-in page
    /// at `provider_url(authorization URL)`: the location the gateway sends
    /// the browser back to, and the verifier.
    pub(crate) async fn sign_in_through(
        &self,
        browser: &mut Browser,
        redirect: &str,
        provider_url: impl FnOnce(String) -> String,
    ) -> (String, String) {
        let (verifier, challenge) = verifier_pair();
        let (status, headers, body) = self.start_sign_in(Some(redirect), Some(&challenge)).await;
        assert_eq!(status, StatusCode::FOUND, "{body}");
        let callback = browser
            .follow_to_callback(&provider_url(location(&headers)))
            .await;
        let (status, headers, body) = self.callback(&callback).await;
        assert_eq!(status, StatusCode::FOUND, "{body}");
        (location(&headers), verifier)
    }

    /// The latest `login` audit events, newest first: (actor, target, outcome,
    /// detail).
    pub(crate) async fn login_events(&self, admin: &str) -> Vec<Value> {
        let answer = self
            .graphql(
                Some(admin),
                "{ auditEvents(action: \"login\", first: 100) { edges { node { actor target outcome detail } } } }",
                json!({}),
            )
            .await;
        answer["data"]["auditEvents"]["edges"]
            .as_array()
            .unwrap_or_else(|| panic!("{answer}"))
            .iter()
            .map(|edge| edge["node"].clone())
            .collect()
    }
}
