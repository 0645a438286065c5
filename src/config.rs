//! Configuration: the command line, with environment fallbacks.
//!
//! This is the only module that reads environment variables. [`Config`] is the
//! command line itself (clap), parsed and checked once at start-up by
//! [`Config::load`], which reports every problem at once. Tests build differently
//! configured gateways from [`Config::new`]. Secrets are [`SecretString`]s: their
//! `Debug` output is redacted and they are zeroed when dropped.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::Parser;
use secrecy::{ExposeSecret, SecretString};

use crate::k8s::{logs::LogLimits, redact::Redaction};

/// Default address to serve on.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default database: an embedded SQLite file next to the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://osp.db?mode=rwc";
/// Default name of the bootstrapped admin.
pub const DEFAULT_ADMIN_NAME: &str = "admin";
/// Default file a generated admin password is written to.
pub const DEFAULT_ADMIN_PASSWORD_FILE: &str = "osp-admin-password";
/// Default token lifetime.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(30 * 60);
/// Default time after signing in during which a user may change their own
/// password without giving the current one.
pub const DEFAULT_RECENT_SIGN_IN: Duration = Duration::from_secs(5 * 60);
/// The longest token lifetime accepted.
pub const MAX_TOKEN_TTL: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// Default name of the cluster the gateway runs in, when it runs in a pod.
pub const DEFAULT_IN_CLUSTER_NAME: &str = "in-cluster";
/// Default bound on connecting to and hearing from a cluster.
pub const DEFAULT_CLUSTER_TIMEOUT: Duration = Duration::from_secs(5);
/// Default bound on serving cached data while a watch keeps failing.
pub const DEFAULT_CACHE_STALE_AFTER: Duration = Duration::from_secs(30);
/// The shortest secret accepted for `OSP_JWT_SECRET` (HS256 wants at least 256 bits).
pub const MIN_JWT_SECRET_LEN: usize = 32;
/// Default bound on answering one request.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Default bound on receiving a request's headers.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Default number of connections served at once.
pub const DEFAULT_MAX_CONNECTIONS: usize = 2048;
/// Default cap on the bytes of one answer.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;
/// The smallest answer cap accepted (the playground's introspection answer fits).
pub const MIN_MAX_RESPONSE_BYTES: u64 = 256 * 1024;
/// Default period of re-checking the token of an open WebSocket connection.
pub const DEFAULT_WS_RECHECK: Duration = Duration::from_secs(15);
/// Default time audit events are kept.
pub const DEFAULT_AUDIT_RETENTION: Duration = Duration::from_secs(90 * 24 * 60 * 60);
/// Default sign-in attempts allowed per user name and minute.
pub const DEFAULT_LOGIN_LIMIT_PER_NAME: u32 = 10;
/// Default sign-in attempts allowed per client address and minute.
pub const DEFAULT_LOGIN_LIMIT_PER_ADDRESS: u32 = 30;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines (coloured on a terminal).
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Who may run GraphQL introspection (`__schema`, `__type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Introspection {
    /// Signed-in callers only (the playground introspects once signed in).
    #[default]
    True,
    /// Anyone, signed in or not.
    Public,
    /// Nobody.
    False,
}

/// Reads a secret from the command line or the environment.
fn parse_secret(value: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(value))
}

/// OSP Gateway: one authenticated GraphQL (and legacy REST) API over several
/// Kubernetes clusters and a user store.
///
/// Every option can also be given as the environment variable named beside it.
#[derive(Debug, Clone, Parser)]
#[command(name = "osp-gateway", version, about, long_about = None)]
pub struct Config {
    /// Address to serve HTTP on (use port 0 to pick a free port).
    #[arg(long, env = "OSP_LISTEN", default_value = DEFAULT_LISTEN)]
    pub listen: SocketAddr,

    /// Database URL: sqlite://FILE?mode=rwc (embedded, the default),
    /// postgres://USER@HOST/DB or mysql://USER@HOST/DB (MariaDB or MySQL).
    /// (The URL may hold a password, so --help never shows the variable's value.)
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true, value_parser = parse_secret)]
    pub database_url: SecretString,

    /// Name of the admin created when the user table is empty.
    #[arg(long, env = "OSP_ADMIN_NAME", default_value = DEFAULT_ADMIN_NAME)]
    pub admin_name: String,

    /// Password of that admin. When unset, a strong password is generated and
    /// written to --admin-password-file (never to the log).
    #[arg(long, env = "OSP_ADMIN_PASSWORD", hide_env_values = true, value_parser = parse_secret)]
    pub admin_password: Option<SecretString>,

    /// Where a generated admin password is written, readable only by the
    /// gateway's user (the file is replaced if it exists).
    #[arg(long, env = "OSP_ADMIN_PASSWORD_FILE", default_value = DEFAULT_ADMIN_PASSWORD_FILE)]
    pub admin_password_file: PathBuf,

    /// HMAC key that signs tokens (at least 32 bytes). When unset, a key is
    /// generated at first start and kept in the database, so restarts and
    /// replicas agree.
    #[arg(long, env = "OSP_JWT_SECRET", hide_env_values = true, value_parser = parse_secret)]
    pub jwt_secret: Option<SecretString>,

    /// Token lifetime, e.g. 30m, 1h, 90s (at most 7 days).
    #[arg(long, env = "OSP_TOKEN_TTL", default_value = "30m", value_parser = parse_duration)]
    pub token_ttl: Duration,

    /// How long after signing in a user may change their own password without
    /// giving the current one, e.g. 5m (0s: always give it); with an older
    /// token, currentPassword (REST: current_password) is required.
    #[arg(long, env = "OSP_RECENT_SIGN_IN", default_value = "5m", value_parser = parse_duration)]
    pub recent_sign_in: Duration,

    /// Kubeconfig file whose contexts are the clusters (one cluster per context,
    /// named after it); repeat the flag to merge several. Falls back to
    /// $KUBECONFIG (a list of files is merged), then ~/.kube/config; with none,
    /// the gateway serves no clusters.
    #[arg(
        long = "kubeconfig",
        env = "OSP_KUBECONFIG",
        value_name = "FILE",
        num_args = 1
    )]
    pub kubeconfig_paths: Vec<PathBuf>,

    /// Name of the cluster the gateway itself runs in (through its service
    /// account), when it runs in a pod.
    #[arg(long, env = "OSP_IN_CLUSTER_NAME", default_value = DEFAULT_IN_CLUSTER_NAME)]
    pub in_cluster_name: String,

    /// Whether the gateway runs in a pod, where it also serves its own cluster
    /// (set by [`Config::load`] from the pod's environment).
    #[arg(skip)]
    pub in_a_pod: bool,

    /// How long to wait for a cluster to connect and to answer, e.g. 5s.
    #[arg(long, env = "OSP_CLUSTER_TIMEOUT", default_value = "5s", value_parser = parse_duration)]
    pub cluster_timeout: Duration,

    /// Watch cache for pods, nodes and ReplicaSets: on (start watching every
    /// cluster at start-up), lazy (at a cluster's first use) or off (every read
    /// goes to the API server).
    #[arg(long, env = "OSP_POD_CACHE", value_enum, default_value_t = CacheMode::On)]
    pub pod_cache: CacheMode,

    /// How long cached data may still be served while a cluster's watch keeps
    /// failing; after that, reads go to the API server directly.
    #[arg(long, env = "OSP_CACHE_STALE_AFTER", default_value = "30s", value_parser = parse_duration)]
    pub cache_stale_after: Duration,

    /// Log filter in tracing's EnvFilter syntax, e.g. info or osp_gateway=debug.
    #[arg(long, env = "OSP_LOG", default_value = "info")]
    pub log: String,

    /// Log line format: text, or json (one object per line, with the request's
    /// span fields such as request_id).
    #[arg(long, env = "OSP_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Browser origins allowed to call the API cross-origin (CORS), comma
    /// separated, e.g. https://app.example.com,http://localhost:3000. Off when
    /// empty. `*` is refused: list each origin.
    #[arg(long, env = "OSP_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,

    /// Longest time to answer a request to /graphql or /osp/api, e.g. 30s;
    /// slower requests get 504 with the code Timeout.
    #[arg(long, env = "OSP_REQUEST_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub request_timeout: Duration,

    /// Longest time a client may take to send a request's headers, e.g. 10s;
    /// slower connections are closed.
    #[arg(long, env = "OSP_HEADER_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub header_timeout: Duration,

    /// Largest answer the gateway sends, in bytes (a GraphQL answer, or a REST
    /// answer of the same data). Estimated before an answer is built, so an
    /// over-large request is refused (ResponseTooLarge) before it costs memory;
    /// a user's requests over a quarter of it run two at a time.
    #[arg(long, env = "OSP_MAX_RESPONSE_BYTES", default_value_t = DEFAULT_MAX_RESPONSE_BYTES)]
    pub max_response_bytes: u64,

    /// Connections served at once; further ones wait until one closes.
    #[arg(long, env = "OSP_MAX_CONNECTIONS", default_value_t = DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,

    /// How often an open WebSocket connection's token, role and grants are
    /// checked again, e.g. 15s: a revoked token closes the connection, and a
    /// subscription the user's grants no longer cover ends with Forbidden.
    #[arg(long, env = "OSP_WS_RECHECK", default_value = "15s", value_parser = parse_duration)]
    pub ws_recheck: Duration,

    /// How long audit events are kept, e.g. 90d; older ones are pruned hourly.
    #[arg(long, env = "OSP_AUDIT_RETENTION", default_value = "90d", value_parser = parse_duration)]
    pub audit_retention: Duration,

    /// GraphQL introspection (`__schema`, `__type`), which the playground uses
    /// for its documentation and completion: `true` (signed-in callers only),
    /// `public` (anyone) or `false` (nobody). Callers without a valid token
    /// never get field suggestions ("Did you mean ...") either way.
    #[arg(long, env = "OSP_INTROSPECTION", value_enum, default_value_t = Introspection::True)]
    pub introspection: Introspection,

    /// Sign-in attempts allowed per user name and client address each minute;
    /// a name failing more often from anywhere is slowed down, never refused
    /// (0: neither). On PostgreSQL and MariaDB they are counted in the
    /// database, across replicas.
    #[arg(long, env = "OSP_LOGIN_LIMIT_PER_NAME", default_value_t = DEFAULT_LOGIN_LIMIT_PER_NAME)]
    pub login_limit_per_name: u32,

    /// Sign-in attempts allowed per client address and minute (0: no limit).
    #[arg(long, env = "OSP_LOGIN_LIMIT_PER_ADDRESS", default_value_t = DEFAULT_LOGIN_LIMIT_PER_ADDRESS)]
    pub login_limit_per_address: u32,

    /// Container log follows a user may have open at once (a podLogLines
    /// subscription or a REST follow=true counts one each); the next answers
    /// TooManyRequests.
    #[arg(long, env = "OSP_LOG_FOLLOWS_PER_USER", default_value_t = DEFAULT_LOG_LIMITS.follows_per_user)]
    pub log_follows_per_user: usize,

    /// Container log follows open at once in this gateway.
    #[arg(long, env = "OSP_LOG_FOLLOWS", default_value_t = DEFAULT_LOG_LIMITS.follows)]
    pub log_follows: usize,

    /// Pods a `logs` selector may match when it starts.
    #[arg(long, env = "OSP_LOG_SELECTOR_PODS", default_value_t = DEFAULT_LOG_LIMITS.selector_pods)]
    pub log_selector_pods: usize,

    /// Longest log line passed on, in bytes: a longer one is cut there and
    /// ends with " [cut]".
    #[arg(long, env = "OSP_LOG_LINE_BYTES", default_value_t = DEFAULT_LOG_LIMITS.line_bytes)]
    pub log_line_bytes: usize,

    /// Most bytes one log read (podLogs, REST without follow) returns.
    #[arg(long, env = "OSP_LOG_MAX_BYTES", default_value_t = DEFAULT_LOG_LIMITS.max_bytes)]
    pub log_max_bytes: usize,

    /// Secrets in `json` and `yaml` answers of every kind: `on` replaces
    /// literal env values of every container by "(redacted)", removes the
    /// kubectl.kubernetes.io/last-applied-configuration annotation and
    /// redacts the annotations of OSP_REDACT_ANNOTATIONS, for viewers without
    /// a revealing grant there (admins see objects as they are); `off` shows
    /// everything to every viewer.
    #[arg(long, env = "OSP_REDACT", value_enum, default_value_t = RedactMode::On)]
    pub redact: RedactMode,

    /// Annotations whose values are redacted too, comma separated, e.g.
    /// vault.hashicorp.com/agent-inject-token.
    #[arg(long, env = "OSP_REDACT_ANNOTATIONS", value_delimiter = ',')]
    pub redact_annotations: Vec<String>,

    /// Sign-in through an OpenID Provider (Keycloak, Dex, Entra ID, Okta,
    /// Google): its issuer URL (https; http only on a loopback address).
    /// Discovery runs at start-up and is retried every 10 s; unset, only
    /// local users sign in.
    #[arg(long, env = "OSP_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,

    /// The gateway's client id at the OpenID Provider.
    #[arg(long, env = "OSP_OIDC_CLIENT_ID")]
    pub oidc_client_id: Option<String>,

    /// The gateway's client secret at the OpenID Provider.
    #[arg(long, env = "OSP_OIDC_CLIENT_SECRET", hide_env_values = true, value_parser = parse_secret)]
    pub oidc_client_secret: Option<SecretString>,

    /// The callback URL registered at the provider: this gateway's public
    /// address followed by /osp/auth/oidc/callback.
    #[arg(long, env = "OSP_OIDC_REDIRECT_URL")]
    pub oidc_redirect_url: Option<String>,

    /// Scopes asked of the provider, separated by spaces or commas (openid is
    /// always asked).
    #[arg(long, env = "OSP_OIDC_SCOPES", default_value = DEFAULT_OIDC_SCOPES)]
    pub oidc_scopes: String,

    /// The ID token claim that names the user (else email, else sub).
    #[arg(
        long,
        env = "OSP_OIDC_USERNAME_CLAIM",
        default_value = "preferred_username"
    )]
    pub oidc_username_claim: String,

    /// The ID token claim that lists the user's groups.
    #[arg(long, env = "OSP_OIDC_GROUPS_CLAIM", default_value = "groups")]
    pub oidc_groups_claim: String,

    /// Groups whose members are admins, comma separated; decided again at
    /// every sign-in (leaving the group ends it at the next one).
    #[arg(long, env = "OSP_OIDC_ADMIN_GROUPS", value_delimiter = ',')]
    pub oidc_admin_groups: Vec<String>,

    /// How long a sign-in sent to the provider may take to come back.
    #[arg(long, env = "OSP_OIDC_STATE_TTL", default_value = "10m", value_parser = parse_duration)]
    pub oidc_state_ttl: Duration,
}

/// The default `OSP_OIDC_SCOPES`.
pub const DEFAULT_OIDC_SCOPES: &str = "openid profile email groups";

/// Whether `json` and `yaml` answers are redacted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RedactMode {
    /// Redacted, unless the viewer's grant reveals them.
    On,
    /// Shown as the API server has them, to every viewer.
    Off,
}

/// The defaults of the `OSP_LOG_*` limits.
pub const DEFAULT_LOG_LIMITS: LogLimits = LogLimits {
    follows_per_user: 20,
    follows: 1_000,
    selector_pods: 100,
    line_bytes: 16 * 1024,
    max_bytes: 10 * 1024 * 1024,
};

/// When the watch caches start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CacheMode {
    /// Watch every cluster from start-up.
    On,
    /// Watch a cluster from its first use.
    Lazy,
    /// No cache: every read goes to the API server.
    Off,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{e} (examples: 30m, 1h, 90s)"))
}

impl Config {
    /// A configuration with every default, on the given database, serving no
    /// clusters (tests add theirs).
    pub fn new(database_url: impl Into<String>) -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: SecretString::from(database_url.into()),
            admin_name: DEFAULT_ADMIN_NAME.to_owned(),
            admin_password: None,
            admin_password_file: PathBuf::from(DEFAULT_ADMIN_PASSWORD_FILE),
            jwt_secret: None,
            token_ttl: DEFAULT_TOKEN_TTL,
            recent_sign_in: DEFAULT_RECENT_SIGN_IN,
            kubeconfig_paths: Vec::new(),
            in_cluster_name: DEFAULT_IN_CLUSTER_NAME.to_owned(),
            in_a_pod: false,
            cluster_timeout: DEFAULT_CLUSTER_TIMEOUT,
            pod_cache: CacheMode::On,
            cache_stale_after: DEFAULT_CACHE_STALE_AFTER,
            log: "info".to_owned(),
            log_format: LogFormat::Text,
            cors_origins: Vec::new(),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            ws_recheck: DEFAULT_WS_RECHECK,
            audit_retention: DEFAULT_AUDIT_RETENTION,
            introspection: Introspection::True,
            login_limit_per_name: DEFAULT_LOGIN_LIMIT_PER_NAME,
            login_limit_per_address: DEFAULT_LOGIN_LIMIT_PER_ADDRESS,
            log_follows_per_user: DEFAULT_LOG_LIMITS.follows_per_user,
            log_follows: DEFAULT_LOG_LIMITS.follows,
            log_selector_pods: DEFAULT_LOG_LIMITS.selector_pods,
            log_line_bytes: DEFAULT_LOG_LIMITS.line_bytes,
            log_max_bytes: DEFAULT_LOG_LIMITS.max_bytes,
            redact: RedactMode::On,
            redact_annotations: Vec::new(),
            oidc_issuer: None,
            oidc_client_id: None,
            oidc_client_secret: None,
            oidc_redirect_url: None,
            oidc_scopes: DEFAULT_OIDC_SCOPES.to_owned(),
            oidc_username_claim: "preferred_username".to_owned(),
            oidc_groups_claim: "groups".to_owned(),
            oidc_admin_groups: Vec::new(),
            oidc_state_ttl: Duration::from_secs(10 * 60),
        }
    }

    /// The scopes asked of the OpenID Provider: `openid` first, then the
    /// others of `OSP_OIDC_SCOPES` once each.
    pub fn oidc_scope_list(&self) -> Vec<String> {
        let mut scopes = vec!["openid".to_owned()];
        for scope in self.oidc_scopes.split([' ', ',']) {
            if !scope.is_empty() && !scopes.iter().any(|known| known == scope) {
                scopes.push(scope.to_owned());
            }
        }
        scopes
    }

    /// What `json` and `yaml` answers hide; `None` with `OSP_REDACT=off`.
    pub fn redaction(&self) -> Option<Redaction> {
        (self.redact == RedactMode::On)
            .then(|| Redaction::new(self.redact_annotations.iter().cloned()))
    }

    /// The `OSP_LOG_*` limits.
    pub fn log_limits(&self) -> LogLimits {
        LogLimits {
            follows_per_user: self.log_follows_per_user,
            follows: self.log_follows,
            selector_pods: self.log_selector_pods,
            line_bytes: self.log_line_bytes,
            max_bytes: self.log_max_bytes,
        }
    }

    /// Completes a parsed command line from the environment it runs in (the
    /// kubeconfig fallbacks, whether it runs in a pod) and checks it, listing
    /// every problem found.
    pub fn load(mut self) -> Result<Self, ConfigErrors> {
        if self.kubeconfig_paths.is_empty() {
            self.kubeconfig_paths = default_kubeconfig_paths();
        }
        self.in_a_pod = running_in_a_pod();
        self.cors_origins = self
            .cors_origins
            .iter()
            .map(|origin| origin.trim().to_owned())
            .filter(|origin| !origin.is_empty())
            .collect();
        self.oidc_admin_groups = self
            .oidc_admin_groups
            .iter()
            .map(|group| group.trim().to_owned())
            .filter(|group| !group.is_empty())
            .collect();
        self.validate()?;
        Ok(self)
    }

    /// Checks the values that clap cannot check by type.
    pub fn validate(&self) -> Result<(), ConfigErrors> {
        let mut problems = Vec::new();
        let url = self.database_url.expose_secret();
        if !["sqlite:", "postgres:", "postgresql:", "mysql:", "mariadb:"]
            .iter()
            .any(|scheme| url.starts_with(scheme))
        {
            problems.push(
                "DATABASE_URL must start with sqlite:, postgres:, postgresql: or mysql:".to_owned(),
            );
        }
        if let Err(reason) = crate::users::validate_name(&self.admin_name) {
            problems.push(format!("OSP_ADMIN_NAME is not a valid user name: {reason}"));
        }
        if let Some(password) = &self.admin_password
            && let Err(reason) = crate::users::validate_password(password.expose_secret())
        {
            problems.push(format!("OSP_ADMIN_PASSWORD: {reason}"));
        }
        if let Some(secret) = &self.jwt_secret {
            let secret = secret.expose_secret();
            if secret.len() < MIN_JWT_SECRET_LEN {
                problems.push(format!(
                    "OSP_JWT_SECRET must be at least {MIN_JWT_SECRET_LEN} bytes long"
                ));
            } else if is_predictable(secret) {
                problems.push(
                    "OSP_JWT_SECRET is too predictable (few distinct characters, or one \
                     repeated); use random bytes, e.g. $(head -c 48 /dev/urandom | base64)"
                        .to_owned(),
                );
            }
        }
        if self.token_ttl.is_zero() || self.token_ttl > MAX_TOKEN_TTL {
            problems.push("OSP_TOKEN_TTL must be between 1s and 7 days".to_owned());
        }
        if self.cluster_timeout.is_zero() {
            problems.push("OSP_CLUSTER_TIMEOUT must be more than zero".to_owned());
        }
        if self.in_a_pod && self.in_cluster_name.trim().is_empty() {
            problems.push("OSP_IN_CLUSTER_NAME must not be empty".to_owned());
        }
        if self.request_timeout.is_zero() {
            problems.push("OSP_REQUEST_TIMEOUT must be more than zero".to_owned());
        }
        if self.audit_retention < Duration::from_secs(60 * 60) {
            problems.push("OSP_AUDIT_RETENTION must be at least 1h".to_owned());
        }
        if self.header_timeout.is_zero() {
            problems.push("OSP_HEADER_TIMEOUT must be more than zero".to_owned());
        }
        if self.max_response_bytes < MIN_MAX_RESPONSE_BYTES {
            problems.push(format!(
                "OSP_MAX_RESPONSE_BYTES must be at least {MIN_MAX_RESPONSE_BYTES}"
            ));
        }
        if self.max_connections == 0 {
            problems.push("OSP_MAX_CONNECTIONS must be at least 1".to_owned());
        }
        if self.ws_recheck.is_zero() {
            problems.push("OSP_WS_RECHECK must be more than zero".to_owned());
        }
        if self.log_line_bytes < 64 {
            problems.push("OSP_LOG_LINE_BYTES must be at least 64".to_owned());
        }
        if self.log_max_bytes < self.log_line_bytes {
            problems.push("OSP_LOG_MAX_BYTES must be at least OSP_LOG_LINE_BYTES".to_owned());
        }
        for origin in &self.cors_origins {
            if let Err(reason) = check_origin(origin) {
                problems.push(format!("OSP_CORS_ORIGINS: {origin:?} {reason}"));
            }
        }
        self.validate_oidc(&mut problems);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigErrors(problems))
        }
    }
}

impl Config {
    /// The OpenID Provider settings: all or nothing, and URLs that can be
    /// trusted (https, or http to a loopback address).
    fn validate_oidc(&self, problems: &mut Vec<String>) {
        let Some(issuer) = &self.oidc_issuer else {
            if self.oidc_client_id.is_some() || self.oidc_redirect_url.is_some() {
                problems.push(
                    "OSP_OIDC_CLIENT_ID and OSP_OIDC_REDIRECT_URL need OSP_OIDC_ISSUER".to_owned(),
                );
            }
            return;
        };
        if let Err(reason) = check_provider_url(issuer) {
            problems.push(format!("OSP_OIDC_ISSUER: {reason}"));
        }
        if self.oidc_client_id.as_deref().is_none_or(str::is_empty) {
            problems.push("OSP_OIDC_ISSUER needs OSP_OIDC_CLIENT_ID".to_owned());
        }
        match &self.oidc_redirect_url {
            None => problems.push(
                "OSP_OIDC_ISSUER needs OSP_OIDC_REDIRECT_URL (…/osp/auth/oidc/callback)".to_owned(),
            ),
            Some(url) => match url::Url::parse(url) {
                Ok(parsed)
                    if matches!(parsed.scheme(), "http" | "https")
                        && parsed.path().ends_with(OIDC_CALLBACK_PATH) => {}
                _ => problems.push(format!(
                    "OSP_OIDC_REDIRECT_URL must be an absolute http(s) URL ending in \
                     {OIDC_CALLBACK_PATH}"
                )),
            },
        }
        if self.oidc_username_claim.trim().is_empty() || self.oidc_groups_claim.trim().is_empty() {
            problems.push(
                "OSP_OIDC_USERNAME_CLAIM and OSP_OIDC_GROUPS_CLAIM must name a claim".to_owned(),
            );
        }
        if self.oidc_state_ttl < Duration::from_secs(10)
            || self.oidc_state_ttl > Duration::from_secs(60 * 60)
        {
            problems.push("OSP_OIDC_STATE_TTL must be between 10s and 1h".to_owned());
        }
    }
}

/// The path of the OpenID Provider's callback into the gateway.
pub const OIDC_CALLBACK_PATH: &str = "/osp/auth/oidc/callback";

/// An OpenID Provider's URL: absolute, https (http only to a loopback
/// address, for development and tests), without user info, query or fragment.
fn check_provider_url(url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => false,
    };
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => {
            return Err(format!(
                "{url:?} must be https (http only to a loopback address)"
            ));
        }
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(format!("{url:?} must not carry user info"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(format!("{url:?} must have no query or fragment"));
    }
    Ok(())
}

/// The fewest distinct bytes a token secret may have (a random hex string of
/// 32 characters has about 14; base64 of 48 random bytes about 40).
const MIN_DISTINCT_SECRET_BYTES: usize = 10;

/// Whether a secret is plainly low-entropy: few distinct bytes, one byte making
/// up half of it or more, or a short pattern repeated.
fn is_predictable(secret: &str) -> bool {
    let bytes = secret.as_bytes();
    let repeats =
        (1..=bytes.len() / 2).any(|period| bytes[period..] == bytes[..bytes.len() - period]);
    if repeats {
        return true;
    }
    let mut counts = [0usize; 256];
    for byte in secret.bytes() {
        counts[usize::from(byte)] += 1;
    }
    let distinct = counts.iter().filter(|&&n| n > 0).count();
    let most = counts.iter().copied().max().unwrap_or(0);
    distinct < MIN_DISTINCT_SECRET_BYTES || most * 2 >= secret.len()
}

/// The kubeconfig files to read without `--kubeconfig`: `$KUBECONFIG` (a path
/// list), else `~/.kube/config`.
fn default_kubeconfig_paths() -> Vec<PathBuf> {
    if let Some(list) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        return std::env::split_paths(&list).collect();
    }
    std::env::var_os("HOME")
        .map(|home| vec![PathBuf::from(home).join(".kube").join("config")])
        .unwrap_or_default()
}

/// Whether the gateway runs in a Kubernetes pod (the service environment
/// variables are set for every pod).
fn running_in_a_pod() -> bool {
    std::env::var_os("KUBERNETES_SERVICE_HOST").is_some()
}

/// Checks one CORS origin: `scheme://host[:port]`, exactly as browsers send it
/// in the `Origin` header (no path, no trailing slash, no wildcard).
fn check_origin(origin: &str) -> Result<(), &'static str> {
    if origin.contains('*') {
        return Err("is a wildcard; list each allowed origin instead");
    }
    let Some((scheme, rest)) = origin.split_once("://") else {
        return Err("must look like https://host[:port]");
    };
    if scheme != "http" && scheme != "https" {
        return Err("must start with http:// or https://");
    }
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
        return Err("must be scheme://host[:port] with no path, user or trailing slash");
    }
    if !origin.is_ascii() || origin.chars().any(|c| c.is_ascii_uppercase()) {
        return Err("must be lower-case ASCII, as browsers send it");
    }
    Ok(())
}

/// Every problem found in a configuration.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n  - {}", .0.join("\n  - "))]
pub struct ConfigErrors(pub Vec<String>);

/// The sqlite URL for a database file (used by the tests and the README).
pub fn sqlite_url(path: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(args: &[&str]) -> Config {
        let mut all = vec!["osp-gateway"];
        all.extend_from_slice(args);
        Config::try_parse_from(all).expect("arguments parse")
    }

    #[test]
    fn defaults_follow_the_design() {
        let config = Config::new(DEFAULT_DATABASE_URL);
        assert_eq!(config.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(config.admin_name, "admin");
        assert_eq!(config.token_ttl, Duration::from_secs(1800));
        assert_eq!(config.recent_sign_in, Duration::from_secs(300));
        config.validate().expect("defaults are valid");
    }

    #[test]
    fn token_ttl_reads_human_durations() {
        let parsed = cli(&["--token-ttl", "90s", "--database-url", "sqlite::memory:"]);
        assert_eq!(parsed.token_ttl, Duration::from_secs(90));
        assert!(Config::try_parse_from(["osp-gateway", "--token-ttl", "soon"]).is_err());
    }

    #[test]
    fn every_problem_is_listed_at_once() {
        let parsed = cli(&[
            "--database-url",
            "redis://x",
            "--admin-name",
            "no spaces",
            "--jwt-secret",
            "short",
            "--token-ttl",
            "0s",
        ]);
        let errors = parsed.load().expect_err("invalid");
        assert_eq!(errors.0.len(), 4, "{errors}");
    }

    #[test]
    fn production_settings_have_documented_defaults() {
        let parsed = cli(&[]);
        assert_eq!(parsed.log_format, LogFormat::Text);
        assert_eq!(parsed.request_timeout, Duration::from_secs(30));
        assert_eq!(parsed.login_limit_per_name, 10);
        assert_eq!(parsed.login_limit_per_address, 30);
        assert_eq!(parsed.recent_sign_in, DEFAULT_RECENT_SIGN_IN);
        assert!(parsed.cors_origins.is_empty());
        let parsed = cli(&["--log-format", "json", "--request-timeout", "2s"]);
        assert_eq!(parsed.log_format, LogFormat::Json);
        assert_eq!(parsed.request_timeout, Duration::from_secs(2));
    }

    #[test]
    fn cors_origins_are_a_comma_separated_list() {
        let parsed = cli(&[
            "--cors-origins",
            "https://app.example.com, http://localhost:3000,",
        ]);
        let config = parsed.load().expect("valid origins");
        assert_eq!(
            config.cors_origins,
            ["https://app.example.com", "http://localhost:3000"]
        );
    }

    #[test]
    fn wildcard_and_malformed_cors_origins_are_refused() {
        for origin in [
            "*",
            "https://*.example.com",
            "app.example.com",
            "https://app.example.com/",
            "ftp://app.example.com",
            "https://App.example.com",
        ] {
            let parsed = cli(&["--cors-origins", origin]);
            let errors = parsed.load().expect_err(origin);
            assert!(errors.0[0].contains("OSP_CORS_ORIGINS"), "{errors}");
        }
    }

    #[test]
    fn plainly_predictable_token_secrets_are_refused() {
        for weak in [
            "a".repeat(40),
            "ab".repeat(20),
            "0123456789".repeat(4),
            format!("{}{}", "x".repeat(20), "0123456789abcdef"),
        ] {
            let mut config = Config::new(DEFAULT_DATABASE_URL);
            config.jwt_secret = Some(SecretString::from(weak.clone()));
            let errors = config.validate().expect_err(&weak);
            assert!(errors.0[0].contains("too predictable"), "{errors}");
        }
        let mut config = Config::new(DEFAULT_DATABASE_URL);
        config.jwt_secret = Some(SecretString::from(
            "h2Vq9ZkP7xW3mT0bR5nL8cJ1dF6gY4sAeU+/Qo==",
        ));
        config
            .validate()
            .expect("a random-looking secret is accepted");
    }

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let mut config = Config::new("postgres://u:hunter2@db/x");
        config.jwt_secret = Some(SecretString::from("a".repeat(40)));
        let printed = format!("{config:?}");
        assert!(!printed.contains("hunter2"));
        assert!(!printed.contains(&"a".repeat(40)));
    }

    fn with_oidc(issuer: &str, redirect: &str) -> Config {
        let mut config = Config::new(DEFAULT_DATABASE_URL);
        config.oidc_issuer = Some(issuer.to_owned());
        config.oidc_client_id = Some("osp-gateway".to_owned());
        config.oidc_redirect_url = Some(redirect.to_owned());
        config
    }

    #[test]
    fn an_identity_provider_is_trusted_over_https_or_on_a_loopback_address_only() {
        let callback = "https://osp.example.com/osp/auth/oidc/callback";
        for ok in [
            "https://idp.example.com/realms/platform",
            "http://127.0.0.1:5556",
            "http://localhost:8080/dex",
            "http://[::1]:9000",
        ] {
            assert!(with_oidc(ok, callback).validate().is_ok(), "{ok}");
        }
        for bad in [
            "http://idp.example.com",
            "ftp://idp.example.com",
            "https://user:pw@idp.example.com",
            "https://idp.example.com/?x=1",
            "not a url",
        ] {
            let problems = with_oidc(bad, callback).validate().expect_err(bad).0;
            assert!(
                problems.iter().any(|p| p.starts_with("OSP_OIDC_ISSUER")),
                "{bad}: {problems:?}"
            );
        }
    }

    #[test]
    fn an_identity_provider_needs_its_client_and_callback() {
        let issuer = "https://idp.example.com";
        let bad_callback = with_oidc(issuer, "https://osp.example.com/elsewhere");
        assert!(bad_callback.validate().is_err());
        let mut no_client = with_oidc(issuer, "https://osp.example.com/osp/auth/oidc/callback");
        no_client.oidc_client_id = None;
        assert!(no_client.validate().is_err());
        let mut no_issuer = Config::new(DEFAULT_DATABASE_URL);
        no_issuer.oidc_client_id = Some("osp-gateway".to_owned());
        assert!(no_issuer.validate().is_err());
    }

    #[test]
    fn openid_is_always_the_first_scope_asked() {
        let mut config = Config::new(DEFAULT_DATABASE_URL);
        assert_eq!(
            config.oidc_scope_list(),
            ["openid", "profile", "email", "groups"]
        );
        config.oidc_scopes = "email,openid  offline_access email".to_owned();
        assert_eq!(
            config.oidc_scope_list(),
            ["openid", "email", "offline_access"]
        );
    }
}
