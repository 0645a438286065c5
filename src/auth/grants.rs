//! What a user may read: grants on clusters and namespaces.
//!
//! A [`Grant`] is `{cluster, namespace, reveal}`: `namespace` `None` covers
//! the whole cluster, and the cluster [`ANY_CLUSTER`] (`*`) stands for every
//! cluster, present and future; `reveal` shows objects in its scope as the
//! API server has them (see [`crate::k8s::redact`]). [`Grants`] holds one user's grants in a canonical order,
//! so equal sets compare equal and have equal [`Grants::key`]s. The decisions
//! themselves are made by [`super::Viewer`].

use std::collections::BTreeSet;

use entity::{grant, group_grant};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::error::AppError;

/// The cluster name that stands for every cluster.
pub const ANY_CLUSTER: &str = "*";

/// One grant: a cluster (or every cluster), whole or one namespace of it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Grant {
    /// A cluster name, or [`ANY_CLUSTER`].
    pub cluster: String,
    /// One namespace, or `None` for all of them.
    pub namespace: Option<String>,
    /// Objects in its scope are shown unredacted.
    pub reveal: bool,
}

impl Grant {
    /// A grant on a whole cluster (or, with [`ANY_CLUSTER`], on everything).
    pub fn cluster(cluster: impl Into<String>) -> Self {
        Grant {
            cluster: cluster.into(),
            namespace: None,
            reveal: false,
        }
    }

    /// A grant on one namespace of a cluster.
    pub fn namespace(cluster: impl Into<String>, namespace: impl Into<String>) -> Self {
        Grant {
            cluster: cluster.into(),
            namespace: Some(namespace.into()),
            reveal: false,
        }
    }

    /// The same grant, showing objects in its scope unredacted.
    pub fn revealing(self) -> Self {
        Grant {
            reveal: true,
            ..self
        }
    }

    fn covers_cluster(&self, cluster: &str) -> bool {
        self.cluster == ANY_CLUSTER || self.cluster == cluster
    }

    /// Whether it covers `namespace` of `cluster` (`None`: the whole cluster).
    fn covers(&self, cluster: &str, namespace: Option<&str>) -> bool {
        self.covers_cluster(cluster)
            && match (&self.namespace, namespace) {
                (None, _) => true,
                (Some(mine), Some(asked)) => mine == asked,
                (Some(_), None) => false,
            }
    }
}

/// `cluster/namespace`, or `cluster/*` for a whole cluster; `+reveal` after
/// a revealing grant.
impl std::fmt::Display for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let namespace = self.namespace.as_deref().unwrap_or("*");
        let reveal = if self.reveal { "+reveal" } else { "" };
        write!(f, "{}/{namespace}{reveal}", self.cluster)
    }
}

/// The namespaces of one cluster a viewer may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamespaceScope {
    /// Every namespace.
    All,
    /// Only these (never empty).
    Only(BTreeSet<String>),
}

impl NamespaceScope {
    /// Whether this scope covers everything `other` covers.
    pub fn includes(&self, other: &NamespaceScope) -> bool {
        match (self, other) {
            (NamespaceScope::All, _) => true,
            (NamespaceScope::Only(_), NamespaceScope::All) => false,
            (NamespaceScope::Only(mine), NamespaceScope::Only(theirs)) => theirs.is_subset(mine),
        }
    }

    /// Whether the scope covers `namespace`.
    pub fn covers(&self, namespace: &str) -> bool {
        match self {
            NamespaceScope::All => true,
            NamespaceScope::Only(namespaces) => namespaces.contains(namespace),
        }
    }
}

/// One user's grants, sorted and without repeats.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Grants(Vec<Grant>);

impl Grants {
    /// The grants, put in canonical order.
    pub fn new(grants: impl IntoIterator<Item = Grant>) -> Self {
        let set: BTreeSet<Grant> = grants.into_iter().collect();
        Grants(set.into_iter().collect())
    }

    /// Grants on everything, revealing (what admins effectively hold).
    pub fn everything() -> Self {
        Grants(vec![Grant::cluster(ANY_CLUSTER).revealing()])
    }

    /// The grants, in canonical order.
    pub fn iter(&self) -> impl Iterator<Item = &Grant> {
        self.0.iter()
    }

    /// Whether they cover every namespace of every cluster.
    pub fn cover_everything(&self) -> bool {
        self.0
            .iter()
            .any(|g| g.cluster == ANY_CLUSTER && g.namespace.is_none())
    }

    /// The namespaces of `cluster` they cover; `None` when they cover none.
    pub fn scope(&self, cluster: &str) -> Option<NamespaceScope> {
        let mut namespaces = BTreeSet::new();
        for grant in self.0.iter().filter(|g| g.covers_cluster(cluster)) {
            match &grant.namespace {
                None => return Some(NamespaceScope::All),
                Some(namespace) => {
                    namespaces.insert(namespace.clone());
                }
            }
        }
        (!namespaces.is_empty()).then_some(NamespaceScope::Only(namespaces))
    }

    /// Whether objects in `namespace` of `cluster` (`None`: objects of no
    /// namespace) are shown to their holder unredacted.
    pub fn reveal(&self, cluster: &str, namespace: Option<&str>) -> bool {
        self.0
            .iter()
            .any(|g| g.reveal && g.covers(cluster, namespace))
    }

    /// A key that is equal for equal grants: answers rendered for one holder
    /// may be reused for another with the same key, never across keys (what
    /// is revealed is part of it).
    pub fn key(&self) -> String {
        if self.cover_everything() {
            let revealed: Vec<String> = self
                .0
                .iter()
                .filter(|g| g.reveal)
                .map(Grant::to_string)
                .collect();
            return if revealed.is_empty() {
                "all".to_owned()
            } else {
                format!("all revealing {}", revealed.join(" "))
            };
        }
        let listed: Vec<String> = self.0.iter().map(Grant::to_string).collect();
        format!("grants {}", listed.join(" "))
    }
}

/// A user's stored grants.
pub async fn load(db: &impl ConnectionTrait, user_id: i64) -> Result<Grants, AppError> {
    let rows = grant::Entity::find()
        .filter(grant::Column::UserId.eq(user_id))
        .order_by_asc(grant::Column::Id)
        .all(db)
        .await?;
    Ok(Grants::new(rows.into_iter().map(|row| Grant {
        cluster: row.cluster,
        namespace: row.namespace,
        reveal: row.reveal,
    })))
}

/// The grant a row of `group_grants` gives its group's members.
impl From<&group_grant::Model> for Grant {
    fn from(row: &group_grant::Model) -> Self {
        Grant {
            cluster: row.cluster.clone(),
            namespace: row.namespace.clone(),
            reveal: row.reveal,
        }
    }
}

/// The grants of the groups `groups` (grouped by group, in the order asked).
pub async fn load_groups(
    db: &impl ConnectionTrait,
    groups: &[String],
) -> Result<Vec<(String, Grants)>, AppError> {
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    let rows = group_grant::Entity::find()
        .filter(group_grant::Column::GroupName.is_in(groups.iter().cloned()))
        .order_by_asc(group_grant::Column::Id)
        .all(db)
        .await?;
    Ok(groups
        .iter()
        .map(|group| {
            let grants = rows
                .iter()
                .filter(|row| row.group_name == *group)
                .map(Grant::from);
            (group.clone(), Grants::new(grants))
        })
        .collect())
}

/// What a user may read: their own grants and those of their groups.
pub async fn load_effective(
    db: &impl ConnectionTrait,
    user_id: i64,
    groups: &[String],
) -> Result<Grants, AppError> {
    let own = load(db, user_id).await?;
    let of_groups = load_groups(db, groups).await?;
    Ok(Grants::new(own.0.into_iter().chain(
        of_groups.into_iter().flat_map(|(_, grants)| grants.0),
    )))
}

/// The groups stored on a user (a JSON array of strings; none when unset or
/// unreadable).
pub fn stored_groups(stored: Option<&str>) -> Vec<String> {
    stored
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_cluster_grant_covers_every_namespace_of_that_cluster_only() {
        let grants = Grants::new([Grant::cluster("east")]);
        assert_eq!(grants.scope("east"), Some(NamespaceScope::All));
        assert_eq!(grants.scope("west"), None);
    }

    #[test]
    fn namespace_grants_cover_just_those_namespaces() {
        let grants = Grants::new([Grant::namespace("east", "a"), Grant::namespace("east", "b")]);
        let scope = grants.scope("east").expect("some namespaces");
        assert!(scope.covers("a") && scope.covers("b"));
        assert!(!scope.covers("c"));
        assert_eq!(grants.scope("west"), None);
    }

    #[test]
    fn the_any_cluster_grant_covers_clusters_not_yet_known() {
        let grants = Grants::new([Grant::cluster(ANY_CLUSTER)]);
        assert_eq!(grants.scope("added-tomorrow"), Some(NamespaceScope::All));
        assert!(grants.cover_everything());
    }

    #[test]
    fn a_whole_cluster_grant_wins_over_namespace_grants_of_it() {
        let grants = Grants::new([Grant::namespace("east", "a"), Grant::cluster("east")]);
        assert_eq!(grants.scope("east"), Some(NamespaceScope::All));
    }

    #[test]
    fn a_narrower_scope_does_not_include_a_wider_one() {
        let a = NamespaceScope::Only(["a".to_owned()].into());
        let ab = NamespaceScope::Only(["a".to_owned(), "b".to_owned()].into());
        assert!(ab.includes(&a));
        assert!(!a.includes(&ab));
        assert!(NamespaceScope::All.includes(&ab));
        assert!(!ab.includes(&NamespaceScope::All));
    }

    #[test]
    fn no_grants_cover_nothing() {
        assert_eq!(Grants::default().scope("east"), None);
        assert!(!Grants::default().cover_everything());
    }

    #[test]
    fn keys_are_equal_for_equal_grants_in_any_order_and_differ_otherwise() {
        let a = Grants::new([Grant::namespace("e", "a"), Grant::cluster("w")]);
        let b = Grants::new([
            Grant::cluster("w"),
            Grant::namespace("e", "a"),
            Grant::cluster("w"),
        ]);
        assert_eq!(a.key(), b.key());
        assert_ne!(a.key(), Grants::new([Grant::cluster("w")]).key());
        assert_ne!(a.key(), Grants::everything().key());
        assert_eq!(Grants::new([Grant::cluster(ANY_CLUSTER)]).key(), "all");
        assert_eq!(Grants::everything().key(), "all revealing */*+reveal");
        assert_eq!(a.key(), "grants e/a w/*");
        let revealing = Grants::new([Grant::namespace("e", "a").revealing(), Grant::cluster("w")]);
        assert_eq!(revealing.key(), "grants e/a+reveal w/*");
    }

    #[test]
    fn a_revealing_grant_reveals_its_scope_only() {
        let grants = Grants::new([
            Grant::namespace("east", "a").revealing(),
            Grant::cluster("west"),
            Grant::cluster("north").revealing(),
        ]);
        assert!(grants.reveal("east", Some("a")));
        assert!(!grants.reveal("east", Some("b")));
        assert!(
            !grants.reveal("east", None),
            "a namespace grant reveals no Node"
        );
        assert!(!grants.reveal("west", Some("a")));
        assert!(grants.reveal("north", Some("x")));
        assert!(grants.reveal("north", None));
        assert!(Grants::everything().reveal("any", None));
    }
}
