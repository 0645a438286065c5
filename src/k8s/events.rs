//! Live changes of a watched kind of a cluster (pods, and every kind of
//! [`super::resource`]), with the semantics clients rely on: resume
//! from a version (the changes after it come first, so list-then-subscribe
//! misses and repeats nothing), repeats skipped, namespaces filtered, and a
//! RESYNC when changes can no longer be replayed or the subscriber fell behind.
//!
//! The GraphQL subscriptions only map [`ObjectChange`]s to their types.

use std::{
    collections::VecDeque,
    sync::{Arc, Weak},
};

use futures_util::{Stream, stream};
use tokio::sync::broadcast::{self, error::RecvError};

use super::{
    Cluster,
    cache::{CacheVersion, Cached, Change, ChangeKind, ObjectCache, Subscription},
    entry::PodEntry,
};
use crate::error::AppError;

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodChangeKind {
    /// The object appeared.
    Added,
    /// The object changed.
    Modified,
    /// The object is gone (the object is its last state).
    Deleted,
    /// Changes can no longer be replayed (unknown or too old a version, or a
    /// subscriber that fell behind): list again and follow from the new list's
    /// version. After a RESYNC for falling behind, the stream ends.
    Resync,
}

/// One change, with the cache version after it.
#[derive(Debug)]
pub struct ObjectChange<K> {
    /// What happened.
    pub kind: PodChangeKind,
    /// The cache version after the change: resume from it.
    pub version: CacheVersion,
    /// The object (none for RESYNC).
    pub object: Option<Arc<K>>,
}

/// One pod change.
pub type PodChange = ObjectChange<PodEntry>;

impl<K> Clone for ObjectChange<K> {
    fn clone(&self) -> Self {
        ObjectChange {
            kind: self.kind,
            version: self.version,
            object: self.object.clone(),
        }
    }
}

impl<K> ObjectChange<K> {
    fn of(version: CacheVersion, change: &Change<K>) -> Self {
        ObjectChange {
            kind: match change.kind {
                ChangeKind::Added => PodChangeKind::Added,
                ChangeKind::Modified => PodChangeKind::Modified,
                ChangeKind::Deleted => PodChangeKind::Deleted,
            },
            version: version.with_seq(change.seq),
            object: Some(change.object.clone()),
        }
    }

    fn resync(version: CacheVersion) -> Self {
        ObjectChange {
            kind: PodChangeKind::Resync,
            version,
            object: None,
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
    let subscription = cache.pods.subscribe(since, &keep);
    Ok(changes(Arc::downgrade(&cache.pods), subscription, keep))
}

/// Where a stream of changes stands.
struct Feed<K> {
    /// The live feed; `None` once the stream has ended.
    live: Option<broadcast::Receiver<Arc<Change<K>>>>,
    /// The last change seen (wanted or not): later ones only are new.
    last_seq: u64,
    /// Changes to send before reading the live feed again.
    ready: VecDeque<ObjectChange<K>>,
}

/// The changes of a subscription to `cache`: its replay, then its live feed,
/// filtered and without repeats. A subscriber that falls behind the live feed
/// catches up from the cache's kept history; only when that no longer holds
/// every change of its namespaces does it get a RESYNC, and its stream ends.
/// Changes of other namespaces never lead to a RESYNC (the live feed is
/// shared, so a burst elsewhere can leave a subscriber behind).
pub fn changes<K: Cached>(
    cache: Weak<ObjectCache<K>>,
    subscription: Subscription<K>,
    keep: impl Fn(&str) -> bool + Send + Sync + 'static,
) -> impl Stream<Item = ObjectChange<K>> + Send + 'static {
    let start = subscription.version;
    let mut feed = Feed {
        live: None,
        last_seq: start.seq(),
        ready: VecDeque::new(),
    };
    if subscription.resync {
        feed.ready.push_back(ObjectChange::resync(start));
    }
    feed.take(start, subscription, &keep);
    let keep = Arc::new(keep);
    stream::unfold(feed, move |mut feed| {
        // Clones per event sent, not per change read.
        let keep = keep.clone();
        let cache = cache.clone();
        async move {
            loop {
                if let Some(event) = feed.ready.pop_front() {
                    return Some((event, feed));
                }
                let live = feed.live.as_mut()?;
                match live.recv().await {
                    // Already replayed, or of a namespace not asked for.
                    Ok(change)
                        if change.seq <= feed.last_seq || !keep(change.object.namespace()) =>
                    {
                        feed.last_seq = feed.last_seq.max(change.seq);
                    }
                    Ok(change) => {
                        feed.last_seq = change.seq;
                        return Some((ObjectChange::of(start, &change), feed));
                    }
                    // Fell behind: catch up from the kept history, or say
                    // that changes are lost (the client lists again) and end.
                    Err(RecvError::Lagged(_)) => {
                        // A cache that is gone has no history, nor feed.
                        let cache = cache.upgrade()?;
                        let again = cache.resume(start.with_seq(feed.last_seq), &*keep);
                        if again.resync {
                            feed.live = None;
                            return Some((ObjectChange::resync(again.version), feed));
                        }
                        feed.take(start, again, &*keep);
                    }
                    Err(RecvError::Closed) => return None,
                }
            }
        }
    })
}

impl<K: Cached> Feed<K> {
    /// Follows `subscription` from here: its replay (after what was seen)
    /// queued, then its live feed.
    fn take(
        &mut self,
        start: CacheVersion,
        subscription: Subscription<K>,
        keep: &dyn Fn(&str) -> bool,
    ) {
        for change in &subscription.replay {
            if change.seq <= self.last_seq {
                continue;
            }
            self.last_seq = change.seq;
            if keep(change.object.namespace()) {
                self.ready.push_back(ObjectChange::of(start, change));
            }
        }
        self.live = Some(subscription.live);
    }
}
