//! A small, hostile OpenID Provider: it serves discovery and keys as a real
//! one does, then answers the code exchange with the ID token of whatever
//! defect the test asks for (a real provider never produces them). Every
//! defect must be refused, with a clear error and an audit event.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};

use axum::{
    Form, Json, Router,
    extract::{Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use jsonwebtoken::{Algorithm, EncodingKey, Header, jwk::Jwk};
use serde_json::{Value, json};

pub(crate) const CLIENT_ID: &str = "osp-gateway";
pub(crate) const CLIENT_SECRET: &str = "osp-gateway-secret";

/// What the next ID token gets wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Defect {
    /// Nothing: a valid token.
    None,
    /// `alg: none`, no signature.
    AlgNone,
    /// HS256 keyed with the client secret.
    Hs256WithClientSecret,
    /// Signed with a key outside the provider's keys, under its own `kid`.
    UnknownKey,
    /// Signed with another key under the provider's `kid`.
    WrongKeyKnownKid,
    /// Signed with another key that the header carries (`jwk`), no `kid`.
    EmbeddedJwk,
    /// `iss` of another provider.
    WrongIssuer,
    /// `aud` of another client only.
    WrongAudience,
    /// Two audiences and no `azp`.
    SeveralAudiencesNoAzp,
    /// `azp` of another client.
    WrongAzp,
    /// Expired two minutes ago (past the leeway).
    Expired,
    /// Issued ten minutes from now.
    FutureIat,
    /// No `nonce`.
    MissingNonce,
    /// Another `nonce`.
    WrongNonce,
}

struct Keys {
    provider: EncodingKey,
    provider_jwk: Value,
    stranger: EncodingKey,
    stranger_jwk: Value,
}

struct Issued {
    nonce: String,
}

struct Shared {
    issuer: String,
    keys: Keys,
    defect: Mutex<Defect>,
    codes: Mutex<HashMap<String, Issued>>,
    next: AtomicUsize,
    /// Fetches of the keys document.
    pub(crate) key_fetches: AtomicUsize,
    /// Subject and name of the next sign-in.
    who: Mutex<(String, String)>,
}

/// A running hostile provider on 127.0.0.1.
#[derive(Clone)]
pub(crate) struct HostileProvider(Arc<Shared>);

fn jwk_of(key: &EncodingKey, kid: &str) -> Value {
    let jwk = Jwk::from_encoding_key(key, Algorithm::RS256).expect("a JWK of the key");
    let mut value = serde_json::to_value(jwk).expect("JWK serialises");
    value["kid"] = json!(kid);
    value["use"] = json!("sig");
    value["alg"] = json!("RS256");
    value
}

fn key(file: &str) -> EncodingKey {
    let path = format!("{}/tests/oidc/keys/{file}", env!("CARGO_MANIFEST_DIR"));
    let der = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    EncodingKey::from_rsa_der(&der)
}

impl HostileProvider {
    /// Starts one on a random port of 127.0.0.1.
    pub(crate) async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let issuer = format!("http://{}", listener.local_addr().expect("addr"));
        let provider = key("provider-key.der");
        let stranger = key("stranger-key.der");
        let keys = Keys {
            provider_jwk: jwk_of(&provider, "provider"),
            stranger_jwk: jwk_of(&stranger, "stranger"),
            provider,
            stranger,
        };
        let shared = Arc::new(Shared {
            issuer,
            keys,
            defect: Mutex::new(Defect::None),
            codes: Mutex::default(),
            next: AtomicUsize::new(0),
            key_fetches: AtomicUsize::new(0),
            who: Mutex::new(("hostile-sub".into(), "hostile".into())),
        });
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .with_state(shared.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        HostileProvider(shared)
    }

    pub(crate) fn issuer(&self) -> &str {
        &self.0.issuer
    }

    pub(crate) fn set_defect(&self, defect: Defect) {
        *self.0.defect.lock().expect("lock") = defect;
    }

    pub(crate) fn sign_in_as(&self, subject: &str, name: &str) {
        *self.0.who.lock().expect("lock") = (subject.to_owned(), name.to_owned());
    }

    pub(crate) fn key_fetches(&self) -> usize {
        self.0.key_fetches.load(Ordering::SeqCst)
    }
}

async fn discovery(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let issuer = &shared.issuer;
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "end_session_endpoint": format!("{issuer}/logout"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        // What a careless provider might advertise: the gateway must still
        // use only the asymmetric ones.
        "id_token_signing_alg_values_supported": ["RS256", "HS256", "none"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

async fn jwks(State(shared): State<Arc<Shared>>) -> Json<Value> {
    shared.key_fetches.fetch_add(1, Ordering::SeqCst);
    Json(json!({ "keys": [shared.keys.provider_jwk] }))
}

async fn authorize(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let code = format!("code-{}", shared.next.fetch_add(1, Ordering::SeqCst));
    let nonce = query.get("nonce").cloned().unwrap_or_default();
    shared
        .codes
        .lock()
        .expect("lock")
        .insert(code.clone(), Issued { nonce });
    let mut location = url::Url::parse(&query["redirect_uri"]).expect("redirect_uri");
    location
        .query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", &query["state"]);
    (
        StatusCode::FOUND,
        [(header::LOCATION, location.to_string())],
    )
        .into_response()
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

async fn token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    use base64::Engine;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    );
    if headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        != Some(&expected)
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "invalid_client" })),
        )
            .into_response();
    }
    let Some(issued) = form
        .get("code")
        .and_then(|code| shared.codes.lock().expect("lock").remove(code))
    else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "invalid_grant" })),
        )
            .into_response();
    };
    assert!(form.contains_key("code_verifier"), "PKCE verifier sent");
    let defect = *shared.defect.lock().expect("lock");
    let (subject, name) = shared.who.lock().expect("lock").clone();
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({
        "iss": shared.issuer,
        "sub": subject,
        "aud": CLIENT_ID,
        "exp": now + 300,
        "iat": now,
        "nonce": issued.nonce,
        "preferred_username": name,
        "groups": ["dev"],
    });
    match defect {
        Defect::WrongIssuer => claims["iss"] = json!("http://127.0.0.1:1"),
        Defect::WrongAudience => claims["aud"] = json!("another-client"),
        Defect::SeveralAudiencesNoAzp => claims["aud"] = json!([CLIENT_ID, "another-client"]),
        Defect::WrongAzp => claims["azp"] = json!("another-client"),
        Defect::Expired => claims["exp"] = json!(now - 120),
        Defect::FutureIat => claims["iat"] = json!(now + 600),
        Defect::MissingNonce => {
            claims.as_object_mut().expect("object").remove("nonce");
        }
        Defect::WrongNonce => claims["nonce"] = json!("not-the-nonce"),
        _ => {}
    }
    let signed = |key: &EncodingKey, header: Header| {
        jsonwebtoken::encode(&header, &claims, key).expect("signs")
    };
    let rs256 = |kid: &str| {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.to_owned());
        header
    };
    let id_token = match defect {
        Defect::AlgNone => format!(
            "{}.{}.",
            b64(br#"{"alg":"none","typ":"JWT"}"#),
            b64(claims.to_string().as_bytes())
        ),
        Defect::Hs256WithClientSecret => signed(
            &EncodingKey::from_secret(CLIENT_SECRET.as_bytes()),
            Header::new(Algorithm::HS256),
        ),
        Defect::UnknownKey => signed(&shared.keys.stranger, rs256("stranger")),
        Defect::WrongKeyKnownKid => signed(&shared.keys.stranger, rs256("provider")),
        Defect::EmbeddedJwk => {
            let mut header = Header::new(Algorithm::RS256);
            header.jwk =
                Some(serde_json::from_value(shared.keys.stranger_jwk.clone()).expect("a JWK"));
            signed(&shared.keys.stranger, header)
        }
        _ => signed(&shared.keys.provider, rs256("provider")),
    };
    Json(json!({
        "access_token": "opaque",
        "token_type": "Bearer",
        "expires_in": 300,
        "id_token": id_token,
    }))
    .into_response()
}
