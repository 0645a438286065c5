//! The GraphQL schema: the gateway's primary API, which the REST layer also runs.
//!
//! Resolvers stay thin: they read arguments and context, call one service
//! function, and map the result. [`Executor::execute`] is the one entry point that
//! attaches per-request data (the [`Auth`] that `auth/` made of the bearer token),
//! used by `/graphql` and by every REST route alike.

mod audit;
pub mod budget;
mod connection;
mod documents;
mod error;
pub mod handler;
mod loaders;
mod logs;
mod merged_logs;
mod persisted;
mod plain;
mod pods;
mod reads;
pub mod resources;
mod reuse;
mod users;
pub mod ws;

use async_graphql::{
    Context, MergedObject, MergedSubscription, Request, Response, Schema, dataloader::DataLoader,
};
use std::net::{IpAddr, SocketAddr};

use std::sync::Arc;

use axum::{
    extract::{ConnectInfo, FromRef, FromRequestParts},
    http::request::Parts,
};

pub use error::{GqlResultExt, MAX_ERRORS, code_of};

use crate::{
    auth::{Auth, Authenticator, Viewer},
    error::AppError,
    state::AppState,
};

/// Root of all queries.
#[derive(MergedObject, Default)]
pub struct QueryRoot(
    users::UserQuery,
    pods::PodQuery,
    connection::ConnectionQuery,
    audit::AuditQuery,
    crate::kinds::KindQuery,
    logs::LogQuery,
);

/// Root of all mutations.
#[derive(MergedObject, Default)]
pub struct MutationRoot(users::UserMutation);

/// Root of all subscriptions.
#[derive(MergedSubscription, Default)]
pub struct SubscriptionRoot(
    pods::PodSubscription,
    crate::kinds::KindSubscription,
    logs::LogSubscription,
    merged_logs::MergedLogSubscription,
);

/// The gateway's schema type.
pub type AppSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Deepest query nesting accepted (GraphiQL's introspection query needs about 13).
pub const MAX_DEPTH: usize = 16;
/// Highest query complexity accepted.
pub const MAX_COMPLEXITY: usize = 5_000;
/// Longest query text accepted, in bytes (GraphiQL's introspection query is
/// about 2 KiB; the REST layer's documents are far smaller).
pub const MAX_QUERY_BYTES: usize = 32 * 1024;

/// Where a request came from: the client's address and the request's id, when
/// known. Request data for the resolvers that need it (the sign-in rate limit,
/// the audit trail); an axum extractor that never fails.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestMeta {
    /// The peer address of the connection.
    pub client: Option<IpAddr>,
    /// The `x-request-id` header (set by the gateway when the client sent none).
    pub request_id: Option<String>,
    /// A read of this request was audited already (a REST route that runs two
    /// documents for one read records it once).
    pub read_audited: bool,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let client = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let request_id = parts
            .headers
            .get("x-request-id")
            .and_then(|value| value.to_str().ok())
            .map(|id| id.chars().take(64).collect());
        Ok(RequestMeta {
            client,
            request_id,
            read_audited: false,
        })
    }
}

/// The viewer of a long-lived connection as its periodic re-check last found
/// it (`None`: no longer valid); request data on WebSocket operations, so a
/// subscription can end when the viewer's grants stop covering it.
#[derive(Clone)]
pub(crate) struct LiveViewer(pub tokio::sync::watch::Receiver<Option<Viewer>>);

/// Told by a subscription once its checks passed and it runs (a REST follow
/// then sends its headers); dropped untold when it answered an error.
#[derive(Clone, Default)]
pub(crate) struct Started(Arc<std::sync::Mutex<Option<tokio::sync::oneshot::Sender<()>>>>);

impl Started {
    /// Says that the subscription of `ctx` runs.
    pub(crate) fn tell(ctx: &Context<'_>) {
        if let Some(Started(slot)) = ctx.data_opt::<Started>()
            && let Some(sender) = slot.lock().ok().and_then(|mut slot| slot.take())
        {
            let _ = sender.send(());
        }
    }
}

/// `read` applied to the operation `request` would run (the named one, or
/// the only one); `None` when the text does not parse or names no such
/// operation.
pub(crate) fn selected_operation<R>(
    documents: &documents::Documents,
    request: &Request,
    read: impl FnOnce(&async_graphql::parser::types::OperationDefinition) -> R,
) -> Option<R> {
    use async_graphql::parser::types::DocumentOperations;
    let document = documents.get(&request.query)?;
    let operation = match (&document.operations, request.operation_name.as_deref()) {
        (DocumentOperations::Single(operation), _) => operation,
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name)?,
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next()?
        }
        (DocumentOperations::Multiple(_), None) => return None,
    };
    Some(read(&operation.node))
}

/// Refuses query text longer than [`MAX_QUERY_BYTES`], before it is parsed.
pub fn check_query_size(request: &Request) -> Result<(), AppError> {
    if request.query.len() > MAX_QUERY_BYTES {
        return Err(AppError::invalid(
            "query",
            format!("longer than {MAX_QUERY_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// Builds the schema without state, e.g. to print its SDL.
pub fn schema_builder() -> async_graphql::SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .extension(audit::RecordRefusals)
}

/// The schema in SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    schema_builder().finish().sdl()
}

/// Runs GraphQL requests against the schema for `/graphql` and the REST layer.
#[derive(Clone)]
pub struct Executor(Arc<Shared>);

/// What every clone of an [`Executor`] shares: cloning one (as each request's
/// extractors do) is one reference count, not one per part.
struct Shared {
    /// For signed-in callers.
    schema: AppSchema,
    /// For callers without a valid token: no "Did you mean" suggestions, so
    /// an anonymous caller learns no field names from its mistakes.
    anonymous: AppSchema,
    state: AppState,
    listings: Arc<loaders::Listings>,
    sockets: Arc<ws::OpenSockets>,
    heavy: Arc<budget::HeavyOps>,
    persisted: Arc<persisted::PersistedQueries>,
    answers: Arc<reuse::Answers>,
    documents: Arc<documents::Documents>,
}

impl Executor {
    /// Builds the schema once, over the given state (twice: for signed-in
    /// callers, and without suggestions for the others; each with
    /// introspection as `OSP_INTROSPECTION` allows it).
    pub fn new(state: AppState) -> Self {
        use crate::config::Introspection;
        let builder = |introspection: bool| {
            let builder = schema_builder().data(state.clone());
            if introspection {
                builder
            } else {
                builder.disable_introspection()
            }
        };
        let mode = state.config.introspection;
        let schema = builder(mode != Introspection::False).finish();
        let anonymous = builder(mode == Introspection::Public)
            .disable_suggestions()
            .finish();
        Executor(Arc::new(Shared {
            schema,
            anonymous,
            state,
            listings: Arc::default(),
            sockets: Arc::default(),
            heavy: Arc::default(),
            persisted: Arc::default(),
            answers: Arc::default(),
            documents: Arc::default(),
        }))
    }

    /// Executes one request as `auth` (from the request's token, see
    /// [`crate::auth::extractor`]), sent from `meta`.
    pub async fn execute(&self, meta: RequestMeta, auth: Auth, request: Request) -> Response {
        let (read, turn) = Default::default();
        self.execute_recording(meta, auth, request, read, turn)
            .await
    }

    /// [`Executor::execute`], recording into `read` which cache versions the
    /// operation read, and into `turn` its turn among the user's heavy
    /// operations if it took one.
    pub(crate) async fn execute_recording(
        &self,
        meta: RequestMeta,
        auth: Auth,
        request: Request,
        read: reuse::Dependencies,
        turn: budget::HeavyTurn,
    ) -> Response {
        let schema = match auth {
            Auth::Viewer(_) => &self.0.schema,
            Auth::Anonymous | Auth::Rejected(_) => &self.0.anonymous,
        };
        let request = self.0.documents.attach(request);
        let (request, reads) = self.with_request_data(request, meta, auth, turn);
        let mut response = schema.execute(request.data(read)).await;
        error::finish(&mut response);
        self.recorded(response, &reads).await
    }

    /// `response` once the pod reads it carries are in the audit trail; the
    /// refusal instead when the trail cannot take them (no read without
    /// its record).
    pub(crate) async fn recorded(&self, response: Response, reads: &reads::PodReads) -> Response {
        match self.0.state.audit.reads(reads.take_events()).await {
            Ok(()) => response,
            Err(err) => error::error_only(&err),
        }
    }

    /// Attaches what one operation needs besides its text: who is asking,
    /// from where, fresh DataLoaders, the budget of its answer (whose heavy
    /// turn, if it takes one, is kept in `turn`), its one password change,
    /// where its refused changes are noted, and the pod reads it notes for
    /// the audit trail (returned too: see [`Executor::recorded`]).
    pub(crate) fn with_request_data(
        &self,
        request: Request,
        meta: RequestMeta,
        auth: Auth,
        turn: budget::HeavyTurn,
    ) -> (Request, Arc<reads::PodReads>) {
        let origin = (!meta.read_audited).then(|| crate::audit::Origin {
            actor: auth.viewer().ok().map(|viewer| viewer.name.clone()),
            client: meta.client,
            request_id: meta.request_id.clone(),
        });
        let reads = Arc::new(reads::PodReads::new(origin));
        let (nodes, workloads) = self.loaders();
        let config = &self.0.state.config;
        // A turn is waited for half the request time at most: a caller that
        // gets none is told to retry (429 with a wait) rather than timed out.
        let budget = budget::AnswerBudget::new(
            config.max_response_bytes,
            auth.viewer().ok().map(|viewer| viewer.id),
            self.0.heavy.clone(),
            config.request_timeout / 2,
            turn,
        );
        let request = request
            .data(meta)
            .data(auth)
            .data(nodes)
            .data(workloads)
            .data(budget)
            .data(crate::users::PasswordTurn::default())
            .data(crate::audit::Refusals::new(self.0.state.db.clone()))
            .data(reads.clone())
            .data(Arc::new(resources::RelationLoaders::new(
                self.0.state.clusters.clone(),
            )));
        (request, reads)
    }

    /// Fresh DataLoaders for one operation (their batches and answers never
    /// cross users or outlive it), over the gateway's shared listings.
    fn loaders(
        &self,
    ) -> (
        DataLoader<loaders::NodeLoader>,
        DataLoader<loaders::WorkloadLoader>,
    ) {
        let clusters = self.0.state.clusters.clone();
        (
            DataLoader::new(
                loaders::NodeLoader::new(clusters.clone(), self.0.listings.clone()),
                tokio::spawn,
            ),
            DataLoader::new(
                loaders::WorkloadLoader::new(clusters, self.0.listings.clone()),
                tokio::spawn,
            ),
        )
    }

    /// Runs a subscription outside a WebSocket (a REST follow) as `auth`:
    /// its answers, each with its reads recorded first, until it ends, the
    /// token expires, or the user changes so that its grants no longer cover
    /// it (checked as a WebSocket connection's are: every `OSP_WS_RECHECK`,
    /// and at once on a change through this replica). The receiver hears
    /// once the subscription runs; it is dropped untold when the first
    /// answer is an error instead.
    pub fn subscribe(
        &self,
        meta: RequestMeta,
        auth: Auth,
        token: Option<String>,
        request: Request,
    ) -> (
        futures_util::stream::BoxStream<'static, Response>,
        tokio::sync::oneshot::Receiver<()>,
    ) {
        use futures_util::StreamExt;
        let (told, started) = tokio::sync::oneshot::channel();
        let (live_tx, live) = tokio::sync::watch::channel(auth.viewer().ok().cloned());
        let schema = match auth {
            Auth::Viewer(_) => self.0.schema.clone(),
            Auth::Anonymous | Auth::Rejected(_) => self.0.anonymous.clone(),
        };
        let request = self
            .0
            .documents
            .attach(request)
            .data(LiveViewer(live))
            .data(Started(Arc::new(std::sync::Mutex::new(Some(told)))));
        let (request, reads) = self.with_request_data(request, meta, auth, Default::default());
        let executor = self.clone();
        let answers = schema.execute_stream(request).then(move |mut response| {
            let (executor, reads) = (executor.clone(), reads.clone());
            async move {
                error::finish(&mut response);
                executor.recorded(response, &reads).await
            }
        });
        let state = self.0.state.clone();
        let ended = async move {
            let Some(token) = token else {
                return std::future::pending::<()>().await;
            };
            let mut changes = state.auth.changes();
            let every = state.config.ws_recheck;
            loop {
                match state.auth.session(&token).await {
                    Ok((viewer, expires)) => {
                        live_tx.send_replace(Some(viewer));
                        let left = (expires - chrono::Utc::now()).to_std().unwrap_or_default();
                        tokio::select! {
                            () = tokio::time::sleep(every) => {}
                            Ok(()) = changes.changed() => {}
                            () = tokio::time::sleep(left) => return,
                        }
                    }
                    // The user store is down: keep serving; the next check decides.
                    Err(crate::auth::Rejection::Unavailable) => tokio::time::sleep(every).await,
                    Err(_) => {
                        live_tx.send_replace(None);
                        return;
                    }
                }
            }
        };
        (answers.take_until(ended).boxed(), started)
    }

    /// The kept GraphQL answers.
    pub(crate) fn answers(&self) -> &reuse::Answers {
        &self.0.answers
    }

    /// The parsed documents kept.
    pub(crate) fn documents(&self) -> &documents::Documents {
        &self.0.documents
    }

    /// The registered persisted queries.
    pub(crate) fn persisted(&self) -> &persisted::PersistedQueries {
        &self.0.persisted
    }

    /// The gateway's open WebSocket connections.
    pub(crate) fn sockets(&self) -> &Arc<ws::OpenSockets> {
        &self.0.sockets
    }

    /// The schema for signed-in callers (for the WebSocket transport, whose
    /// operations all run after a token was accepted).
    pub(crate) fn schema(&self) -> &AppSchema {
        &self.0.schema
    }

    /// The state (for the WebSocket transport).
    pub(crate) fn state(&self) -> &AppState {
        &self.0.state
    }
}

impl FromRef<Executor> for Arc<Authenticator> {
    fn from_ref(executor: &Executor) -> Self {
        executor.0.state.auth.clone()
    }
}

/// The gateway state behind a resolver.
pub(crate) fn app<'a>(ctx: &Context<'a>) -> &'a AppState {
    ctx.data_unchecked::<AppState>()
}

/// The authenticated viewer, or the error that says why there is none.
pub(crate) fn viewer<'a>(ctx: &Context<'a>) -> Result<&'a Viewer, AppError> {
    match ctx.data_opt::<Auth>() {
        Some(auth) => auth.viewer(),
        None => Auth::Anonymous.viewer(),
    }
}
