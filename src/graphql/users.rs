//! Users in GraphQL: `users`, `me`, `login`, `createUser`, `updateUser`.
//!
//! [`User`] is defined here, not derived on the entity, so the password hash and
//! internal columns can never leak into the schema.

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::user;

use super::{ClientAddr, GqlResultExt, app, viewer};
use crate::{
    auth::Role as AuthRole,
    error::{AppError, ErrorCode},
    metrics::LoginFailure,
    users::{self, NewUser, UserChanges},
};

/// A user's role.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// May create and change any user.
    Admin,
    /// May read, and change their own e-mail address and password.
    User,
}

impl From<Role> for AuthRole {
    fn from(role: Role) -> Self {
        match role {
            Role::Admin => AuthRole::Admin,
            Role::User => AuthRole::User,
        }
    }
}

impl From<AuthRole> for Role {
    fn from(role: AuthRole) -> Self {
        match role {
            AuthRole::Admin => Role::Admin,
            AuthRole::User => Role::User,
        }
    }
}

/// A gateway user.
#[derive(SimpleObject, Debug, Clone)]
pub struct User {
    /// Unique name (unique regardless of case).
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Role.
    pub role: Role,
    /// When the user was created (UTC).
    pub create_time: DateTime<Utc>,
    /// When the user last changed (UTC).
    pub update_time: DateTime<Utc>,
}

impl From<user::Model> for User {
    fn from(model: user::Model) -> Self {
        User {
            role: AuthRole::from_stored(&model.role).into(),
            name: model.name,
            email: model.email,
            create_time: model.create_time.and_utc(),
            update_time: model.update_time.and_utc(),
        }
    }
}

/// A signed-in session.
#[derive(SimpleObject, Debug, Clone)]
pub struct LoginPayload {
    /// Bearer token for the `Authorization` header.
    pub token: String,
    /// When the token stops being accepted.
    pub expires_at: DateTime<Utc>,
}

/// A user to create.
#[derive(InputObject, Debug)]
pub struct CreateUserInput {
    /// 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.
    pub name: String,
    /// A valid e-mail address.
    pub email: String,
    /// 8 to 1024 characters.
    pub password: String,
    /// Defaults to USER.
    pub role: Option<Role>,
}

/// Changes to a user; omitted fields stay as they are.
#[derive(InputObject, Debug, Default)]
pub struct UpdateUserInput {
    /// New e-mail address.
    pub email: Option<String>,
    /// New password (8 to 1024 characters); tokens issued before stop working.
    pub password: Option<String>,
    /// New role (admins only).
    pub role: Option<Role>,
}

/// User queries.
#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// Users whose name contains `name` (a literal substring, ignoring case),
    /// ordered by name. Any signed-in user may list users.
    #[graphql(complexity = "10 * child_complexity")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        name: Option<String>,
    ) -> async_graphql::Result<Vec<User>> {
        let viewer = viewer(ctx).gql()?;
        if !viewer.can_list_users() {
            return Err(AppError::Forbidden("you may not list users")).gql();
        }
        let found = users::list_users(&app(ctx).db, name.as_deref())
            .await
            .gql()?;
        Ok(found.into_iter().map(User::from).collect())
    }

    /// A short key for what the signed-in user may read: users with equal keys
    /// see equal data (used to reuse rendered answers).
    async fn viewer_scope(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        Ok(viewer(ctx).gql()?.scope_key())
    }

    /// The signed-in user.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        let viewer = viewer(ctx).gql()?;
        users::find_by_id(&app(ctx).db, viewer.id)
            .await
            .and_then(|found| found.ok_or_else(|| AppError::UserNotFound(viewer.name.clone())))
            .map(User::from)
            .gql()
    }
}

/// User mutations.
#[derive(Default)]
pub struct UserMutation;

#[Object]
impl UserMutation {
    /// Signs in; the only operation that needs no token. Attempts are limited
    /// per name and per client address (error code TooManyRequests, with
    /// `extensions.retryAfter` in seconds).
    async fn login(
        &self,
        ctx: &Context<'_>,
        name: String,
        password: String,
    ) -> async_graphql::Result<LoginPayload> {
        let state = app(ctx);
        let client = ctx.data_opt::<ClientAddr>().map(|client| client.0);
        if let Err(err) = state.login_limiter.check(&name, client) {
            state.metrics.login_failure(LoginFailure::RateLimited);
            // Quoted and cut short: the name is whatever the client typed.
            let shown: String = name.chars().take(64).collect();
            tracing::warn!(user = ?shown, client = ?client, "sign-in refused by the rate limit");
            return Err(err).gql();
        }
        let user = users::authenticate_password(&state.db, &state.passwords, &name, &password)
            .await
            .inspect_err(|err| {
                if err.code() == ErrorCode::Unauthorized {
                    state.metrics.login_failure(LoginFailure::BadCredentials);
                }
            })
            .gql()?;
        let (token, expires_at) = state.jwt.issue(user.id, user.token_generation).gql()?;
        Ok(LoginPayload { token, expires_at })
    }

    /// Creates a user (admins only).
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        input: CreateUserInput,
    ) -> async_graphql::Result<User> {
        let viewer = viewer(ctx).gql()?;
        if !viewer.can_create_users() {
            return Err(AppError::Forbidden("only an admin may create users")).gql();
        }
        let state = app(ctx);
        let new = NewUser {
            name: input.name,
            email: input.email,
            password: input.password,
            role: input.role.map(Into::into),
        };
        users::create_user(&state.db, &state.passwords, new)
            .await
            .map(User::from)
            .gql()
    }

    /// Changes a user: admins may change anyone, users only themselves, and only
    /// admins may change roles. Changing a password signs out earlier tokens.
    async fn update_user(
        &self,
        ctx: &Context<'_>,
        name: String,
        input: UpdateUserInput,
    ) -> async_graphql::Result<User> {
        let viewer = viewer(ctx).gql()?;
        let state = app(ctx);
        let changes = UserChanges {
            email: input.email,
            password: input.password,
            role: input.role.map(Into::into),
        };
        users::update_user(&state.db, &state.passwords, viewer, &name, changes)
            .await
            // Tokens are checked against the new password and role from now on.
            .inspect(|updated| state.sessions.forget(updated.id))
            .map(User::from)
            .gql()
    }
}
