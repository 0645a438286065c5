//! The GraphQL schema: the gateway's primary API, which the REST layer also runs.
//!
//! Resolvers stay thin: they read arguments and context, call one service
//! function, and map the result. [`Executor::execute`] is the one entry point that
//! attaches per-request data (the [`Auth`] state from the bearer token), used by
//! `/graphql` and by every REST route alike.

mod error;
pub mod handler;
mod loaders;
mod pods;
mod users;
pub mod ws;

use async_graphql::{
    Context, MergedObject, MergedSubscription, Request, Response, Schema, dataloader::DataLoader,
};
use std::net::IpAddr;

use axum::http::HeaderValue;
use chrono::{DateTime, Utc};

pub use error::{GqlResultExt, code_of};

use crate::{
    auth::{Auth, Viewer, sessions::KnownUser, viewer::Rejection},
    error::AppError,
    state::AppState,
    users as user_service,
};

/// Root of all queries.
#[derive(MergedObject, Default)]
pub struct QueryRoot(users::UserQuery, pods::PodQuery);

/// Root of all mutations.
#[derive(MergedObject, Default)]
pub struct MutationRoot(users::UserMutation);

/// Root of all subscriptions.
#[derive(MergedSubscription, Default)]
pub struct SubscriptionRoot(pods::PodSubscription);

/// The gateway's schema type.
pub type AppSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Deepest query nesting accepted (GraphiQL's introspection query needs about 13).
pub const MAX_DEPTH: usize = 16;
/// Highest query complexity accepted.
pub const MAX_COMPLEXITY: usize = 5_000;
/// Longest query text accepted, in bytes (GraphiQL's introspection query is
/// about 2 KiB; the REST layer's documents are far smaller).
pub const MAX_QUERY_BYTES: usize = 32 * 1024;

/// The address of the client that sent a request, when known; request data for
/// the resolvers that need it (the sign-in rate limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

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
}

/// The schema in SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    schema_builder().finish().sdl()
}

/// Runs GraphQL requests against the schema for `/graphql` and the REST layer.
#[derive(Clone)]
pub struct Executor {
    schema: AppSchema,
    state: AppState,
}

impl Executor {
    /// Builds the schema once, over the given state.
    pub fn new(state: AppState) -> Self {
        let schema = schema_builder().data(state.clone()).finish();
        Executor { schema, state }
    }

    /// Executes one request as the holder of `authorization` (the raw
    /// `Authorization` header, if any).
    pub async fn execute(&self, authorization: Option<&HeaderValue>, request: Request) -> Response {
        self.execute_from(None, authorization, request).await
    }

    /// [`Executor::execute`] for a request from a known client address.
    pub async fn execute_from(
        &self,
        client: Option<ClientAddr>,
        authorization: Option<&HeaderValue>,
        request: Request,
    ) -> Response {
        let auth = authenticate(&self.state, authorization).await;
        let mut response = self
            .schema
            .execute(self.with_request_data(request, client, auth))
            .await;
        error::fill_missing_codes(&mut response);
        response
    }

    /// Attaches what one operation needs besides its text: who is asking,
    /// from where, and fresh DataLoaders.
    pub(crate) fn with_request_data(
        &self,
        request: Request,
        client: Option<ClientAddr>,
        auth: Auth,
    ) -> Request {
        let request = match client {
            Some(client) => request.data(client),
            None => request,
        };
        let (nodes, workloads) = self.loaders();
        request.data(auth).data(nodes).data(workloads)
    }

    /// Fresh DataLoaders for one operation, so loader state never crosses users
    /// or outlives the operation.
    fn loaders(
        &self,
    ) -> (
        DataLoader<loaders::NodeLoader>,
        DataLoader<loaders::WorkloadLoader>,
    ) {
        let clusters = self.state.clusters.clone();
        (
            DataLoader::new(loaders::NodeLoader::new(clusters.clone()), tokio::spawn),
            DataLoader::new(loaders::WorkloadLoader::new(clusters), tokio::spawn),
        )
    }

    /// The schema (for the WebSocket transport).
    pub(crate) fn schema(&self) -> &AppSchema {
        &self.schema
    }

    /// The state (for the WebSocket transport).
    pub(crate) fn state(&self) -> &AppState {
        &self.state
    }
}

/// Turns an `Authorization` header into the request's [`Auth`] state.
pub async fn authenticate(state: &AppState, authorization: Option<&HeaderValue>) -> Auth {
    let Some(header) = authorization else {
        return Auth::Anonymous;
    };
    let token = header
        .to_str()
        .ok()
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim);
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Auth::Rejected(Rejection::Invalid);
    };
    authenticate_token(state, token).await
}

/// Checks a bare token: signature, expiry, and that its user still exists and has
/// not changed password since it was issued.
pub async fn authenticate_token(state: &AppState, token: &str) -> Auth {
    match session(state, token).await {
        Ok((viewer, _)) => Auth::Viewer(viewer),
        Err(rejection) => Auth::Rejected(rejection),
    }
}

/// The viewer behind a token, and when the token expires.
pub(crate) async fn session(
    state: &AppState,
    token: &str,
) -> Result<(Viewer, DateTime<Utc>), Rejection> {
    let claims = match state.jwt.verify(token) {
        Ok(claims) => claims,
        Err(AppError::TokenExpired) => return Err(Rejection::Expired),
        Err(_) => return Err(Rejection::Invalid),
    };
    let id = claims.sub.parse::<i64>().map_err(|_| Rejection::Invalid)?;
    let expires = DateTime::from_timestamp(claims.exp, 0).ok_or(Rejection::Invalid)?;
    let known = match state.sessions.get(id) {
        Some(known) => known,
        None => match user_service::find_by_id(&state.db, id).await {
            Ok(Some(user)) => {
                let known = KnownUser {
                    name: user.name,
                    role: crate::auth::Role::from_stored(&user.role),
                    generation: user.token_generation,
                };
                state.sessions.remember(id, known.clone());
                known
            }
            Ok(None) => return Err(Rejection::Invalid),
            Err(err) => {
                err.log_if_internal();
                return Err(Rejection::Unavailable);
            }
        },
    };
    if known.generation != claims.generation {
        return Err(Rejection::Invalid);
    }
    Ok((
        Viewer {
            id,
            name: known.name,
            role: known.role,
        },
        expires,
    ))
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
