//! Live pod changes of a cluster, with the semantics clients rely on: resume
//! from a version (the changes after it come first, so list-then-subscribe
//! misses and repeats nothing), repeats skipped, namespaces filtered, and a
//! RESYNC when changes can no longer be replayed or the subscriber fell behind.
//!
//! The GraphQL subscription only maps [`PodChange`]s to its types.

use std::sync::Arc;

use futures_util::{Stream, StreamExt, stream};
use tokio::sync::broadcast::error::RecvError;

use super::{
    Cluster,
    cache::{CacheVersion, Change, ChangeKind, Subscription},
    entry::PodEntry,
};
use crate::error::AppError;

/// What happened to a pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodChangeKind {
    /// The pod appeared.
    Added,
    /// The pod changed.
    Modified,
    /// The pod is gone (the pod is its last state).
    Deleted,
    /// Changes can no longer be replayed (unknown or too old a version, or a
    /// subscriber that fell behind): list again and follow from the new list's
    /// version. After a RESYNC for falling behind, the stream ends.
    Resync,
}

/// One change, with the cache version after it.
#[derive(Debug, Clone)]
pub struct PodChange {
    /// What happened.
    pub kind: PodChangeKind,
    /// The cache version after the change: resume from it.
    pub version: CacheVersion,
    /// The pod (none for RESYNC).
    pub pod: Option<Arc<PodEntry>>,
}

impl PodChange {
    fn of(version: CacheVersion, change: &Change<PodEntry>) -> Self {
        PodChange {
            kind: match change.kind {
                ChangeKind::Added => PodChangeKind::Added,
                ChangeKind::Modified => PodChangeKind::Modified,
                ChangeKind::Deleted => PodChangeKind::Deleted,
            },
            version: version.with_seq(change.seq),
            pod: Some(change.object.clone()),
        }
    }

    fn resync(version: CacheVersion) -> Self {
        PodChange {
            kind: PodChangeKind::Resync,
            version,
            pod: None,
        }
    }
}

/// Pod changes of `cluster` in the namespaces for which `keep` holds, after
/// `since` (a version from a list or an earlier change; `None`: from now).
/// Needs the watch cache; waits up to the cluster timeout for its first sync.
pub async fn pod_events(
    cluster: &Cluster,
    keep: impl Fn(&str) -> bool + Send + Sync + 'static,
    since: Option<&str>,
) -> Result<impl Stream<Item = PodChange> + Send + 'static, AppError> {
    let Some(cache) = cluster.cache() else {
        return Err(AppError::invalid(
            "cluster",
            "live pod events need the watch cache, which is switched off (OSP_POD_CACHE=off)",
        ));
    };
    if !cache.pods.wait_until_fresh(cluster.timeout()).await {
        return Err(AppError::ClusterUnavailable {
            cluster: cluster.name.clone(),
            reason: "its pods could not be watched",
        });
    }
    Ok(changes(cache.pods.subscribe(since), keep))
}

/// The changes of a subscription: its replay, then its live feed, filtered and
/// without repeats.
pub fn changes(
    subscription: Subscription<PodEntry>,
    keep: impl Fn(&str) -> bool + Send + Sync + 'static,
) -> impl Stream<Item = PodChange> + Send + 'static {
    let start = subscription.version;
    let keep = Arc::new(keep);
    let wanted = {
        let keep = keep.clone();
        move |change: &Change<PodEntry>| keep(&change.object.summary.namespace)
    };
    let mut first = Vec::new();
    if subscription.resync {
        first.push(PodChange::resync(start));
    }
    let mut last_seq = start.seq();
    for change in &subscription.replay {
        last_seq = change.seq;
        if wanted(change) {
            first.push(PodChange::of(start, change));
        }
    }
    let live = stream::unfold(
        (Some(subscription.live), last_seq),
        move |(live, mut last_seq)| {
            let wanted = wanted.clone();
            async move {
                let mut live = live?;
                loop {
                    match live.recv().await {
                        // Already replayed, or of a namespace not asked for.
                        Ok(change) if change.seq <= last_seq || !wanted(&change) => {
                            last_seq = last_seq.max(change.seq);
                        }
                        Ok(change) => {
                            last_seq = change.seq;
                            let event = PodChange::of(start, &change);
                            return Some((event, (Some(live), last_seq)));
                        }
                        // Fell behind: changes are lost to this subscriber. Say
                        // so and end; the client lists again.
                        Err(RecvError::Lagged(_)) => {
                            let event = PodChange::resync(start.with_seq(last_seq));
                            return Some((event, (None, last_seq)));
                        }
                        Err(RecvError::Closed) => return None,
                    }
                }
            }
        },
    );
    stream::iter(first).chain(live)
}
