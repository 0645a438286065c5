//! One list of objects of a [`Kind`] across clusters, in one total order, read
//! a page at a time with keyset cursors: the machinery behind every
//! `<kind>Connection`.
//!
//! The order is total: the sort field in the requested direction, then
//! (cluster, namespace, name) ascending. A cursor holds the order it was made
//! for and the sort key and identity of the object it was made for, so the
//! next page starts right after that position even when objects came and went
//! in between: an object that exists through a whole walk appears exactly once.

use std::{cmp::Ordering, sync::Arc};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};

use super::{
    order::Direction,
    resource::{Entry, Kind},
};
use crate::error::AppError;

/// What objects are ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Field {
    /// Cluster name.
    Cluster,
    /// Namespace.
    Namespace,
    /// Name.
    Name,
    /// Creation time.
    Created,
    /// The LAST SEEN column (Events).
    LastSeen,
}

/// A sort order: the field in a direction, ties by (cluster, namespace, name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Order {
    /// The field.
    pub field: Field,
    /// The field's direction (ties are always ascending).
    pub direction: Direction,
}

/// An object of a cluster.
pub type Item<K> = (Arc<str>, Arc<Entry<K>>);

/// A position in an order: the order, a sort value and an object's identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    #[serde(rename = "k")]
    kind: String,
    #[serde(rename = "o")]
    order: Order,
    #[serde(rename = "v")]
    value: String,
    #[serde(rename = "c")]
    cluster: String,
    #[serde(rename = "s")]
    namespace: String,
    #[serde(rename = "n")]
    name: String,
}

type Key<'a> = (&'a str, &'a str, &'a str, &'a str);

impl Order {
    fn key<'a, K: Kind>(self, cluster: &'a str, entry: &'a Entry<K>) -> Key<'a> {
        let meta = &entry.meta;
        let primary = match self.field {
            Field::Cluster => cluster,
            Field::Namespace => &meta.namespace,
            Field::Name => &meta.name,
            Field::Created => meta.created.as_deref().unwrap_or_default(),
            Field::LastSeen => K::last_seen(&entry.columns).unwrap_or_default(),
        };
        (primary, cluster, &meta.namespace, &meta.name)
    }

    fn compare(self, a: Key<'_>, b: Key<'_>) -> Ordering {
        let primary = match self.direction {
            Direction::Asc => a.0.cmp(b.0),
            Direction::Desc => b.0.cmp(a.0),
        };
        primary.then_with(|| (a.1, a.2, a.3).cmp(&(b.1, b.2, b.3)))
    }

    /// The cursor of `entry` of `cluster` in this order.
    pub fn cursor<K: Kind>(self, cluster: &str, entry: &Entry<K>) -> String {
        let (value, cluster, namespace, name) = self.key(cluster, entry);
        let position = Position {
            kind: K::KIND.to_owned(),
            order: self,
            value: value.to_owned(),
            cluster: cluster.to_owned(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        };
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&position).unwrap_or_default())
    }

    /// Reads a cursor of a list of `K` given back in the argument `field`; a
    /// cursor of another kind's list or of another order is refused.
    pub fn decode<K: Kind>(self, field: &str, cursor: &str) -> Result<Position, AppError> {
        let position: Position = URL_SAFE_NO_PAD
            .decode(cursor)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Position>(&bytes).ok())
            .filter(|position| position.kind == K::KIND)
            .ok_or_else(|| AppError::invalid(field, "not a cursor of this list"))?;
        if position.order != self {
            return Err(AppError::invalid(
                field,
                "the cursor belongs to another order: ask again from the start",
            ));
        }
        Ok(position)
    }
}

/// One page of a list.
pub struct Page<K: Kind> {
    /// The page's objects, in order.
    pub items: Vec<Item<K>>,
    /// Objects in the whole list.
    pub total: usize,
    /// Objects before the page.
    pub before: usize,
    /// More objects follow the page.
    pub has_next: bool,
}

/// The page of `first` objects after `after` (from the start without it) of
/// `items` in `order`.
pub fn page<K: Kind>(
    mut items: Vec<Item<K>>,
    order: Order,
    after: Option<&Position>,
    first: usize,
) -> Page<K> {
    items.sort_by(|(ca, a), (cb, b)| order.compare(order.key(ca, a), order.key(cb, b)));
    let start = after.map_or(0, |position| {
        let cursor = (
            position.value.as_str(),
            position.cluster.as_str(),
            position.namespace.as_str(),
            position.name.as_str(),
        );
        items.partition_point(|(cluster, entry)| {
            order.compare(order.key(cluster, entry), cursor) != Ordering::Greater
        })
    });
    let total = items.len();
    let end = start.saturating_add(first).min(total);
    let page: Vec<Item<K>> = items.drain(start..end).collect();
    Page {
        items: page,
        total,
        before: start,
        has_next: end < total,
    }
}
