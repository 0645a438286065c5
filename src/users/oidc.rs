//! Users who sign in through the OpenID Provider, and grants by group.
//!
//! Such a user is found by (issuer, subject), never by name: the first
//! sign-in creates them (source `oidc`, no local password), later ones keep
//! their e-mail address, groups and (with `OSP_OIDC_ADMIN_GROUPS`) role up to
//! date. A name that is taken, by a local user or another subject, is refused:
//! nothing is ever taken over.

use entity::{group_grant, user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};

use super::service::{
    check_grants, describe_attempted, describe_grants, find_by_key, map_insert_error, now, recorded,
};
use super::validate::{name_key, validate_name};
use crate::{
    audit::{self, Action, Event, Origin, Refusals},
    auth::{Grant, Grants, Role, Viewer, oidc::Identity},
    error::{AppError, ErrorCode},
};

/// Where a user came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
pub enum UserSource {
    /// Created in the gateway; signs in with a password.
    Local,
    /// Created by a sign-in through the OpenID Provider; has no local password.
    Oidc,
}

impl UserSource {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            UserSource::Local => "local",
            UserSource::Oidc => "oidc",
        }
    }

    /// Reads the stored form (anything unknown is local).
    pub fn from_stored(stored: &str) -> Self {
        if stored == "oidc" {
            UserSource::Oidc
        } else {
            UserSource::Local
        }
    }
}

/// The user a provider's identity signs in as: found by issuer and subject,
/// else created under the first of its names that is a valid user name and
/// free. Groups, e-mail address and (when decided) role are brought up to
/// date; a user creation is audited with it.
pub async fn sign_in_oidc(
    db: &DatabaseConnection,
    origin: &Origin,
    identity: &Identity,
) -> Result<user::Model, AppError> {
    let groups = serde_json::to_string(&identity.groups).map_err(AppError::internal)?;
    let email = identity.email.clone().unwrap_or_default();
    let existing = user::Entity::find()
        .filter(user::Column::Issuer.eq(identity.issuer.as_str()))
        .filter(user::Column::Subject.eq(identity.subject.as_str()))
        .one(db)
        .await?;
    if let Some(existing) = existing {
        let name = existing.name.clone();
        let role_before = Role::from_stored(&existing.role);
        let mut row: user::ActiveModel = existing.into();
        row.groups = Set(Some(groups));
        if !email.is_empty() {
            row.email = Set(email);
        }
        let role = match identity.admin {
            Some(true) => Role::Admin,
            Some(false) => Role::User,
            None => role_before,
        };
        row.role = Set(role.as_str().to_owned());
        if row.is_changed() {
            row.update_time = Set(now());
        }
        let txn = db.begin().await?;
        let updated = row.update(&txn).await?;
        // A role the admin groups changed is a change of the user: recorded.
        if role != role_before {
            let event = Event {
                origin: Origin {
                    actor: Some(name.clone()),
                    ..origin.clone()
                },
                action: Action::UserUpdated,
                target: Some(name),
                outcome: ErrorCode::Success,
                detail: Some(format!(
                    "fields: role ({} through OSP_OIDC_ADMIN_GROUPS)",
                    role.as_str()
                )),
            };
            audit::record(&txn, event).await?;
        }
        txn.commit().await?;
        return Ok(updated);
    }
    let Some(name) = identity
        .names
        .iter()
        .find(|name| validate_name(name).is_ok())
    else {
        return Err(AppError::SignInRefused(
            "the identity provider gave no name usable as a user name (letters, digits, \
             '.', '_' and '-')"
                .to_owned(),
        ));
    };
    let key = name_key(name);
    if find_by_key(db, &key).await?.is_some() {
        return Err(AppError::UserAlreadyExists(name.clone()));
    }
    let role = if identity.admin == Some(true) {
        Role::Admin
    } else {
        Role::User
    };
    let time = now();
    let row = user::ActiveModel {
        name: Set(name.clone()),
        name_key: Set(key),
        email: Set(email),
        password_hash: Set(String::new()),
        role: Set(role.as_str().to_owned()),
        token_generation: Set(0),
        create_time: Set(time),
        update_time: Set(time),
        source: Set(UserSource::Oidc.as_str().to_owned()),
        issuer: Set(Some(identity.issuer.clone())),
        subject: Set(Some(identity.subject.clone())),
        groups: Set(Some(groups)),
        ..Default::default()
    };
    let txn = db.begin().await?;
    // The unique indexes settle races: of one name, and of one identity.
    let created = row
        .insert(&txn)
        .await
        .map_err(|err| map_insert_error(err, name))?;
    let event = Event {
        origin: Origin {
            actor: Some(created.name.clone()),
            ..origin.clone()
        },
        action: Action::UserCreated,
        target: Some(created.name.clone()),
        outcome: ErrorCode::Success,
        detail: Some(format!("role: {}, source: oidc", role.as_str())),
    };
    audit::record(&txn, event).await?;
    txn.commit().await?;
    Ok(created)
}

/// The longest group name.
pub const MAX_GROUP_LEN: usize = crate::auth::oidc::MAX_GROUP_LEN;

fn validate_group(group: &str) -> Result<(), AppError> {
    if group.is_empty() || group.len() > MAX_GROUP_LEN || group.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "group",
            format!("must be 1-{MAX_GROUP_LEN} bytes without control characters"),
        ));
    }
    Ok(())
}

/// Replaces a group's grants (admins only), recording it in the same
/// transaction, or its refusal.
pub async fn set_group_grants(
    db: &DatabaseConnection,
    viewer: &Viewer,
    origin: &Origin,
    refusals: &Refusals,
    group: &str,
    grants: Vec<Grant>,
) -> Result<Grants, AppError> {
    let detail = describe_attempted(&grants);
    let set = replace_group_grants(db, viewer, origin, group, grants).await;
    recorded(
        refusals,
        origin,
        Action::GroupGrantsSet,
        group,
        Some(detail),
        set,
    )
}

async fn replace_group_grants(
    db: &DatabaseConnection,
    viewer: &Viewer,
    origin: &Origin,
    group: &str,
    grants: Vec<Grant>,
) -> Result<Grants, AppError> {
    if !viewer.can_administer() {
        return Err(AppError::Forbidden("only an admin may set group grants"));
    }
    validate_group(group)?;
    check_grants(&grants, "group")?;
    let grants = Grants::new(grants);
    let txn = db.begin().await?;
    group_grant::Entity::delete_many()
        .filter(group_grant::Column::GroupName.eq(group))
        .exec(&txn)
        .await?;
    let rows: Vec<group_grant::ActiveModel> = grants
        .iter()
        .map(|g| group_grant::ActiveModel {
            group_name: Set(group.to_owned()),
            cluster: Set(g.cluster.clone()),
            namespace: Set(g.namespace.clone()),
            reveal: Set(g.reveal),
            ..Default::default()
        })
        .collect();
    if !rows.is_empty() {
        group_grant::Entity::insert_many(rows).exec(&txn).await?;
    }
    let event = Event {
        origin: origin.clone(),
        action: Action::GroupGrantsSet,
        target: Some(group.to_owned()),
        outcome: ErrorCode::Success,
        detail: Some(describe_grants(&grants)),
    };
    audit::record(&txn, event).await?;
    txn.commit().await?;
    Ok(grants)
}

/// Every group that has grants, by name, with them (admins only).
pub async fn list_group_grants(
    db: &DatabaseConnection,
    viewer: &Viewer,
) -> Result<Vec<(String, Grants)>, AppError> {
    if !viewer.can_administer() {
        return Err(AppError::Forbidden("only an admin may list group grants"));
    }
    let rows = group_grant::Entity::find()
        .order_by_asc(group_grant::Column::GroupName)
        .order_by_asc(group_grant::Column::Id)
        .all(db)
        .await?;
    let mut groups: Vec<(String, Vec<Grant>)> = Vec::new();
    for row in rows {
        let grant = Grant::from(&row);
        match groups.last_mut() {
            Some((name, grants)) if *name == row.group_name => grants.push(grant),
            _ => groups.push((row.group_name, vec![grant])),
        }
    }
    Ok(groups
        .into_iter()
        .map(|(name, grants)| (name, Grants::new(grants)))
        .collect())
}

/// Ends every token of `viewer` (their token generation moves on), recording
/// it.
pub async fn sign_out(
    db: &DatabaseConnection,
    viewer: &Viewer,
    origin: &Origin,
) -> Result<(), AppError> {
    let txn = db.begin().await?;
    user::Entity::update_many()
        .col_expr(
            user::Column::TokenGeneration,
            sea_orm::sea_query::ExprTrait::add(
                sea_orm::sea_query::Expr::col(user::Column::TokenGeneration),
                1,
            ),
        )
        .filter(user::Column::Id.eq(viewer.id))
        .exec(&txn)
        .await?;
    let event = Event {
        origin: origin.clone(),
        action: Action::SignOut,
        target: Some(viewer.name.clone()),
        outcome: ErrorCode::Success,
        detail: None,
    };
    audit::record(&txn, event).await?;
    txn.commit().await?;
    Ok(())
}
