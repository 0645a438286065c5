//! Who is asking, and what they may do.
//!
//! Every authorization decision of the gateway is a method of [`Viewer`], so the
//! rules live in one place: roles decide who manages users, grants decide which
//! clusters and namespaces a user reads.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::grants::{Grants, NamespaceScope};
use crate::{
    error::{AppError, BAD_TOKEN},
    k8s::names::Namespace,
};

/// What grant a read of a kind needs in a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Any grant there: objects in namespaces, each shown when its namespace
    /// is granted (Namespaces: when the namespace itself is).
    AnyGrant,
    /// A whole-cluster grant: objects of no namespace (Nodes).
    WholeCluster,
}

/// A user's role: the one definition, shown in GraphQL as `ADMIN`/`USER` and in
/// REST as `admin`/`user`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, async_graphql::Enum, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// May create and change any user, and reads every cluster.
    #[serde(alias = "ADMIN")]
    Admin,
    /// Reads what their grants cover, and changes only their own e-mail address
    /// and password.
    #[serde(alias = "USER")]
    User,
}

impl Role {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::User => "user",
        }
    }

    /// Reads the stored form; anything unknown is the least privileged role.
    pub fn from_stored(s: &str) -> Role {
        if s == "admin" {
            Role::Admin
        } else {
            Role::User
        }
    }
}

/// The authenticated user behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    /// The user's immutable id.
    pub id: i64,
    /// The user's name.
    pub name: String,
    /// The user's current role (read from the database, not the token).
    pub role: Role,
    /// The user's current grants (read with the role).
    pub grants: Arc<Grants>,
    /// When the presented token was issued (its `iat`): when the user signed in.
    pub signed_in_at: DateTime<Utc>,
}

impl Viewer {
    /// True for admins.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Only admins create users.
    pub fn can_create_users(&self) -> bool {
        self.is_admin()
    }

    /// Admins may change anyone; users only themselves.
    pub fn can_update_user(&self, user_id: i64) -> bool {
        self.is_admin() || self.id == user_id
    }

    /// Whether changing the password of user `user_id` at `now` takes this
    /// viewer's current password: it does for their own account (admins
    /// included), unless they signed in within `recent`, so a stolen token
    /// alone cannot take the account over for good.
    pub fn must_give_current_password(
        &self,
        user_id: i64,
        recent: Duration,
        now: DateTime<Utc>,
    ) -> bool {
        let recent = chrono::Duration::from_std(recent).unwrap_or(chrono::Duration::MAX);
        self.id == user_id && now.signed_duration_since(self.signed_in_at) > recent
    }

    /// Only admins change roles.
    pub fn can_change_roles(&self) -> bool {
        self.is_admin()
    }

    /// Every authenticated user may list users.
    pub fn can_list_users(&self) -> bool {
        true
    }

    /// Only admins set grants and read the audit trail.
    pub fn can_administer(&self) -> bool {
        self.is_admin()
    }

    /// A short key for what this viewer may read: viewers with equal keys are
    /// shown equal data, so answers rendered for one may be reused for another.
    pub fn scope_key(&self) -> String {
        if self.is_admin() {
            return Grants::everything().key();
        }
        self.grants.key()
    }

    /// Whether this viewer sees objects of `namespace` of `cluster` (`None`:
    /// objects of no namespace) as the API server has them: admins do, and
    /// holders of a revealing grant there.
    pub fn reveals(&self, cluster: &str, namespace: Option<&str>) -> bool {
        self.is_admin() || self.grants.reveal(cluster, namespace)
    }

    /// The namespaces of `cluster` this viewer may read; `None` when none (the
    /// cluster is then Forbidden, whether or not it exists).
    pub fn scope(&self, cluster: &str) -> Option<NamespaceScope> {
        if self.is_admin() {
            return Some(NamespaceScope::All);
        }
        self.grants.scope(cluster)
    }

    /// The one authorisation of every read of a cluster's objects: the
    /// namespaces of `cluster` this viewer may read there, when it may read
    /// `namespace` (`None`: any part; a list is then narrowed to the scope)
    /// and holds the grant `reach` asks for. `Forbidden` otherwise, whether or
    /// not the cluster exists.
    pub fn authorize_read(
        &self,
        cluster: &str,
        namespace: Option<&Namespace>,
        reach: Reach,
    ) -> Result<NamespaceScope, AppError> {
        self.scope(cluster)
            .filter(|scope| reach == Reach::AnyGrant || *scope == NamespaceScope::All)
            .filter(|scope| namespace.is_none_or(|ns| scope.covers(ns)))
            .ok_or(AppError::Forbidden("you hold no grant there"))
    }

    /// Whether this viewer may read pods of `namespace` of `cluster`; with
    /// `None`, whether it may read any part of the cluster (a list is then
    /// narrowed to [`Viewer::scope`]).
    pub fn can_read(&self, cluster: &str, namespace: Option<&str>) -> bool {
        match (self.scope(cluster), namespace) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(scope), Some(namespace)) => scope.covers(namespace),
        }
    }
}

/// Why a presented token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Malformed, tampered, signed with another key, or for a user that changed
    /// password or no longer exists.
    Invalid,
    /// Past its expiry.
    Expired,
    /// The user store could not be asked.
    Unavailable,
}

/// The authentication state of one request.
#[derive(Debug, Clone)]
pub enum Auth {
    /// No token was presented.
    Anonymous,
    /// A valid token.
    Viewer(Viewer),
    /// A token was presented and refused.
    Rejected(Rejection),
}

impl Auth {
    /// The viewer, or the error that tells the client why there is none.
    pub fn viewer(&self) -> Result<&Viewer, AppError> {
        match self {
            Auth::Viewer(viewer) => Ok(viewer),
            Auth::Anonymous | Auth::Rejected(Rejection::Invalid) => {
                Err(AppError::Unauthorized(BAD_TOKEN))
            }
            Auth::Rejected(Rejection::Expired) => Err(AppError::TokenExpired),
            Auth::Rejected(Rejection::Unavailable) => Err(AppError::internal(anyhow::anyhow!(
                "the user store could not be reached to check a token"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        auth::grants::{ANY_CLUSTER, Grant},
        error::ErrorCode,
    };

    fn viewer(id: i64, role: Role) -> Viewer {
        Viewer {
            id,
            name: format!("u{id}"),
            role,
            grants: Arc::default(),
            signed_in_at: Utc::now(),
        }
    }

    fn with_grants(grants: impl IntoIterator<Item = Grant>) -> Viewer {
        Viewer {
            grants: Arc::new(Grants::new(grants)),
            ..viewer(1, Role::User)
        }
    }

    #[test]
    fn reads_are_authorised_by_grant_namespace_and_reach() {
        let ns = |name: &str| Namespace::parse("namespace", name).expect("a namespace");
        let some = with_grants([Grant::namespace("east", "a")]);
        let a = ns("a");
        let b = ns("b");
        assert!(
            some.authorize_read("east", Some(&a), Reach::AnyGrant)
                .is_ok()
        );
        assert!(some.authorize_read("east", None, Reach::AnyGrant).is_ok());
        for refused in [
            some.authorize_read("east", Some(&b), Reach::AnyGrant),
            some.authorize_read("west", None, Reach::AnyGrant),
            some.authorize_read("east", None, Reach::WholeCluster),
        ] {
            assert_eq!(refused.map_err(|e| e.code()), Err(ErrorCode::Forbidden));
        }
        let whole = with_grants([Grant::cluster("east")]);
        assert_eq!(
            whole.authorize_read("east", None, Reach::WholeCluster).ok(),
            Some(NamespaceScope::All)
        );
        let admin = viewer(1, Role::Admin);
        assert!(
            admin
                .authorize_read("anywhere", Some(&b), Reach::WholeCluster)
                .is_ok()
        );
    }

    #[test]
    fn admins_read_every_cluster_without_grants() {
        let admin = viewer(1, Role::Admin);
        assert!(admin.can_read("anything", None));
        assert!(admin.can_read("anything", Some("kube-system")));
        assert_eq!(admin.scope_key(), Grants::everything().key());
        assert!(admin.reveals("anything", None));
    }

    #[test]
    fn users_without_grants_read_nothing() {
        let user = viewer(1, Role::User);
        assert!(!user.can_read("east", None));
        assert!(!user.can_read("east", Some("default")));
    }

    #[test]
    fn a_namespace_grant_opens_the_cluster_list_and_only_that_namespace() {
        let user = with_grants([Grant::namespace("east", "team-a")]);
        assert!(user.can_read("east", None));
        assert!(user.can_read("east", Some("team-a")));
        assert!(!user.can_read("east", Some("team-b")));
        assert!(!user.can_read("west", None));
    }

    #[test]
    fn only_users_revealing_everything_share_the_admins_scope_key() {
        assert_eq!(
            with_grants([Grant::cluster(ANY_CLUSTER).revealing()]).scope_key(),
            viewer(2, Role::Admin).scope_key()
        );
        // Reading everything redacted is not what an admin sees.
        assert_ne!(
            with_grants([Grant::cluster(ANY_CLUSTER)]).scope_key(),
            viewer(2, Role::Admin).scope_key()
        );
        assert_ne!(
            with_grants([Grant::cluster("east")]).scope_key(),
            viewer(2, Role::Admin).scope_key()
        );
    }

    #[test]
    fn users_may_update_only_themselves_and_admins_anyone() {
        assert!(viewer(1, Role::User).can_update_user(1));
        assert!(!viewer(1, Role::User).can_update_user(2));
        assert!(viewer(1, Role::Admin).can_update_user(2));
        assert!(!viewer(1, Role::User).can_change_roles());
        assert!(!viewer(1, Role::User).can_create_users());
        assert!(viewer(1, Role::Admin).can_create_users());
    }

    #[test]
    fn only_an_own_password_changed_long_after_signing_in_takes_the_current_one() {
        let recent = Duration::from_secs(300);
        let signed_in = viewer(1, Role::Admin).signed_in_at;
        let soon = signed_in + chrono::Duration::seconds(300);
        let later = signed_in + chrono::Duration::seconds(301);
        let user = Viewer {
            signed_in_at: signed_in,
            ..viewer(1, Role::User)
        };
        assert!(!user.must_give_current_password(1, recent, soon));
        assert!(user.must_give_current_password(1, recent, later));
        let admin = Viewer {
            signed_in_at: signed_in,
            ..viewer(1, Role::Admin)
        };
        assert!(
            admin.must_give_current_password(1, recent, later),
            "their own"
        );
        assert!(
            !admin.must_give_current_password(2, recent, later),
            "another's"
        );
        assert!(user.must_give_current_password(1, Duration::ZERO, later));
    }

    #[test]
    fn missing_and_refused_tokens_give_distinct_codes() {
        assert_eq!(
            Auth::Anonymous.viewer().expect_err("anon").code(),
            ErrorCode::Unauthorized
        );
        assert_eq!(
            Auth::Rejected(Rejection::Expired)
                .viewer()
                .expect_err("expired")
                .code(),
            ErrorCode::TokenExpired
        );
        assert_eq!(
            Auth::Rejected(Rejection::Invalid)
                .viewer()
                .expect_err("invalid")
                .code(),
            ErrorCode::Unauthorized
        );
    }
}
