//! Users in GraphQL: `users`, `me`, `login`, `createUser`, `updateUser`,
//! grants of users and groups, and the end of a sign-in through the identity
//! provider (`redeemSignInCode`) and of every sign-in (`signOut`).
//!
//! [`User`] is defined here, not derived on the entity, so the password hash and
//! internal columns can never leak into the schema.

use async_graphql::{ComplexObject, Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::user;

use super::{GqlResultExt, RequestMeta, app, viewer};
use crate::{
    audit::{self, Action, Event, Origin, Refusals},
    auth::{self, Role},
    error::{AppError, ErrorCode},
    metrics::LoginFailure,
    users::{self, NewUser, PasswordChecks, PasswordTurn, UserChanges, UserSource},
};

/// A gateway user.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(complex)]
pub struct User {
    #[graphql(skip)]
    id: i64,
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
    /// Where the user came from: LOCAL (password) or OIDC (the identity
    /// provider).
    pub source: UserSource,
    /// The groups of the user's last sign-in through the identity provider
    /// (none for local users).
    pub groups: Vec<String>,
}

impl From<user::Model> for User {
    fn from(model: user::Model) -> Self {
        User {
            id: model.id,
            source: UserSource::from_stored(&model.source),
            groups: auth::grants::stored_groups(model.groups.as_deref()),
            role: Role::from_stored(&model.role),
            name: model.name,
            email: model.email,
            create_time: model.create_time.and_utc(),
            update_time: model.update_time.and_utc(),
        }
    }
}

/// A grant: what a user may read.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// A cluster name, or `*` for every cluster (present and future).
    pub cluster: String,
    /// One namespace, or null for the whole cluster.
    pub namespace: Option<String>,
    /// Whether objects in its scope are shown as the API server has them
    /// (env values and redacted annotations included; such reads are
    /// audited as `revealed`).
    pub reveal: bool,
}

/// A grant to give.
#[derive(InputObject, Debug, Clone)]
pub struct GrantInput {
    /// A cluster name (it need not be configured yet), or `*` for every cluster.
    pub cluster: String,
    /// One namespace (a DNS-1123 label), or null for the whole cluster.
    pub namespace: Option<String>,
    /// Show objects in its scope unredacted: env values and the annotations
    /// `OSP_REDACT` hides (default false).
    #[graphql(default)]
    pub reveal: bool,
}

impl From<&auth::Grant> for Grant {
    fn from(grant: &auth::Grant) -> Self {
        Grant {
            cluster: grant.cluster.clone(),
            namespace: grant.namespace.clone(),
            reveal: grant.reveal,
        }
    }
}

#[ComplexObject]
impl User {
    /// What the user may read (admins read everything whatever their grants).
    /// Visible to admins and to the user themself.
    async fn grants(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Grant>> {
        let viewer = viewer(ctx).gql()?;
        if !(viewer.is_admin() || viewer.id == self.id) {
            return Err(AppError::Forbidden("only admins see other users' grants")).gql();
        }
        let grants = auth::grants::load(&app(ctx).db, self.id).await.gql()?;
        Ok(grants.iter().map(Grant::from).collect())
    }

    /// What the user may read: their own grants and their groups' (see
    /// `groupGrants`). Visible to admins and to the user themself.
    async fn effective_grants(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Grant>> {
        let viewer = viewer(ctx).gql()?;
        if !(viewer.is_admin() || viewer.id == self.id) {
            return Err(AppError::Forbidden("only admins see other users' grants")).gql();
        }
        let grants = auth::grants::load_effective(&app(ctx).db, self.id, &self.groups)
            .await
            .gql()?;
        Ok(grants.iter().map(Grant::from).collect())
    }
}

/// The grants every member of a group has.
#[derive(SimpleObject, Debug, Clone)]
pub struct GroupGrants {
    /// The group, as the identity provider's groups claim names it.
    pub group: String,
    /// What its members may read.
    pub grants: Vec<Grant>,
}

impl GroupGrants {
    fn new(group: String, grants: &auth::Grants) -> Self {
        GroupGrants {
            group,
            grants: grants.iter().map(Grant::from).collect(),
        }
    }
}

/// The end of a sign-out.
#[derive(SimpleObject, Debug, Clone)]
pub struct SignOut {
    /// Where to send the browser to end the session at the identity provider
    /// too (null when there is none).
    pub end_session_url: Option<String>,
}

impl From<GrantInput> for auth::Grant {
    fn from(input: GrantInput) -> Self {
        auth::Grant {
            cluster: input.cluster,
            namespace: input.namespace,
            reveal: input.reveal,
        }
    }
}

/// Who acts and from where, for the audit trail.
pub(crate) fn origin(ctx: &Context<'_>, actor: Option<&str>) -> Origin {
    let meta = ctx.data_opt::<RequestMeta>().cloned().unwrap_or_default();
    Origin {
        actor: actor.map(str::to_owned),
        client: meta.client,
        request_id: meta.request_id,
    }
}

/// What every operation is given (see `Executor::with_request_data`); an
/// internal error, refusing the change, in one that was not.
fn operation_data<'a, T: std::any::Any + Send + Sync>(
    ctx: &Context<'a>,
) -> async_graphql::Result<&'a T> {
    ctx.data_opt::<T>()
        .ok_or_else(|| {
            AppError::internal(anyhow::anyhow!(
                "an operation without its {}",
                std::any::type_name::<T>()
            ))
        })
        .gql()
}

/// Where the operation's refused changes are noted.
fn refusals<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Refusals> {
    operation_data::<Refusals>(ctx)
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
    /// Your current password: needed to change your own password when you
    /// signed in longer ago than the gateway's recent sign-in window
    /// (`OSP_RECENT_SIGN_IN`, 5 minutes by default).
    pub current_password: Option<String>,
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

    /// Every group that has grants, with them (admins only).
    async fn group_grants(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<GroupGrants>> {
        let viewer = viewer(ctx).gql()?;
        let groups = users::list_group_grants(&app(ctx).db, viewer).await.gql()?;
        Ok(groups
            .into_iter()
            .map(|(group, grants)| GroupGrants::new(group, &grants))
            .collect())
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
    /// per (name, client address) and per client address (error code
    /// TooManyRequests, with `extensions.retryAfter` in seconds); a name failing
    /// from many addresses is slowed down, never refused.
    async fn login(
        &self,
        ctx: &Context<'_>,
        name: String,
        password: String,
    ) -> async_graphql::Result<LoginPayload> {
        let state = app(ctx);
        let client = ctx.data_opt::<RequestMeta>().and_then(|meta| meta.client);
        let signed_in = match state.login_limiter.check(&name, client).await {
            Err(err) => {
                state.metrics.login_failure(LoginFailure::RateLimited);
                // Quoted and cut short: the name is whatever the client typed.
                let shown: String = name.chars().take(64).collect();
                tracing::warn!(user = ?shown, client = ?client, "sign-in refused by the rate limit");
                Err(err)
            }
            Ok(()) => users::authenticate_password(&state.db, &state.passwords, &name, &password)
                .await
                .and_then(|user| state.auth.keys().issue(user.id, user.token_generation)),
        };
        let outcome = signed_in
            .as_ref()
            .map_or_else(AppError::code, |_| ErrorCode::Success);
        if outcome == ErrorCode::Unauthorized {
            state.metrics.login_failure(LoginFailure::BadCredentials);
            state.login_limiter.failed(&name).await;
        }
        // One insert, whatever the outcome (refusals by the rate limit too); a
        // password never enters it.
        let event = Event {
            origin: origin(ctx, Some(&name)),
            action: Action::Login,
            target: Some(name),
            outcome,
            detail: Some("method=password".to_owned()),
        };
        audit::record(&state.db, event).await.gql()?;
        let (token, expires_at) = signed_in.gql()?;
        Ok(LoginPayload { token, expires_at })
    }

    /// Creates a user (admins only).
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        input: CreateUserInput,
    ) -> async_graphql::Result<User> {
        let viewer = viewer(ctx).gql()?;
        let state = app(ctx);
        let new = NewUser {
            name: input.name,
            email: input.email,
            password: input.password,
            role: input.role,
        };
        users::create_user(
            &state.db,
            &state.passwords,
            viewer,
            &origin(ctx, Some(&viewer.name)),
            refusals(ctx)?,
            new,
        )
        .await
        .map(User::from)
        .gql()
    }

    /// Changes a user: admins may change anyone, users only themselves, and only
    /// admins may change roles. Changing a password signs out earlier tokens.
    /// Changing your own password takes `currentPassword` unless you signed in
    /// recently (`OSP_RECENT_SIGN_IN`); a wrong one counts as a failed sign-in.
    /// An operation changes at most one password.
    async fn update_user(
        &self,
        ctx: &Context<'_>,
        name: String,
        input: UpdateUserInput,
    ) -> async_graphql::Result<User> {
        let viewer = viewer(ctx).gql()?;
        let state = app(ctx);
        let turn = operation_data::<PasswordTurn>(ctx)?;
        let checks = PasswordChecks {
            passwords: &state.passwords,
            limiter: &state.login_limiter,
            recent_sign_in: state.config.recent_sign_in,
            turn,
        };
        let changes = UserChanges {
            email: input.email,
            password: input.password,
            role: input.role,
            current_password: input.current_password,
        };
        let origin = origin(ctx, Some(&viewer.name));
        let refusals = refusals(ctx)?;
        users::update_user(&state.db, checks, viewer, &origin, refusals, &name, changes)
            .await
            // Tokens are checked against the new password and role from now on.
            .inspect(|updated| state.auth.forget(updated.id))
            .map(User::from)
            .gql()
    }

    /// Replaces a user's grants (admins only). Cluster and namespace names are
    /// checked; a cluster need not be configured yet. Takes effect at once on
    /// this gateway and within seconds on other replicas.
    async fn set_grants(
        &self,
        ctx: &Context<'_>,
        name: String,
        grants: Vec<GrantInput>,
    ) -> async_graphql::Result<User> {
        let viewer = viewer(ctx).gql()?;
        let state = app(ctx);
        let grants = grants.into_iter().map(auth::Grant::from).collect();
        let origin = origin(ctx, Some(&viewer.name));
        let refusals = refusals(ctx)?;
        let (user, _) = users::set_grants(&state.db, viewer, &origin, refusals, &name, grants)
            .await
            .gql()?;
        // The user's next request reads the new grants.
        state.auth.forget(user.id);
        Ok(User::from(user))
    }

    /// Replaces what every member of `group` (as the identity provider's
    /// groups claim names it) may read (admins only). Members' effective
    /// grants are theirs and their groups'; the change takes effect at once,
    /// as a user's grants do.
    async fn set_group_grants(
        &self,
        ctx: &Context<'_>,
        group: String,
        grants: Vec<GrantInput>,
    ) -> async_graphql::Result<GroupGrants> {
        let viewer = viewer(ctx).gql()?;
        let state = app(ctx);
        let grants = grants.into_iter().map(auth::Grant::from).collect();
        let origin = origin(ctx, Some(&viewer.name));
        let refusals = refusals(ctx)?;
        let set = users::set_group_grants(&state.db, viewer, &origin, refusals, &group, grants)
            .await
            .gql()?;
        // Any user may be a member: everyone's next request reads afresh.
        state.auth.forget_everyone();
        Ok(GroupGrants::new(group, &set))
    }

    /// Finishes a sign-in through the identity provider: `code` is what the
    /// gateway's callback put in the address's fragment (`#osp_code=…`),
    /// `verifier` the random string whose challenge started the sign-in.
    /// Returns a token as `login` does; a wrong verifier, a code used already
    /// or older than 60 s answers Unauthorized.
    async fn redeem_sign_in_code(
        &self,
        ctx: &Context<'_>,
        code: String,
        verifier: String,
    ) -> async_graphql::Result<LoginPayload> {
        let state = app(ctx);
        let client = ctx.data_opt::<RequestMeta>().and_then(|meta| meta.client);
        state.login_limiter.check_address(client).await.gql()?;
        let redeemed = auth::oidc::store::redeem(&state.db, &code, &verifier)
            .await
            .gql()?;
        let user = match redeemed {
            Ok(user_id) => users::find_by_id(&state.db, user_id).await.gql()?,
            Err(refusal) => {
                let event = Event {
                    origin: origin(ctx, None),
                    action: Action::Login,
                    target: None,
                    outcome: ErrorCode::Unauthorized,
                    detail: Some(format!("method=oidc reason={}", refusal.reason())),
                };
                audit::record(&state.db, event).await.gql()?;
                return Err(AppError::Unauthorized(BAD_SIGN_IN_CODE)).gql();
            }
        };
        let user = user.ok_or(AppError::Unauthorized(BAD_SIGN_IN_CODE)).gql()?;
        let (token, expires_at) = state
            .auth
            .keys()
            .issue(user.id, user.token_generation)
            .gql()?;
        Ok(LoginPayload { token, expires_at })
    }

    /// Signs the viewer out everywhere: every token of theirs stops working
    /// (on other replicas within seconds). `endSessionUrl` ends the session
    /// at the identity provider too, when it has one.
    async fn sign_out(&self, ctx: &Context<'_>) -> async_graphql::Result<SignOut> {
        let viewer = viewer(ctx).gql()?;
        let state = app(ctx);
        users::sign_out(&state.db, viewer, &origin(ctx, Some(&viewer.name)))
            .await
            .gql()?;
        state.auth.forget(viewer.id);
        let source = users::find_by_id(&state.db, viewer.id)
            .await
            .gql()?
            .map(|found| UserSource::from_stored(&found.source));
        let end_session_url = match (&state.oidc, source) {
            (Some(oidc), Some(UserSource::Oidc)) => oidc.end_session_url(),
            _ => None,
        };
        Ok(SignOut { end_session_url })
    }
}

/// The answer to every code that does not sign in.
const BAD_SIGN_IN_CODE: &str = "invalid, expired or already used sign-in code";
