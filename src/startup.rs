//! Building and running the gateway: the only module that sees every part.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderName, HeaderValue, Method, Request, StatusCode, header},
    middleware,
    routing::{get, post},
};
use secrecy::ExposeSecret;
use tokio::net::TcpListener;
use tower_http::{
    cors::{AllowOrigin, CorsLayer},
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::Level;

use crate::{
    audit::AuditLog,
    auth::{Authenticator, JwtKeys, Passwords},
    config::Config,
    db,
    graphql::{self, Executor},
    k8s::ClusterRegistry,
    metrics::Metrics,
    ops,
    ratelimit::LoginLimiter,
    rest,
    state::AppState,
    users, web,
};

/// How often histogram samples are folded into buckets when nobody scrapes.
const METRICS_UPKEEP_EVERY: Duration = Duration::from_secs(5);
/// How long browsers may cache a CORS preflight answer.
const CORS_MAX_AGE: Duration = Duration::from_secs(10 * 60);

/// A gateway that is bound to its port and ready to serve.
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
}

impl Application {
    /// Connects to and migrates the database, creates the first admin if there
    /// are no users, loads the signing key, and binds the listen address.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let db = db::connect(config.database_url.expose_secret()).await?;
        let passwords = Passwords::new();
        let password_file = &config.admin_password_file;
        let created = users::bootstrap_admin(
            &db,
            &passwords,
            &config.admin_name,
            config.admin_password.as_ref().map(|p| p.expose_secret()),
            |generated| write_private(password_file, generated),
        )
        .await
        .map_err(|e| anyhow::anyhow!("cannot create the first admin: {e:?}"))?;
        match created {
            // Never printed: standard error ends up in `kubectl logs` and log
            // collectors. The file is readable by this user only.
            Some(_) => tracing::warn!(
                admin = %config.admin_name,
                file = %password_file.display(),
                "created the first admin with a generated password, written to the file \
                 (readable only by this user); sign in, change it, and delete the file"
            ),
            // Another replica created the admin first: its password is the one.
            None if config.admin_password.is_none() => {
                if let Ok(true) = password_file.try_exists() {
                    let _ = std::fs::remove_file(password_file);
                }
            }
            None => {}
        }
        let secret = match &config.jwt_secret {
            Some(secret) => secret.expose_secret().to_owned(),
            None => db::stored_jwt_secret(&db).await?,
        };
        let installation = db::installation_id(&db).await?;
        let jwt = JwtKeys::new(secret.as_bytes(), config.token_ttl, &installation);
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
        let clusters = ClusterRegistry::from_config(&config).await;
        let metrics = Metrics::new();
        clusters.observe(&metrics);
        let login_limiter = LoginLimiter::on_database(
            &db,
            config.login_limit_per_name,
            config.login_limit_per_address,
        )
        .await;
        let auth = Authenticator::new(Arc::new(jwt), db.clone());
        let audit = AuditLog::start(db.clone(), config.audit_retention, metrics.clone());
        let logs = crate::k8s::logs::LogFollows::new(config.log_limits());
        let oidc = crate::auth::oidc::Settings::from_config(&config)?
            .map(crate::auth::oidc::Oidc::start)
            .transpose()?;
        let state = AppState {
            logs,
            oidc,
            config: Arc::new(config),
            db,
            auth: Arc::new(auth),
            passwords,
            clusters: Arc::new(clusters),
            metrics,
            login_limiter: Arc::new(login_limiter),
            audit,
        };
        let router = router(state.clone());
        Ok(Application {
            listener,
            router,
            state,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or(self.state.config.listen)
    }

    /// The shared state (for tests and tools).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let metrics = self.state.metrics.clone();
        let upkeep = tokio::spawn(async move {
            let mut every = tokio::time::interval(METRICS_UPKEEP_EVERY);
            loop {
                every.tick().await;
                metrics.run_upkeep();
            }
        });
        let served = serve(self.listener, self.router, &self.state.config, shutdown).await;
        upkeep.abort();
        served?;
        self.state.db.close_by_ref().await.ok();
        Ok(())
    }
}

/// Serves HTTP/1.1 connections on `listener` until `shutdown` completes, then
/// lets in-flight requests finish.
///
/// Served with hyper directly rather than `axum::serve`, for two bounds that
/// does not offer: a client must send a request's headers within
/// `OSP_HEADER_TIMEOUT` (a client sending a header line every few seconds
/// would otherwise hold a connection forever), and at most
/// `OSP_MAX_CONNECTIONS` connections are served at once (further ones wait in
/// the listen backlog). A connection upgraded to a WebSocket leaves the count
/// (sockets have their own caps, see `graphql::ws`).
async fn serve(
    listener: TcpListener,
    router: Router,
    config: &Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::{
        rt::{TokioIo, TokioTimer},
        service::TowerToHyperService,
    };
    use tower::ServiceExt;

    let slots = Arc::new(tokio::sync::Semaphore::new(config.max_connections));
    // Every connection task holds a receiver: `true` asks it to finish its
    // request in flight and close; the sender sees when all have gone.
    let (stopping, stop) = tokio::sync::watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: wait, then go on.
                    tracing::warn!("cannot accept a connection: {err}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        // The peer address feeds the per-address limits.
        let service = router.clone().map_request(
            move |mut request: axum::http::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                request
            },
        );
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(config.header_timeout)
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
            .with_upgrades();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = stop.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            drop(slot);
        });
    }
    drop(listener);
    drop(stop);
    let _ = stopping.send(true);
    stopping.closed().await;
    Ok(())
}

/// Writes `secret` to `path`, readable and writable by this user only (the
/// file is replaced if it exists).
fn write_private(path: &std::path::Path, secret: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    // An existing file keeps its mode on open: narrow it before writing.
    #[cfg(unix)]
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    writeln!(file, "{secret}")?;
    file.sync_all()
}

/// The whole HTTP surface over a state.
pub fn router(state: AppState) -> Router {
    let executor = Executor::new(state.clone());
    let timeout = state.config.request_timeout;
    // Subscriptions live as long as their token: no request timeout for them.
    let subscriptions = Router::new()
        .route("/graphql/ws", get(graphql::ws::graphql_ws))
        .with_state(executor.clone());
    let api = Router::new()
        .route(
            "/graphql",
            post(graphql::handler::graphql_post).get(graphql::handler::graphql_get),
        )
        .layer(DefaultBodyLimit::max(graphql::handler::MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            crate::oversized::Oversized {
                limit: graphql::handler::MAX_BODY_BYTES,
                refuse: |limit| {
                    graphql::handler::error_response(&crate::error::AppError::PayloadTooLarge(
                        limit,
                    ))
                },
            },
            crate::oversized::refuse_oversized,
        ))
        // GET /graphql: the playground, from assets embedded in the binary.
        .merge(web::router())
        // Sign-in through the identity provider (redirects, not REST).
        .merge(web::oidc_router())
        .nest("/osp/api", rest::router())
        .with_state(executor)
        // Bounds only the routes above.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::GATEWAY_TIMEOUT,
            timeout,
        ))
        .layer(middleware::from_fn_with_state(timeout, ops::answer_timeout))
        .merge(subscriptions)
        .merge(ops::router(state.clone()))
        .layer(middleware::from_fn_with_state(
            state.metrics.clone(),
            ops::track_http,
        ));
    let api = match cors(&state.config.cors_origins) {
        Some(cors) => api.layer(cors),
        None => api,
    };
    api.layer(
        TraceLayer::new_for_http()
            // Path only: query strings and headers (tokens) stay out of the log.
            .make_span_with(|request: &Request<_>| {
                let id = request
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                tracing::info_span!(
                    "request",
                    method = %request.method(),
                    path = %request.uri().path(),
                    // Quoted: an id is a value, never part of a line's shape.
                    request_id = id,
                )
            })
            .on_request(())
            .on_response(
                DefaultOnResponse::new()
                    .level(Level::INFO)
                    .latency_unit(tower_http::LatencyUnit::Micros),
            ),
    )
    .layer(PropagateRequestIdLayer::x_request_id())
    .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
    // Before an id is set: a client's id that is not a plain token is
    // replaced by a generated one, so it can neither forge log lines nor
    // fill the audit trail.
    .layer(middleware::map_request(drop_unfit_request_id))
}

/// Longest `x-request-id` kept from a client.
pub const MAX_REQUEST_ID: usize = 64;

/// Whether a client's `x-request-id` may be used as the request's id:
/// `[A-Za-z0-9._-]{1,64}`.
pub fn fit_request_id(id: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Removes every `x-request-id` of the request unless it is one fit id.
async fn drop_unfit_request_id<B>(mut request: Request<B>) -> Request<B> {
    let headers = request.headers_mut();
    let mut ids = headers.get_all("x-request-id").iter();
    let fit = match (ids.next(), ids.next()) {
        (Some(id), None) => fit_request_id(id.as_bytes()),
        (None, _) => true,
        (Some(_), Some(_)) => false,
    };
    if !fit {
        headers.remove("x-request-id");
    }
    request
}

/// CORS for the configured origins, or none when the list is empty. Tokens
/// travel in the `Authorization` header, never in cookies, so credentials
/// (cookies) are not allowed; origins are exact (no wildcard, refused by config).
fn cors(origins: &[String]) -> Option<CorsLayer> {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|origin| HeaderValue::from_str(origin).ok())
        .collect();
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST, Method::PUT])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .expose_headers([HeaderName::from_static("x-request-id"), header::RETRY_AFTER])
            .max_age(CORS_MAX_AGE),
    )
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
