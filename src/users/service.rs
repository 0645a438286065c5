//! User queries and rules over SeaORM.
//!
//! Every change is recorded in the audit trail: a change that is made, in its
//! own transaction; a change that is refused, in the operation's [`Refusals`],
//! under the same action with the refusal's code as outcome.

use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use chrono::{NaiveDateTime, SubsecRound, Utc};
use entity::{grant, user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, DbBackend, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, SqlErr, TransactionTrait,
    sea_query::{Expr, LikeExpr},
};

use super::validate::{
    MAX_NAME_LEN, MAX_PASSWORD_LEN, name_key, validate_email, validate_name, validate_password,
};
use crate::{
    audit::{self, Action, Event, Origin, Refusals},
    auth::{Grant, Grants, Passwords, Role, Viewer},
    error::{AppError, BAD_CREDENTIALS, ErrorCode},
    k8s::names::validate_namespace,
    ratelimit::LoginLimiter,
};

/// The answer to a wrong current password.
const WRONG_CURRENT_PASSWORD: &str = "the current password is wrong";

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Unique name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Plain password; only its hash is stored.
    pub password: String,
    /// Role; `None` means [`Role::User`].
    pub role: Option<Role>,
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    /// New e-mail address.
    pub email: Option<String>,
    /// New password; changing it invalidates the user's earlier tokens.
    pub password: Option<String>,
    /// New role (admins only).
    pub role: Option<Role>,
    /// The viewer's current password, when changing their own (see
    /// [`Viewer::must_give_current_password`]).
    pub current_password: Option<String>,
}

impl UserChanges {
    /// The names of the fields to change, for the audit trail.
    fn fields(&self) -> String {
        let given = [
            ("email", self.email.is_some()),
            ("password", self.password.is_some()),
            ("role", self.role.is_some()),
        ];
        let names: Vec<&str> = given
            .iter()
            .filter(|(_, given)| *given)
            .map(|(name, _)| *name)
            .collect();
        names.join(", ")
    }
}

/// The one password change an operation may make, taken by its first password
/// change whatever becomes of it: aliases in one operation then cannot
/// multiply the hashing, nor guesses of a current password.
#[derive(Debug, Default)]
pub struct PasswordTurn(AtomicBool);

impl PasswordTurn {
    /// Takes the turn; false when it was taken already.
    fn take(&self) -> bool {
        !self.0.swap(true, Ordering::AcqRel)
    }
}

/// What a password change is checked with.
#[derive(Clone, Copy)]
pub struct PasswordChecks<'a> {
    /// The bounded hashing threads (checks and new hashes alike).
    pub passwords: &'a Passwords,
    /// The sign-in limits: a current password given is a password guess.
    pub limiter: &'a LoginLimiter,
    /// How long after signing in one's own password changes without the
    /// current one (`OSP_RECENT_SIGN_IN`).
    pub recent_sign_in: Duration,
    /// The operation's one password change.
    pub turn: &'a PasswordTurn,
}

/// `result`, noted in the operation's `refusals` when it refuses a change:
/// under the change's `action`, with the refusal's code as outcome (written
/// when the operation ends, see [`Refusals`]). A change that is made is
/// recorded in its own transaction, not here; a failure of the gateway itself
/// (`InternalError`) refuses nothing and is not noted.
pub(super) fn recorded<T>(
    refusals: &Refusals,
    origin: &Origin,
    action: Action,
    target: &str,
    detail: Option<String>,
    result: Result<T, AppError>,
) -> Result<T, AppError> {
    if let Err(refusal) = &result
        && refusal.code() != ErrorCode::InternalError
    {
        refusals.note(Event {
            origin: origin.clone(),
            action,
            target: Some(target.to_owned()),
            outcome: refusal.code(),
            detail,
        });
    }
    result
}

pub(super) fn now() -> NaiveDateTime {
    // Whole seconds: every database then stores and returns the same value.
    Utc::now().naive_utc().trunc_subsecs(0)
}

fn check(field: &str, result: Result<(), String>) -> Result<(), AppError> {
    result.map_err(|reason| AppError::invalid(field, reason))
}

pub(super) fn map_insert_error(err: DbErr, name: &str) -> AppError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => AppError::UserAlreadyExists(name.to_owned()),
        _ => err.into(),
    }
}

/// Creates a user on behalf of `viewer` (admins only), recording it in the
/// audit trail in the same transaction, or its refusal.
pub async fn create_user(
    db: &DatabaseConnection,
    passwords: &Passwords,
    viewer: &Viewer,
    origin: &Origin,
    refusals: &Refusals,
    new: NewUser,
) -> Result<user::Model, AppError> {
    let target = new.name.clone();
    let detail = format!("role: {}", new.role.unwrap_or(Role::User).as_str());
    let created = if viewer.can_create_users() {
        insert_user(db, passwords, origin, new).await
    } else {
        Err(AppError::Forbidden("only an admin may create users"))
    };
    recorded(
        refusals,
        origin,
        Action::UserCreated,
        &target,
        Some(detail),
        created,
    )
}

/// Creates a user, recording it in the audit trail in the same transaction.
async fn insert_user(
    db: &DatabaseConnection,
    passwords: &Passwords,
    origin: &Origin,
    new: NewUser,
) -> Result<user::Model, AppError> {
    check("name", validate_name(&new.name))?;
    check("email", validate_email(&new.email))?;
    check("password", validate_password(&new.password))?;
    let key = name_key(&new.name);
    if find_by_key(db, &key).await?.is_some() {
        return Err(AppError::UserAlreadyExists(new.name));
    }
    let hash = passwords.hash(new.password).await?;
    let time = now();
    let row = user::ActiveModel {
        name: Set(new.name.clone()),
        name_key: Set(key),
        email: Set(new.email),
        password_hash: Set(hash),
        role: Set(new.role.unwrap_or(Role::User).as_str().to_owned()),
        token_generation: Set(0),
        create_time: Set(time),
        update_time: Set(time),
        source: Set(super::UserSource::Local.as_str().to_owned()),
        ..Default::default()
    };
    let role = new.role.unwrap_or(Role::User);
    let txn = db.begin().await?;
    // The unique index settles races between concurrent creators of one name.
    let created = row
        .insert(&txn)
        .await
        .map_err(|err| map_insert_error(err, &new.name))?;
    let event = Event {
        origin: origin.clone(),
        action: Action::UserCreated,
        target: Some(created.name.clone()),
        outcome: ErrorCode::Success,
        detail: Some(format!("role: {}", role.as_str())),
    };
    audit::record(&txn, event).await?;
    txn.commit().await?;
    Ok(created)
}

/// Lists users whose name contains `filter` (a literal substring, compared
/// without regard to case; '%' and '_' match only themselves), ordered by name.
pub async fn list_users(
    db: &impl ConnectionTrait,
    filter: Option<&str>,
) -> Result<Vec<user::Model>, AppError> {
    let mut query = user::Entity::find().order_by_asc(user::Column::NameKey);
    if let Some(filter) = filter.filter(|f| !f.is_empty()) {
        if filter.len() > MAX_NAME_LEN {
            return Err(AppError::invalid(
                "name",
                format!("must be at most {MAX_NAME_LEN} characters"),
            ));
        }
        let mut pattern = String::with_capacity(filter.len() + 2);
        pattern.push('%');
        for c in name_key(filter).chars() {
            if matches!(c, '%' | '_' | '!') {
                pattern.push('!');
            }
            pattern.push(c);
        }
        pattern.push('%');
        query = query.filter(user::Column::NameKey.like(LikeExpr::new(pattern).escape('!')));
    }
    Ok(query.all(db).await?)
}

pub(super) async fn find_by_key(
    db: &impl ConnectionTrait,
    key: &str,
) -> Result<Option<user::Model>, AppError> {
    Ok(user::Entity::find()
        .filter(user::Column::NameKey.eq(key))
        .one(db)
        .await?)
}

/// Finds a user by id.
pub async fn find_by_id(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<user::Model>, AppError> {
    Ok(user::Entity::find_by_id(id).one(db).await?)
}

/// Changes a user on behalf of `viewer`: admins may change anyone (and roles),
/// users only their own e-mail address and password. The change and its audit
/// event are written in one transaction; a refusal is recorded too.
pub async fn update_user(
    db: &DatabaseConnection,
    checks: PasswordChecks<'_>,
    viewer: &Viewer,
    origin: &Origin,
    refusals: &Refusals,
    name: &str,
    changes: UserChanges,
) -> Result<user::Model, AppError> {
    let detail = format!("fields: {}", changes.fields());
    let updated = change_user(db, checks, viewer, origin, name, changes).await;
    recorded(
        refusals,
        origin,
        Action::UserUpdated,
        name,
        Some(detail),
        updated,
    )
}

async fn change_user(
    db: &DatabaseConnection,
    checks: PasswordChecks<'_>,
    viewer: &Viewer,
    origin: &Origin,
    name: &str,
    changes: UserChanges,
) -> Result<user::Model, AppError> {
    // Before anything else, so a refused alias costs no hashing and no query.
    if changes.password.is_some() && !checks.turn.take() {
        return Err(AppError::invalid(
            "password",
            "at most one password change per operation",
        ));
    }
    check("name", validate_name(name))?;
    if let Some(email) = &changes.email {
        check("email", validate_email(email))?;
    }
    if let Some(password) = &changes.password {
        check("password", validate_password(password))?;
    }
    // A current password given without a new one is not needed: ignored.
    if let Some(current) = &changes.current_password
        && current.chars().count() > MAX_PASSWORD_LEN
    {
        return Err(AppError::invalid(
            "currentPassword",
            format!("must be at most {MAX_PASSWORD_LEN} characters"),
        ));
    }
    let Some(current) = find_by_key(db, &name_key(name)).await? else {
        // Non-admins learn nothing about other accounts.
        return Err(if viewer.is_admin() {
            AppError::UserNotFound(name.to_owned())
        } else {
            AppError::Forbidden("you may only change your own account")
        });
    };
    if !viewer.can_update_user(current.id) {
        return Err(AppError::Forbidden("you may only change your own account"));
    }
    if changes.password.is_some()
        && super::UserSource::from_stored(&current.source) == super::UserSource::Oidc
    {
        return Err(AppError::invalid(
            "password",
            "this user signs in through the identity provider and has no local password",
        ));
    }
    // Refused before any hashing; decided again under lock below.
    if changes
        .role
        .is_some_and(|role| role != Role::from_stored(&current.role))
        && !viewer.can_change_roles()
    {
        return Err(AppError::Forbidden("only an admin may change roles"));
    }
    // Hashing is slow: done before the transaction, so no lock waits on it.
    let password_hash = match changes.password {
        Some(password) => {
            confirm_current_password(checks, viewer, origin, &current, changes.current_password)
                .await?;
            Some(checks.passwords.hash(password).await?)
        }
        None => None,
    };

    let txn = db.begin().await?;
    // What the decisions below rest on is read again under lock, so a change
    // racing this one waits for it and then sees its result (see `lock_for_change`).
    let Some((current, admins)) = lock_for_change(&txn, current.id).await? else {
        return Err(AppError::UserNotFound(name.to_owned()));
    };
    let current_role = Role::from_stored(&current.role);
    if let Some(role) = changes.role
        && role != current_role
    {
        if !viewer.can_change_roles() {
            return Err(AppError::Forbidden("only an admin may change roles"));
        }
        if current_role == Role::Admin && admins <= 1 {
            return Err(AppError::Forbidden("the last admin cannot be demoted"));
        }
    }

    let generation = current.token_generation;
    let target = current.name.clone();
    let mut fields = Vec::new();
    let mut row: user::ActiveModel = current.into();
    if let Some(email) = changes.email {
        row.email = Set(email);
        fields.push("email");
    }
    if let Some(hash) = password_hash {
        row.password_hash = Set(hash);
        row.token_generation = Set(generation.wrapping_add(1));
        fields.push("password");
    }
    if let Some(role) = changes.role {
        row.role = Set(role.as_str().to_owned());
        fields.push("role");
    }
    if row.is_changed() {
        row.update_time = Set(now());
    }
    let updated = row.update(&txn).await?;
    let event = Event {
        origin: origin.clone(),
        action: Action::UserUpdated,
        target: Some(target),
        outcome: ErrorCode::Success,
        // Which fields, never their values.
        detail: Some(format!("fields: {}", fields.join(", "))),
    };
    audit::record(&txn, event).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Checks the current password of a change of `current`'s password when the
/// viewer must give it (their own account, signed in longer ago than
/// `OSP_RECENT_SIGN_IN`) or gives it. It is checked as a sign-in is: counted
/// against the sign-in limits first, then verified on the hashing threads,
/// and a wrong one counts as a failed sign-in of the account.
async fn confirm_current_password(
    checks: PasswordChecks<'_>,
    viewer: &Viewer,
    origin: &Origin,
    current: &user::Model,
    given: Option<String>,
) -> Result<(), AppError> {
    let needed = viewer.must_give_current_password(current.id, checks.recent_sign_in, Utc::now());
    let given = match given {
        // An admin setting another's password needs none: one given is
        // not checked (legacy clients may send what the form had).
        Some(_) if viewer.id != current.id => return Ok(()),
        Some(given) => given,
        None if needed => {
            return Err(AppError::invalid(
                "currentPassword",
                format!(
                    "required to change your own password more than {} after signing in \
                     (REST: current_password); give it, or sign in again",
                    humantime::format_duration(checks.recent_sign_in)
                ),
            ));
        }
        None => return Ok(()),
    };
    checks.limiter.check(&current.name, origin.client).await?;
    let hash = Some(current.password_hash.clone());
    if checks.passwords.verify(given, hash).await? {
        Ok(())
    } else {
        checks.limiter.failed(&current.name).await;
        Err(AppError::Unauthorized(WRONG_CURRENT_PASSWORD))
    }
}

/// Locks what a change of user `id` decides on, inside `txn`, and reads it
/// fresh: the user's row and the number of admins.
///
/// PostgreSQL and MariaDB lock the admins' rows and the user's row with one
/// `SELECT ... FOR UPDATE` in id order (so two changes never lock in opposite
/// orders); a concurrent change waits, and then reads the rows as the other
/// left them (a locking read sees the latest committed rows). SQLite has no row
/// locks: a write to the user's row first takes the database's write lock, so
/// changes run one after the other.
async fn lock_for_change(
    txn: &DatabaseTransaction,
    id: i64,
) -> Result<Option<(user::Model, u64)>, AppError> {
    if txn.get_database_backend() == DbBackend::Sqlite {
        user::Entity::update_many()
            .col_expr(user::Column::Id, Expr::col(user::Column::Id))
            .filter(user::Column::Id.eq(id))
            .exec(txn)
            .await?;
    }
    let rows = user::Entity::find()
        .filter(
            Condition::any()
                .add(user::Column::Role.eq(Role::Admin.as_str()))
                .add(user::Column::Id.eq(id)),
        )
        .order_by_asc(user::Column::Id)
        .lock_exclusive()
        .all(txn)
        .await?;
    let admins = rows
        .iter()
        .filter(|row| Role::from_stored(&row.role) == Role::Admin)
        .count() as u64;
    Ok(rows
        .into_iter()
        .find(|row| row.id == id)
        .map(|current| (current, admins)))
}

/// Replaces a user's grants (admins only), recording it in the same
/// transaction, or its refusal. Cluster names are checked for shape only, so
/// a grant may precede its cluster.
pub async fn set_grants(
    db: &DatabaseConnection,
    viewer: &Viewer,
    origin: &Origin,
    refusals: &Refusals,
    name: &str,
    grants: Vec<Grant>,
) -> Result<(user::Model, Grants), AppError> {
    let detail = describe_attempted(&grants);
    let set = replace_grants(db, viewer, origin, name, grants).await;
    recorded(refusals, origin, Action::GrantsSet, name, Some(detail), set)
}

async fn replace_grants(
    db: &DatabaseConnection,
    viewer: &Viewer,
    origin: &Origin,
    name: &str,
    grants: Vec<Grant>,
) -> Result<(user::Model, Grants), AppError> {
    if !viewer.can_administer() {
        return Err(AppError::Forbidden("only an admin may set grants"));
    }
    check("name", validate_name(name))?;
    check_grants(&grants, "user")?;
    let grants = Grants::new(grants);
    let Some(user) = find_by_key(db, &name_key(name)).await? else {
        return Err(AppError::UserNotFound(name.to_owned()));
    };
    let txn = db.begin().await?;
    grant::Entity::delete_many()
        .filter(grant::Column::UserId.eq(user.id))
        .exec(&txn)
        .await?;
    let rows: Vec<grant::ActiveModel> = grants
        .iter()
        .map(|g| grant::ActiveModel {
            user_id: Set(user.id),
            cluster: Set(g.cluster.clone()),
            namespace: Set(g.namespace.clone()),
            reveal: Set(g.reveal),
            ..Default::default()
        })
        .collect();
    if !rows.is_empty() {
        grant::Entity::insert_many(rows).exec(&txn).await?;
    }
    let event = Event {
        origin: origin.clone(),
        action: Action::GrantsSet,
        target: Some(user.name.clone()),
        outcome: ErrorCode::Success,
        detail: Some(describe_grants(&grants)),
    };
    audit::record(&txn, event).await?;
    txn.commit().await?;
    Ok((user, grants))
}

/// Checks grants to give a `holder` (a user or a group): at most
/// [`MAX_GRANTS`], with well-formed cluster and namespace names.
pub(super) fn check_grants(grants: &[Grant], holder: &str) -> Result<(), AppError> {
    if grants.len() > MAX_GRANTS {
        return Err(AppError::invalid(
            "grants",
            format!("at most {MAX_GRANTS} grants per {holder}"),
        ));
    }
    for grant in grants {
        validate_grant_cluster(&grant.cluster)?;
        if let Some(namespace) = &grant.namespace {
            validate_namespace("namespace", namespace)?;
        }
    }
    Ok(())
}

/// Grants per user (and per group) at most.
pub const MAX_GRANTS: usize = 200;

/// `cluster/namespace` (`*` for a whole cluster) of each grant, for the audit
/// trail.
pub(super) fn describe_grants(grants: &Grants) -> String {
    let listed: Vec<String> = grants.iter().map(Grant::to_string).collect();
    if listed.is_empty() {
        "none".to_owned()
    } else {
        listed.join(", ")
    }
}

/// The first grants asked for, for the record of a refusal (the grants may be
/// many, and not even valid).
pub(super) fn describe_attempted(grants: &[Grant]) -> String {
    const SHOWN: usize = 16;
    let shown: Vec<String> = grants.iter().take(SHOWN).map(Grant::to_string).collect();
    match grants.len() {
        0 => "none".to_owned(),
        n if n <= SHOWN => shown.join(", "),
        n => format!("{}, ... ({n} in all)", shown.join(", ")),
    }
}

/// A cluster name in a grant: `*`, or a kubeconfig context name (1-253
/// printable characters without spaces).
fn validate_grant_cluster(cluster: &str) -> Result<(), AppError> {
    let ok = !cluster.is_empty()
        && cluster.len() <= 253
        && cluster.chars().all(|c| c.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid(
            "cluster",
            "must be * or 1-253 printable characters without spaces",
        ))
    }
}

/// Checks a name and password. Unknown names and wrong passwords get the same
/// error after the same work.
pub async fn authenticate_password(
    db: &impl ConnectionTrait,
    passwords: &Passwords,
    name: &str,
    password: &str,
) -> Result<user::Model, AppError> {
    if password.chars().count() > MAX_PASSWORD_LEN {
        return Err(AppError::invalid(
            "password",
            format!("must be at most {MAX_PASSWORD_LEN} characters"),
        ));
    }
    let found = if validate_name(name).is_ok() {
        find_by_key(db, &name_key(name)).await?
    } else {
        None
    };
    // Users of the OpenID Provider have no local password: checked against
    // the decoy, so they are refused after the same work as unknown names.
    let hash = found
        .as_ref()
        .filter(|user| super::UserSource::from_stored(&user.source) == super::UserSource::Local)
        .map(|user| user.password_hash.clone());
    if passwords.verify(password.to_owned(), hash).await? {
        found.ok_or(AppError::Unauthorized(BAD_CREDENTIALS))
    } else {
        Err(AppError::Unauthorized(BAD_CREDENTIALS))
    }
}

/// Creates the first admin when the user table is empty. When no password is
/// given, one is generated and handed to `keep_generated` before the admin is
/// created; it is returned too (`None`: no admin was created by this call).
pub async fn bootstrap_admin(
    db: &DatabaseConnection,
    passwords: &Passwords,
    name: &str,
    password: Option<&str>,
    keep_generated: impl FnOnce(&str) -> std::io::Result<()>,
) -> Result<Option<String>, AppError> {
    if user::Entity::find().count(db).await? > 0 {
        return Ok(None);
    }
    let generated = password.is_none().then(generate_password);
    if let Some(generated) = &generated {
        // Kept before the admin exists: a password nobody can read back is
        // never set.
        keep_generated(generated).map_err(|e| {
            AppError::internal(anyhow::anyhow!("cannot keep the generated password: {e}"))
        })?;
    }
    let password = password.or(generated.as_deref()).unwrap_or_default();
    let new = NewUser {
        name: name.to_owned(),
        email: format!("{}@localhost.localdomain", name_key(name)),
        password: password.to_owned(),
        role: Some(Role::Admin),
    };
    match insert_user(db, passwords, &Origin::default(), new).await {
        Ok(_) => Ok(generated),
        // Another replica bootstrapped at the same moment.
        Err(AppError::UserAlreadyExists(_)) => Ok(None),
        Err(err) => Err(err),
    }
}

/// A random 24-character password from an unambiguous alphabet (~140 bits).
fn generate_password() -> String {
    use rand::RngExt;
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..24)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn generated_passwords_are_long_and_distinct() {
        let a = super::generate_password();
        let b = super::generate_password();
        assert_eq!(a.len(), 24);
        assert_ne!(a, b);
        assert!(super::validate_password(&a).is_ok());
    }
}
