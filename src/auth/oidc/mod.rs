//! Sign-in through the organisation's OpenID Provider: the authorization
//! code flow with PKCE (S256), ID tokens checked to the letter of OpenID
//! Connect Core 3.1.3.7, and a one-time code that hands the sign-in to the
//! browser that started it.
//!
//! The protocol itself is `openidconnect`'s (discovery, the authorization
//! URL, the code exchange, the ID token's signature and claims); this module
//! decides what it is given: the provider's keys only (never one a token
//! names), the asymmetric algorithms the provider advertises, leeway, `azp`,
//! and where the browser may be sent back to ([`redirect`]). What a sign-in
//! keeps between its steps lives in the database ([`store`]), so any replica
//! can finish it. Who the signed-in person is in the gateway (users by issuer
//! and subject, names, groups, admins) is the user store's business
//! (`crate::users::sign_in_oidc`).

pub mod http;
pub mod redirect;
pub mod store;

use std::{
    sync::{Arc, Mutex, RwLock, Weak},
    time::{Duration, Instant},
};

use chrono::Utc;
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndSessionUrl, IssuerUrl, JsonWebKeySet,
    Nonce, PkceCodeChallenge, PkceCodeVerifier, ProviderMetadataWithLogout, RedirectUrl, Scope,
    TokenResponse,
    core::{
        CoreAuthenticationFlow, CoreClient, CoreClientAuthMethod, CoreIdToken, CoreIdTokenVerifier,
        CoreJsonWebKey, CoreJwsSigningAlgorithm,
    },
};
use secrecy::ExposeSecret;

use self::http::ProviderHttp;
use crate::{config::Config, error::AppError};

/// How often discovery is tried again until it succeeds.
pub const DISCOVERY_RETRY: Duration = Duration::from_secs(10);
/// The least time between two fetches of the provider's keys for a token
/// signed with a key the gateway does not know.
pub const KEYS_REFETCH: Duration = Duration::from_secs(10);
/// Clock skew allowed on `exp` and `iat`.
pub const LEEWAY: Duration = Duration::from_secs(60);
/// Groups kept of one sign-in at most (so that the stored list, at most
/// 200 × 258 bytes of JSON, fits a TEXT column on every database).
pub const MAX_GROUPS: usize = 200;
/// The longest group name kept.
pub const MAX_GROUP_LEN: usize = 255;

/// The ID token signing algorithms the gateway accepts (those of them the
/// provider advertises are used): asymmetric only, never `none` or a MAC
/// keyed with the client secret.
const ACCEPTED_ALGORITHMS: [CoreJwsSigningAlgorithm; 9] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// A client built from discovery: authorization and token endpoints set,
/// the others as the provider has them.
type DiscoveredClient = openidconnect::Client<
    openidconnect::EmptyAdditionalClaims,
    openidconnect::core::CoreAuthDisplay,
    openidconnect::core::CoreGenderClaim,
    openidconnect::core::CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    openidconnect::core::CoreAuthPrompt,
    openidconnect::StandardErrorResponse<openidconnect::core::CoreErrorResponseType>,
    openidconnect::core::CoreTokenResponse,
    openidconnect::core::CoreTokenIntrospectionResponse,
    openidconnect::core::CoreRevocableToken,
    openidconnect::core::CoreRevocationErrorResponse,
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// The OpenID Provider settings (`OSP_OIDC_*`).
#[derive(Clone)]
pub struct Settings {
    issuer: IssuerUrl,
    client_id: ClientId,
    client_secret: Option<ClientSecret>,
    redirect_url: RedirectUrl,
    scopes: Vec<String>,
    username_claim: String,
    groups_claim: String,
    admin_groups: Vec<String>,
    state_ttl: Duration,
    cors_origins: Vec<String>,
}

impl Settings {
    /// The settings of a configuration; `None` without `OSP_OIDC_ISSUER`.
    /// The configuration has been validated, so the URLs parse.
    pub fn from_config(config: &Config) -> anyhow::Result<Option<Settings>> {
        let Some(issuer) = &config.oidc_issuer else {
            return Ok(None);
        };
        Ok(Some(Settings {
            issuer: IssuerUrl::new(issuer.clone())?,
            client_id: ClientId::new(config.oidc_client_id.clone().unwrap_or_default()),
            client_secret: config
                .oidc_client_secret
                .as_ref()
                .map(|secret| ClientSecret::new(secret.expose_secret().to_owned())),
            redirect_url: RedirectUrl::new(config.oidc_redirect_url.clone().unwrap_or_default())?,
            scopes: config.oidc_scope_list(),
            username_claim: config.oidc_username_claim.clone(),
            groups_claim: config.oidc_groups_claim.clone(),
            admin_groups: config.oidc_admin_groups.clone(),
            state_ttl: config.oidc_state_ttl,
            cors_origins: config.cors_origins.clone(),
        }))
    }
}

/// What discovery found out about the provider.
struct Provider {
    metadata: ProviderMetadataWithLogout,
    /// The advertised algorithms the gateway accepts.
    algorithms: Vec<CoreJwsSigningAlgorithm>,
    /// The provider's keys, refetched on an unknown key at most every
    /// [`KEYS_REFETCH`].
    keys: RwLock<JsonWebKeySet<CoreJsonWebKey>>,
    keys_fetched: Mutex<Instant>,
}

/// A person the provider vouched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The issuer.
    pub issuer: String,
    /// The subject at the issuer.
    pub subject: String,
    /// Names to try, in order: the username claim, `email`, `sub`.
    pub names: Vec<String>,
    /// The `email` claim, if any.
    pub email: Option<String>,
    /// The groups claim (strings only; at most [`MAX_GROUPS`]).
    pub groups: Vec<String>,
    /// Whether a group is one of `OSP_OIDC_ADMIN_GROUPS`; `None` when none
    /// is configured (roles are then left as they are).
    pub admin: Option<bool>,
}

/// A refused sign-in: the error shown and the audit trail's reason.
#[derive(Debug)]
pub struct Refusal {
    /// What the client is told.
    pub error: AppError,
    /// The defect, for the audit trail (`nonce`, `issuer`, `signature`, ...).
    pub reason: &'static str,
}

impl Refusal {
    fn new(reason: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            error: AppError::SignInRefused(message.into()),
            reason,
        }
    }
}

/// The callback's query: the provider's answer to one sign-in.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Callback {
    /// The authorization code.
    pub code: Option<String>,
    /// The state sent with the sign-in.
    pub state: Option<String>,
    /// The provider's error, when it refused.
    pub error: Option<String>,
    /// Its description.
    pub error_description: Option<String>,
    /// The issuer (RFC 9207), when the provider says.
    pub iss: Option<String>,
}

/// Sign-in through one OpenID Provider.
pub struct Oidc {
    settings: Settings,
    http: ProviderHttp,
    provider: RwLock<Option<Arc<Provider>>>,
}

impl Oidc {
    /// The sign-in of `settings`; discovery starts in the background and is
    /// retried every [`DISCOVERY_RETRY`] until it succeeds.
    pub fn start(settings: Settings) -> anyhow::Result<Arc<Oidc>> {
        let oidc = Arc::new(Oidc {
            settings,
            http: ProviderHttp::new()?,
            provider: RwLock::new(None),
        });
        let weak = Arc::downgrade(&oidc);
        tokio::spawn(discover_until_found(weak));
        Ok(oidc)
    }

    /// Whether discovery has succeeded.
    pub fn is_ready(&self) -> bool {
        self.provider().is_some()
    }

    fn provider(&self) -> Option<Arc<Provider>> {
        self.provider
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    async fn discover(&self) -> anyhow::Result<Provider> {
        let metadata =
            ProviderMetadataWithLogout::discover_async(self.settings.issuer.clone(), &self.http)
                .await?;
        let algorithms: Vec<CoreJwsSigningAlgorithm> = metadata
            .id_token_signing_alg_values_supported()
            .iter()
            .filter(|alg| ACCEPTED_ALGORITHMS.contains(alg))
            .cloned()
            .collect();
        if algorithms.is_empty() {
            anyhow::bail!(
                "the provider advertises no ID token algorithm the gateway accepts \
                 (RS256/384/512, PS256/384/512, ES256/384, EdDSA)"
            );
        }
        let keys = metadata.jwks().clone();
        Ok(Provider {
            metadata,
            algorithms,
            keys: RwLock::new(keys),
            keys_fetched: Mutex::new(Instant::now()),
        })
    }

    fn unavailable() -> AppError {
        AppError::SignInUnavailable {
            retry_after: DISCOVERY_RETRY.as_secs(),
        }
    }

    /// Checks what a sign-in is started with: where to come back to
    /// (default `/`), and the browser's challenge (required). Both, checked.
    pub fn check_start<'a>(
        &self,
        redirect: Option<&'a str>,
        challenge: Option<&'a str>,
    ) -> Result<(&'a str, &'a str), AppError> {
        let redirect = redirect.unwrap_or("/");
        redirect::check(redirect, &self.settings.cors_origins)
            .map_err(|reason| AppError::invalid("redirect", reason))?;
        match challenge {
            Some(challenge) if store::is_challenge(challenge) => Ok((redirect, challenge)),
            _ => Err(AppError::invalid(
                "challenge",
                "required: BASE64URL(SHA-256(verifier)) of a random verifier (43 characters)",
            )),
        }
    }

    /// Starts a sign-in for the browser whose verifier matches `challenge`,
    /// to come back to `redirect` (default `/`): the provider's
    /// authorization URL to send it to.
    pub async fn begin(
        &self,
        db: &sea_orm::DatabaseConnection,
        redirect: Option<&str>,
        challenge: Option<&str>,
    ) -> Result<String, AppError> {
        let (redirect, challenge) = self.check_start(redirect, challenge)?;
        let provider = self.provider().ok_or_else(Self::unavailable)?;
        let (pkce_challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
        let (state, nonce) = (store::random_token(), store::random_token());
        let client = self.client(&provider);
        let mut request = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            {
                let state = state.clone();
                move || CsrfToken::new(state)
            },
            {
                let nonce = nonce.clone();
                move || Nonce::new(nonce)
            },
        );
        for scope in self.settings.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, _, _) = request.set_pkce_challenge(pkce_challenge).url();
        store::save(
            db,
            store::Pending {
                state,
                nonce,
                pkce_verifier: pkce_verifier.secret().clone(),
                challenge: challenge.to_owned(),
                redirect: redirect.to_owned(),
            },
            self.settings.state_ttl,
        )
        .await?;
        Ok(url.to_string())
    }

    fn client(&self, provider: &Provider) -> DiscoveredClient {
        let client = CoreClient::from_provider_metadata(
            provider.metadata.clone(),
            self.settings.client_id.clone(),
            self.settings.client_secret.clone(),
        )
        .set_redirect_uri(self.settings.redirect_url.clone());
        // client_secret_basic unless the provider offers only the body.
        let methods = provider.metadata.token_endpoint_auth_methods_supported();
        let basic = methods.is_none_or(|methods| {
            methods.contains(&CoreClientAuthMethod::ClientSecretBasic)
                || !methods.contains(&CoreClientAuthMethod::ClientSecretPost)
        });
        if basic {
            client
        } else {
            client.set_auth_type(openidconnect::AuthType::RequestBody)
        }
    }

    /// Takes the sign-in a callback names by its state: where the browser
    /// goes back to, and what the rest of the callback needs. Refused
    /// (`InvalidParameter`) when the state is missing, unknown, expired or
    /// used already.
    pub async fn resume(
        &self,
        db: &sea_orm::DatabaseConnection,
        callback: &Callback,
    ) -> Result<entity::oidc_sign_in::Model, Refusal> {
        let taken = match callback.state.as_deref() {
            Some(state) if state.len() <= 64 => store::take(db, state).await,
            _ => Ok(None),
        };
        match taken {
            Ok(Some(pending)) => Ok(pending),
            Ok(None) => Err(Refusal {
                error: AppError::invalid(
                    "state",
                    "unknown, expired or already used sign-in; start the sign-in again",
                ),
                reason: "state",
            }),
            Err(error) => Err(Refusal {
                error,
                reason: "internal",
            }),
        }
    }

    /// Finishes the sign-in `pending` with the provider's answer: exchanges
    /// the code and checks the ID token.
    pub async fn identify(
        &self,
        pending: &entity::oidc_sign_in::Model,
        callback: &Callback,
    ) -> Result<Identity, Refusal> {
        if let Some(error) = &callback.error {
            let description = callback.error_description.as_deref().unwrap_or("");
            return Err(Refusal::new(
                "provider",
                format!(
                    "the identity provider refused: {}",
                    printable(&format!("{error}: {description}"), 200)
                ),
            ));
        }
        if let Some(iss) = &callback.iss
            && iss != self.settings.issuer.as_str()
        {
            return Err(Refusal::new(
                "issuer",
                "the callback names another issuer (RFC 9207)",
            ));
        }
        let Some(code) = callback.code.as_deref() else {
            return Err(Refusal::new("code", "the identity provider sent no code"));
        };
        let provider = self.provider().ok_or_else(|| Refusal {
            error: Self::unavailable(),
            reason: "discovery",
        })?;
        let client = self.client(&provider);
        let exchange = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|_| Refusal::new("code exchange", "the provider has no token endpoint"))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&self.http)
            .await;
        let tokens = exchange.map_err(|err| {
            tracing::warn!(error = %err, "the identity provider refused the code exchange");
            Refusal::new(
                "code exchange",
                "the identity provider did not exchange the code",
            )
        })?;
        let Some(id_token) = tokens.id_token() else {
            return Err(Refusal::new(
                "id token",
                "the identity provider sent no ID token",
            ));
        };
        let nonce = Nonce::new(pending.nonce.clone());
        self.verify(&provider, id_token, &nonce).await
    }

    /// Checks an ID token (signature through the provider's keys, algorithm,
    /// `iss`, `aud`, `azp`, `exp`, `iat`, `nonce`) and reads the person from it.
    async fn verify(
        &self,
        provider: &Provider,
        token: &CoreIdToken,
        nonce: &Nonce,
    ) -> Result<Identity, Refusal> {
        let checked = self.check_claims(provider, token, nonce);
        let checked = match checked {
            Err(openidconnect::ClaimsVerificationError::SignatureVerification(
                openidconnect::SignatureVerificationError::NoMatchingKey,
            )) if self.refetch_keys(provider).await => self.check_claims(provider, token, nonce),
            other => other,
        };
        let claims = checked.map_err(refusal_of)?;
        let audiences = claims.audiences();
        match claims.authorized_party() {
            Some(azp) if **azp != *self.settings.client_id => {
                return Err(Refusal::new(
                    "azp",
                    "the ID token's authorized party is another client",
                ));
            }
            None if audiences.len() > 1 => {
                return Err(Refusal::new(
                    "azp",
                    "the ID token has several audiences and no authorized party",
                ));
            }
            _ => {}
        }
        let payload = payload_of(token).ok_or_else(|| {
            Refusal::new("id token", "the ID token's claims are not a JSON object")
        })?;
        let subject = claims.subject().to_string();
        let email = claims.email().map(|email| email.to_string());
        let mut names = Vec::new();
        if let Some(name) = payload
            .get(&self.settings.username_claim)
            .and_then(|v| v.as_str())
        {
            names.push(name.to_owned());
        }
        names.extend(email.clone());
        names.push(subject.clone());
        let groups = groups_of(payload.get(&self.settings.groups_claim));
        let admin = (!self.settings.admin_groups.is_empty()).then(|| {
            groups
                .iter()
                .any(|group| self.settings.admin_groups.contains(group))
        });
        Ok(Identity {
            issuer: self.settings.issuer.to_string(),
            subject,
            names,
            email,
            groups,
            admin,
        })
    }

    fn check_claims<'t>(
        &self,
        provider: &Provider,
        token: &'t CoreIdToken,
        nonce: &Nonce,
    ) -> Result<&'t openidconnect::core::CoreIdTokenClaims, openidconnect::ClaimsVerificationError>
    {
        let keys = provider
            .keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let leeway = chrono::Duration::from_std(LEEWAY).unwrap_or_default();
        // A public-client verifier: no client secret, so no MAC is ever
        // checked with it; the algorithms are asymmetric ones only anyway.
        let verifier = CoreIdTokenVerifier::new_public_client(
            self.settings.client_id.clone(),
            self.settings.issuer.clone(),
            keys,
        )
        .set_allowed_algs(provider.algorithms.iter().cloned())
        // Several audiences are judged by `azp` (3.1.3.7 steps 4-5), after.
        .set_other_audience_verifier_fn(|_| true)
        .set_time_fn(move || Utc::now() - leeway)
        .set_issue_time_verifier_fn(move |iat| {
            if iat > Utc::now() + leeway {
                Err(format!("iat {iat} is in the future"))
            } else {
                Ok(())
            }
        });
        token.claims(&verifier, nonce)
    }

    /// Fetches the provider's keys again, unless that was done less than
    /// [`KEYS_REFETCH`] ago: whether there are new keys to try.
    async fn refetch_keys(&self, provider: &Provider) -> bool {
        {
            let mut fetched = provider
                .keys_fetched
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if fetched.elapsed() < KEYS_REFETCH {
                return false;
            }
            *fetched = Instant::now();
        }
        match JsonWebKeySet::fetch_async(provider.metadata.jwks_uri(), &self.http).await {
            Ok(keys) => {
                *provider
                    .keys
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = keys;
                true
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot fetch the identity provider's keys");
                false
            }
        }
    }

    /// The provider's end-session URL, when discovery found one.
    pub fn end_session_url(&self) -> Option<String> {
        let provider = self.provider()?;
        let url: &EndSessionUrl = provider
            .metadata
            .additional_metadata()
            .end_session_endpoint
            .as_ref()?;
        let mut url = url.url().clone();
        url.query_pairs_mut()
            .append_pair("client_id", &self.settings.client_id);
        Some(url.to_string())
    }

    /// Where a callback whose sign-in is known sends the browser on failure:
    /// `redirect#osp_error=CODE&osp_error_description=…`.
    pub fn failure_location(redirect: &str, error: &AppError) -> String {
        let fragment = form_urlencoded::Serializer::new(String::new())
            .append_pair("osp_error", error.code().as_str())
            .append_pair("osp_error_description", &error.to_string())
            .finish();
        redirect::with_fragment(redirect, &fragment)
    }

    /// Where a successful callback sends the browser: `redirect#osp_code=…`.
    pub fn success_location(redirect: &str, code: &str) -> String {
        let fragment = form_urlencoded::Serializer::new(String::new())
            .append_pair("osp_code", code)
            .finish();
        redirect::with_fragment(redirect, &fragment)
    }
}

async fn discover_until_found(oidc: Weak<Oidc>) {
    loop {
        let Some(strong) = oidc.upgrade() else { return };
        match strong.discover().await {
            Ok(provider) => {
                tracing::info!(issuer = %strong.settings.issuer.as_str(), "identity provider discovered");
                *strong
                    .provider
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Arc::new(provider));
                return;
            }
            Err(err) => tracing::warn!(
                issuer = %strong.settings.issuer.as_str(),
                error = format!("{err:#}"),
                "identity provider discovery failed; trying again in 10 s"
            ),
        }
        drop(strong);
        tokio::time::sleep(DISCOVERY_RETRY).await;
    }
}

/// The audit reason and message of a failed ID token check.
fn refusal_of(err: openidconnect::ClaimsVerificationError) -> Refusal {
    use openidconnect::{ClaimsVerificationError as C, SignatureVerificationError as S};
    tracing::warn!(error = %err, "an ID token was refused");
    match err {
        C::InvalidIssuer(_) => Refusal::new("issuer", "the ID token is from another issuer"),
        C::InvalidAudience(_) => {
            Refusal::new("audience", "the ID token is not meant for this gateway")
        }
        C::InvalidNonce(_) => Refusal::new("nonce", "the ID token's nonce is missing or wrong"),
        C::Expired(message) if message.starts_with("iat") => {
            Refusal::new("iat", "the ID token is issued in the future")
        }
        C::Expired(_) => Refusal::new("expired", "the ID token has expired"),
        C::SignatureVerification(S::DisallowedAlg(_) | S::NoSignature | S::UnsupportedAlg(_))
        | C::Unsupported(_) => Refusal::new(
            "algorithm",
            "the ID token is not signed with an algorithm the provider advertises",
        ),
        C::SignatureVerification(_) => Refusal::new(
            "signature",
            "the ID token's signature does not verify with the provider's keys",
        ),
        _ => Refusal::new("id token", "the ID token is malformed"),
    }
}

/// The claims of a JWT (already verified) as JSON.
fn payload_of(token: &CoreIdToken) -> Option<serde_json::Map<String, serde_json::Value>> {
    use base64::Engine;
    let compact = token.to_string();
    let payload = compact.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The groups of a groups claim: its strings (one string is one group), at
/// most [`MAX_GROUPS`], each at most [`MAX_GROUP_LEN`] bytes and printable.
fn groups_of(claim: Option<&serde_json::Value>) -> Vec<String> {
    let listed: Vec<&str> = match claim {
        Some(serde_json::Value::Array(items)) => items.iter().filter_map(|v| v.as_str()).collect(),
        Some(serde_json::Value::String(one)) => vec![one.as_str()],
        _ => Vec::new(),
    };
    let mut groups: Vec<String> = Vec::new();
    for group in listed {
        let fit = !group.is_empty()
            && group.len() <= MAX_GROUP_LEN
            && !group.chars().any(char::is_control);
        if fit && !groups.iter().any(|known| known == group) && groups.len() < MAX_GROUPS {
            groups.push(group.to_owned());
        }
    }
    groups
}

/// `text` without control characters, cut to `max` characters.
fn printable(text: &str, max: usize) -> String {
    text.chars().filter(|c| !c.is_control()).take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_strings_once_each_and_bounded() {
        let claim = serde_json::json!(["dev", "ops", "dev", 7, "", "a\nb"]);
        assert_eq!(groups_of(Some(&claim)), ["dev", "ops"]);
        assert_eq!(groups_of(Some(&serde_json::json!("solo"))), ["solo"]);
        assert!(groups_of(None).is_empty());
        let many: Vec<String> = (0..1000).map(|i| format!("g{i}")).collect();
        assert_eq!(groups_of(Some(&serde_json::json!(many))).len(), MAX_GROUPS);
        let long = serde_json::json!(["x".repeat(MAX_GROUP_LEN + 1)]);
        assert!(groups_of(Some(&long)).is_empty());
    }

    #[test]
    fn failures_carry_code_and_description_in_the_fragment() {
        let error = AppError::SignInRefused("the ID token has expired".into());
        let location = Oidc::failure_location("/graphql", &error);
        assert_eq!(
            location,
            "/graphql#osp_error=Unauthorized&osp_error_description=sign-in+refused%3A+the+ID+token+has+expired"
        );
        assert_eq!(Oidc::success_location("/", "abc"), "/#osp_code=abc");
    }

    #[test]
    fn only_asymmetric_algorithms_are_accepted() {
        for alg in [
            CoreJwsSigningAlgorithm::HmacSha256,
            CoreJwsSigningAlgorithm::HmacSha384,
            CoreJwsSigningAlgorithm::HmacSha512,
            CoreJwsSigningAlgorithm::None,
        ] {
            assert!(!ACCEPTED_ALGORITHMS.contains(&alg), "{alg:?}");
        }
    }
}
