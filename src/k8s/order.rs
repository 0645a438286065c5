//! One pod list across clusters, in one total order, read a page at a time:
//! the sort orders, the filters, keyset cursors and the merge behind
//! `podConnection`.
//!
//! Each cluster's pods are kept sorted once per cache version and sort order
//! ([`SortedPods`], shared by every viewer), so a page costs a binary search
//! per cluster for the cursor's position and a merge of the clusters' runs up
//! to the page's size, never a sort. Counting the matches (`totalCount`)
//! still reads every pod once; it sorts nothing and copies nothing.
//!
//! The order is total: the sort field in the requested direction, then
//! (cluster, namespace, name) ascending. A cursor holds the sort key and
//! identity of the pod it was made for, so the next page starts right after
//! that position even when pods came and went in between: a pod that exists
//! through a whole walk appears exactly once.

use std::{
    cmp::Ordering,
    collections::HashMap,
    sync::{Arc, Mutex},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use label_selector::Selector;
use serde::{Deserialize, Serialize};

use super::{cache::CacheVersion, entry::PodEntry};
use crate::error::AppError;

/// What pods are ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SortField {
    /// Cluster name.
    Cluster,
    /// Namespace.
    Namespace,
    /// Pod name.
    Name,
    /// Creation time.
    Created,
    /// The RESTARTS column.
    Restarts,
    /// The STATUS column.
    Status,
}

/// Ascending or descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Direction {
    /// Smallest first.
    Asc,
    /// Largest first.
    Desc,
}

/// A sort order: the field in a direction, ties by (cluster, namespace, name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Order {
    /// The field.
    pub field: SortField,
    /// The field's direction (ties are always ascending).
    pub direction: Direction,
}

/// The sort value of a pod, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Primary<'a> {
    Int(i64),
    Text(&'a str),
}

/// A position in the order: a sort value and a pod's identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// The field's value, as text or number.
    #[serde(rename = "v")]
    value: PositionValue,
    #[serde(rename = "c")]
    cluster: String,
    #[serde(rename = "s")]
    namespace: String,
    #[serde(rename = "n")]
    name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
enum PositionValue {
    Int(i64),
    Text(String),
}

impl PositionValue {
    fn primary(&self) -> Primary<'_> {
        match self {
            PositionValue::Int(n) => Primary::Int(*n),
            PositionValue::Text(t) => Primary::Text(t),
        }
    }
}

impl Order {
    fn primary<'a>(self, cluster: &'a str, pod: &'a PodEntry) -> Primary<'a> {
        let summary = &pod.summary;
        match self.field {
            SortField::Cluster => Primary::Text(cluster),
            SortField::Namespace => Primary::Text(&summary.namespace),
            SortField::Name => Primary::Text(&summary.name),
            SortField::Created => Primary::Text(summary.created.as_deref().unwrap_or_default()),
            SortField::Restarts => Primary::Int(i64::from(summary.restarts)),
            SortField::Status => Primary::Text(&summary.status),
        }
    }

    fn compare_keys(
        self,
        (a, a_cluster, a_ns, a_name): (Primary<'_>, &str, &str, &str),
        (b, b_cluster, b_ns, b_name): (Primary<'_>, &str, &str, &str),
    ) -> Ordering {
        let primary = match self.direction {
            Direction::Asc => a.cmp(&b),
            Direction::Desc => b.cmp(&a),
        };
        primary.then_with(|| (a_cluster, a_ns, a_name).cmp(&(b_cluster, b_ns, b_name)))
    }

    fn key<'a>(
        self,
        cluster: &'a str,
        pod: &'a PodEntry,
    ) -> (Primary<'a>, &'a str, &'a str, &'a str) {
        (
            self.primary(cluster, pod),
            cluster,
            &pod.summary.namespace,
            &pod.summary.name,
        )
    }

    /// How two pods (of the given clusters) compare in this order.
    pub fn compare(self, a: (&str, &PodEntry), b: (&str, &PodEntry)) -> Ordering {
        self.compare_keys(self.key(a.0, a.1), self.key(b.0, b.1))
    }

    fn compare_to(self, cluster: &str, pod: &PodEntry, position: &Position) -> Ordering {
        let at = (
            position.value.primary(),
            position.cluster.as_str(),
            position.namespace.as_str(),
            position.name.as_str(),
        );
        self.compare_keys(self.key(cluster, pod), at)
    }

    /// The position of a pod, for its cursor.
    pub fn position(self, cluster: &str, pod: &PodEntry) -> Position {
        let value = match self.primary(cluster, pod) {
            Primary::Int(n) => PositionValue::Int(n),
            Primary::Text(t) => PositionValue::Text(t.to_owned()),
        };
        Position {
            value,
            cluster: cluster.to_owned(),
            namespace: pod.summary.namespace.clone(),
            name: pod.summary.name.clone(),
        }
    }
}

/// What a cursor holds: the order it belongs to and a position in it.
#[derive(Serialize, Deserialize)]
struct CursorBody {
    /// Marks the gateway's pod cursors (version 1).
    #[serde(rename = "pc")]
    kind: u8,
    #[serde(rename = "o")]
    order: Order,
    #[serde(rename = "p")]
    position: Position,
}

/// The opaque cursor of `position` in `order`.
pub fn encode_cursor(order: Order, position: Position) -> String {
    let body = CursorBody {
        kind: 1,
        order,
        position,
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&body).unwrap_or_default())
}

/// The position in `order` that `cursor` holds; `InvalidParameter` (naming
/// `field`) for anything that is not a pod cursor of this order.
pub fn decode_cursor(field: &str, order: Order, cursor: &str) -> Result<Position, AppError> {
    let body: CursorBody = URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .filter(|body: &CursorBody| body.kind == 1)
        .ok_or_else(|| AppError::invalid(field, "not a cursor of a pod list"))?;
    if body.order != order {
        return Err(AppError::invalid(
            field,
            "the cursor belongs to a list in another order",
        ));
    }
    let text_value = matches!(body.position.value, PositionValue::Text(_));
    if text_value == (order.field == SortField::Restarts) {
        return Err(AppError::invalid(field, "not a cursor of a pod list"));
    }
    Ok(body.position)
}

/// Which pods a list keeps.
#[derive(Debug, Default)]
pub struct PodFilter {
    /// Only this namespace.
    pub namespace: Option<super::names::Namespace>,
    /// Names containing this.
    pub name: Option<String>,
    /// STATUS equal to any of these.
    pub status: Option<Vec<String>>,
    /// Exactly this node.
    pub node: Option<String>,
    /// Labels matching this selector.
    pub labels: Option<Selector>,
    /// Exactly this QoS class.
    pub qos: Option<String>,
}

impl PodFilter {
    /// Whether the filter keeps every pod.
    pub fn is_empty(&self) -> bool {
        self.namespace.is_none()
            && self.name.is_none()
            && self.status.is_none()
            && self.node.is_none()
            && self.labels.is_none()
            && self.qos.is_none()
    }

    /// Whether `pod` is kept.
    pub fn matches(&self, pod: &PodEntry) -> bool {
        let summary = &pod.summary;
        self.namespace
            .as_deref()
            .is_none_or(|ns| ns == summary.namespace)
            && self
                .name
                .as_deref()
                .is_none_or(|part| summary.name.contains(part))
            && self
                .status
                .as_ref()
                .is_none_or(|any| any.contains(&summary.status))
            && self.node.as_deref().is_none_or(|n| n == summary.node_name)
            && self.qos.as_deref().is_none_or(|q| q == summary.qos)
            && self
                .labels
                .as_ref()
                .is_none_or(|selector| selector.matches(|k| pod.label(k)))
    }
}

/// One cluster's pods, sorted in the order of the page being read.
pub struct Run {
    /// The cluster.
    pub cluster: Arc<str>,
    /// Its pods, sorted.
    pub pods: Arc<Vec<Arc<PodEntry>>>,
    /// Every pod is kept (no filter, every namespace readable): counting
    /// needs no look at the pods.
    pub all_kept: bool,
}

/// One page of a merged list.
pub struct Page {
    /// The pods of the page, with their clusters, in order.
    pub items: Vec<(Arc<str>, Arc<PodEntry>)>,
    /// More pods follow the page.
    pub has_next: bool,
    /// Pods kept before the cursor's position.
    pub before: usize,
    /// Pods kept in all.
    pub total: usize,
}

/// The page of at most `first` pods after `after` (from the start without it)
/// of the runs merged in `order`, keeping the pods `keep` accepts.
pub fn page(
    runs: &[Run],
    order: Order,
    after: Option<&Position>,
    first: usize,
    keep: &(dyn Fn(&str, &PodEntry) -> bool + Sync),
) -> Page {
    let mut before = 0;
    let mut total = 0;
    // Per run: the index of its next candidate.
    let mut next = Vec::with_capacity(runs.len());
    for run in runs {
        let start = after.map_or(0, |position| {
            run.pods.partition_point(|pod| {
                order.compare_to(&run.cluster, pod, position) != Ordering::Greater
            })
        });
        if run.all_kept {
            total += run.pods.len();
            before += start;
        } else {
            for (i, pod) in run.pods.iter().enumerate() {
                if keep(&run.cluster, pod) {
                    total += 1;
                    if i < start {
                        before += 1;
                    }
                }
            }
        }
        next.push(start);
    }
    // Moves each run's index to its next kept pod.
    let settle = |run: &Run, from: usize| {
        if run.all_kept {
            return from.min(run.pods.len());
        }
        run.pods[from..]
            .iter()
            .position(|pod| keep(&run.cluster, pod))
            .map_or(run.pods.len(), |offset| from + offset)
    };
    for (run, at) in runs.iter().zip(next.iter_mut()) {
        *at = settle(run, *at);
    }
    let mut items = Vec::with_capacity(first.min(total));
    let has_next = loop {
        let best = runs
            .iter()
            .zip(&next)
            .enumerate()
            .filter(|(_, (run, at))| **at < run.pods.len())
            .min_by(|(_, (a, ai)), (_, (b, bi))| {
                order.compare((&a.cluster, &a.pods[**ai]), (&b.cluster, &b.pods[**bi]))
            })
            .map(|(i, _)| i);
        let Some(i) = best else { break false };
        if items.len() == first {
            break true;
        }
        let run = &runs[i];
        items.push((run.cluster.clone(), run.pods[next[i]].clone()));
        next[i] = settle(run, next[i] + 1);
    };
    Page {
        items,
        has_next,
        before,
        total,
    }
}

/// Each cluster's pods sorted per order, kept for the cache version they were
/// sorted at: re-sorted only after a change, shared by every reader.
#[derive(Default)]
pub struct SortedPods {
    sorted: Mutex<HashMap<Order, (CacheVersion, SortedRun)>>,
}

/// One cluster's pods in one order.
pub type SortedRun = Arc<Vec<Arc<PodEntry>>>;

impl SortedPods {
    /// The pods of `version` in `order`: kept, or `snapshot` (the cache's
    /// pods at some version) sorted and kept.
    pub fn get(
        &self,
        cluster: &str,
        order: Order,
        version: CacheVersion,
        snapshot: impl FnOnce() -> Option<(CacheVersion, Vec<Arc<PodEntry>>)>,
    ) -> Option<SortedRun> {
        {
            let sorted = self.sorted.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((kept, pods)) = sorted.get(&order)
                && *kept == version
            {
                return Some(pods.clone());
            }
        }
        let (version, mut pods) = snapshot()?;
        sort(cluster, order, &mut pods);
        let pods = Arc::new(pods);
        self.sorted
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(order, (version, pods.clone()));
        Some(pods)
    }
}

/// Sorts one cluster's pods in `order`.
pub fn sort(cluster: &str, order: Order, pods: &mut [Arc<PodEntry>]) {
    pods.sort_unstable_by(|a, b| order.compare((cluster, a), (cluster, b)));
}
