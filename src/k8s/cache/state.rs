//! The synchronous state of one watched kind: [`ObjectCache`] holds the objects
//! by namespace and name, whether the first list has completed, the watch's
//! health, and (for pods) numbered changes for subscribers. It is fed
//! `watcher::Event`s by the watch driver (`super`) and never awaits, so every
//! rule here is unit-tested by feeding it event sequences.
//!
//! When the watch lists again (after 410 Gone) the fresh list is compared
//! with what was cached and the differences become ordinary events, so no
//! change is skipped silently.
//!
//! Locks are `std::sync::RwLock`s and are never held across an `.await`.

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    fmt::Debug,
    sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard},
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use kube::runtime::watcher;
use tokio::sync::{broadcast, watch};

use crate::k8s::entry::{NodeEntry, PodEntry, ReplicaSetEntry};

/// How many recent pod changes are kept for subscribers resuming from a version.
pub const EVENT_LOG_LEN: usize = 4096;

/// Namespace and name of an object (namespace empty for cluster-scoped kinds).
pub type ObjectKey = (String, String);

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// It appeared.
    Added,
    /// It changed.
    Modified,
    /// It is gone (the object is its last known state).
    Deleted,
}

/// One numbered change of a cached object.
#[derive(Debug)]
pub struct Change<K> {
    /// Position in the cache's history (1 for the first change after start).
    pub seq: u64,
    /// What happened.
    pub kind: ChangeKind,
    /// The object after the change (before it, for deletions).
    pub object: Arc<K>,
}

/// A version of a cache: its epoch (unique per cache instance, so versions
/// from another replica or a restarted gateway are never mistaken for ours)
/// and the number of changes applied so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheVersion {
    epoch: u64,
    seq: u64,
}

impl CacheVersion {
    /// The same cache after `seq` changes.
    pub fn with_seq(self, seq: u64) -> CacheVersion {
        CacheVersion { seq, ..self }
    }

    /// How many changes this version has seen.
    pub fn seq(self) -> u64 {
        self.seq
    }

    /// Reads a version given back by a client.
    pub fn parse(text: &str) -> Option<CacheVersion> {
        let (epoch, seq) = text.split_once('.')?;
        Some(CacheVersion {
            epoch: u64::from_str_radix(epoch, 16).ok()?,
            seq: seq.parse().ok()?,
        })
    }
}

impl std::fmt::Display for CacheVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:x}.{}", self.epoch, self.seq)
    }
}

struct State<K> {
    synced: bool,
    objects: BTreeMap<ObjectKey, Arc<K>>,
    /// Objects of a list in progress (a watch (re)start), swapped in when done.
    relist: Option<BTreeMap<ObjectKey, Arc<K>>>,
    seq: u64,
    /// The last change's `seq` per namespace (for answers that depend on a
    /// few namespaces only).
    namespace_seq: HashMap<String, u64>,
    log: VecDeque<Arc<Change<K>>>,
    last_event: Option<DateTime<Utc>>,
    failing_since: Option<Instant>,
}

/// One watched kind of one cluster.
pub struct ObjectCache<K> {
    epoch: u64,
    stale_after: Duration,
    state: RwLock<State<K>>,
    changes: broadcast::Sender<Arc<Change<K>>>,
    keep_log: bool,
    /// Bumped whenever the cache becomes synced or fails, so readers waiting
    /// for a sync are woken instead of polling.
    health: watch::Sender<u64>,
}

/// A consistent read of a cache: the objects and the version they reflect.
pub struct Snapshot<K> {
    /// The version the objects reflect.
    pub version: CacheVersion,
    /// The objects, ordered by namespace and name.
    pub objects: Vec<Arc<K>>,
}

/// What a subscriber gets: changes since its version, then live ones.
pub struct Subscription<K> {
    /// The subscriber's version could not be resumed from (unknown, from
    /// another cache, or older than the kept history): it should list again.
    pub resync: bool,
    /// Changes after the subscriber's version, in order.
    pub replay: Vec<Arc<Change<K>>>,
    /// Live changes; those with `seq` at or below the last replayed one are
    /// repeats to skip.
    pub live: broadcast::Receiver<Arc<Change<K>>>,
    /// The version the subscription starts from.
    pub version: CacheVersion,
}

/// Counts and times of one cache, for the `clusters` query.
#[derive(Debug, Clone)]
pub struct CacheStats {
    /// The first list has completed.
    pub synced: bool,
    /// Objects held.
    pub objects: usize,
    /// When the last change arrived.
    pub last_event: Option<DateTime<Utc>>,
    /// Synced, and the watch is healthy or has failed for less than the bound.
    pub fresh: bool,
    /// The current version.
    pub version: CacheVersion,
}

impl<K> ObjectCache<K>
where
    K: Cached,
{
    /// An empty cache; `keep_log` keeps recent changes for subscribers.
    pub fn new(epoch: u64, stale_after: Duration, keep_log: bool) -> Self {
        let (changes, _) = broadcast::channel(1024);
        ObjectCache {
            epoch,
            stale_after,
            state: RwLock::new(State {
                synced: false,
                objects: BTreeMap::new(),
                relist: None,
                seq: 0,
                namespace_seq: HashMap::new(),
                log: VecDeque::new(),
                last_event: None,
                failing_since: None,
            }),
            changes,
            keep_log,
            health: watch::Sender::new(0),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, State<K>> {
        // A panic while holding the lock leaves consistent data here (every
        // update is a single insert or swap), so a poisoned lock is still usable.
        self.state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State<K>> {
        self.state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn is_fresh(&self, state: &State<K>) -> bool {
        state.synced
            && state
                .failing_since
                .is_none_or(|since| since.elapsed() < self.stale_after)
    }

    /// Whether the first list is under way and has not failed yet: worth
    /// waiting for rather than reading the API server.
    pub fn first_list_pending(&self) -> bool {
        let state = self.read();
        !state.synced && state.failing_since.is_none()
    }

    /// Whether reads may be answered from this cache.
    pub fn fresh(&self) -> bool {
        self.is_fresh(&self.read())
    }

    /// Waits until reads may be answered from this cache, for at most
    /// `timeout`; whether they may.
    pub async fn wait_until_fresh(&self, timeout: Duration) -> bool {
        self.wait(timeout, false).await
    }

    /// Waits, for at most `timeout`, until the first list completes (true)
    /// or fails (false).
    pub async fn wait_for_first_list(&self, timeout: Duration) -> bool {
        self.wait(timeout, true).await
    }

    async fn wait(&self, timeout: Duration, until_failure: bool) -> bool {
        let mut health = self.health.subscribe();
        let fresh = async {
            loop {
                if self.fresh() || (until_failure && !self.first_list_pending()) {
                    return;
                }
                // The sender lives as long as the cache, so this only waits.
                if health.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::time::timeout(timeout, fresh).await.is_ok() && self.fresh()
    }

    /// The objects accepted by `keep`, with the version they reflect, or `None`
    /// when the cache may not answer (not synced, or stale).
    pub fn snapshot(&self, keep: impl Fn(&ObjectKey, &K) -> bool) -> Option<Snapshot<K>> {
        let state = self.read();
        self.is_fresh(&state).then(|| Snapshot {
            version: CacheVersion {
                epoch: self.epoch,
                seq: state.seq,
            },
            objects: state
                .objects
                .iter()
                .filter(|(key, object)| keep(key, object))
                .map(|(_, object)| object.clone())
                .collect(),
        })
    }

    /// One object: `None` when the cache may not answer, `Some(None)` when the
    /// object does not exist.
    pub fn get(&self, namespace: &str, name: &str) -> Option<Option<Arc<K>>> {
        let state = self.read();
        self.is_fresh(&state).then(|| {
            state
                .objects
                .get(&(namespace.to_owned(), name.to_owned()))
                .cloned()
        })
    }

    /// The current version, when the cache may answer.
    pub fn version(&self) -> Option<CacheVersion> {
        let state = self.read();
        self.is_fresh(&state).then_some(CacheVersion {
            epoch: self.epoch,
            seq: state.seq,
        })
    }

    /// The version of what these namespaces hold (`None`: of the whole
    /// cache): it changes whenever an object of one of them changes, and not
    /// for changes elsewhere. `None` when the cache may not answer.
    pub fn namespaces_version(&self, namespaces: Option<&[String]>) -> Option<CacheVersion> {
        let state = self.read();
        if !self.is_fresh(&state) {
            return None;
        }
        let seq = match namespaces {
            None => state.seq,
            Some(namespaces) => namespaces
                .iter()
                .filter_map(|ns| state.namespace_seq.get(ns).copied())
                .max()
                .unwrap_or(0),
        };
        Some(CacheVersion {
            epoch: self.epoch,
            seq,
        })
    }

    /// Counts and times.
    pub fn stats(&self) -> CacheStats {
        let state = self.read();
        CacheStats {
            synced: state.synced,
            objects: state.objects.len(),
            last_event: state.last_event,
            fresh: self.is_fresh(&state),
            version: CacheVersion {
                epoch: self.epoch,
                seq: state.seq,
            },
        }
    }

    /// Subscribes to changes after `since` (`None`: from now).
    pub fn subscribe(&self, since: Option<&str>) -> Subscription<K> {
        // Under the lock, so no change falls between the replay and the live feed.
        let state = self.read();
        let live = self.changes.subscribe();
        let now = CacheVersion {
            epoch: self.epoch,
            seq: state.seq,
        };
        let Some(since) = since else {
            return Subscription {
                resync: false,
                replay: Vec::new(),
                live,
                version: now,
            };
        };
        let oldest_kept = state.log.front().map_or(state.seq, |c| c.seq - 1);
        match CacheVersion::parse(since) {
            Some(v) if v.epoch == self.epoch && v.seq <= state.seq && v.seq >= oldest_kept => {
                Subscription {
                    resync: false,
                    replay: state
                        .log
                        .iter()
                        .filter(|c| c.seq > v.seq)
                        .cloned()
                        .collect(),
                    live,
                    version: v,
                }
            }
            _ => Subscription {
                resync: true,
                replay: Vec::new(),
                live,
                version: now,
            },
        }
    }

    fn record(&self, state: &mut State<K>, kind: ChangeKind, object: Arc<K>) {
        state.seq += 1;
        let (namespace, _) = object.key();
        let seq = state.seq;
        state.namespace_seq.insert(namespace, seq);
        let change = Arc::new(Change {
            seq: state.seq,
            kind,
            object,
        });
        if self.keep_log {
            if state.log.len() == EVENT_LOG_LEN {
                state.log.pop_front();
            }
            state.log.push_back(change.clone());
        }
        // No receivers is fine: nobody is subscribed.
        let _ = self.changes.send(change);
    }

    /// Applies one event of the watch.
    pub fn apply(&self, event: watcher::Event<K>) {
        let mut state = self.write();
        match event {
            watcher::Event::Init => state.relist = Some(BTreeMap::new()),
            watcher::Event::InitApply(object) => {
                let key = object.key();
                if let Some(relist) = state.relist.as_mut() {
                    relist.insert(key, Arc::new(object));
                }
            }
            watcher::Event::InitDone => {
                let fresh = state.relist.take().unwrap_or_default();
                if state.synced {
                    // A restarted watch: what changed meanwhile becomes events.
                    let old = std::mem::take(&mut state.objects);
                    for (key, object) in &fresh {
                        match old.get(key) {
                            None => self.record(&mut state, ChangeKind::Added, object.clone()),
                            // Deleted and created again under the same name.
                            Some(previous) if previous.uid() != object.uid() => {
                                self.record(&mut state, ChangeKind::Deleted, previous.clone());
                                self.record(&mut state, ChangeKind::Added, object.clone());
                            }
                            Some(previous)
                                if previous.resource_version() != object.resource_version() =>
                            {
                                self.record(&mut state, ChangeKind::Modified, object.clone());
                            }
                            Some(_) => {}
                        }
                    }
                    for (key, object) in &old {
                        if !fresh.contains_key(key) {
                            self.record(&mut state, ChangeKind::Deleted, object.clone());
                        }
                    }
                }
                state.objects = fresh;
                state.synced = true;
                state.failing_since = None;
                state.last_event = Some(Utc::now());
                self.health.send_modify(|n| *n += 1);
            }
            watcher::Event::Apply(object) => {
                state.failing_since = None;
                state.last_event = Some(Utc::now());
                let key = object.key();
                let object = Arc::new(object);
                let kind = match state.objects.insert(key, object.clone()) {
                    Some(previous) if previous.resource_version() == object.resource_version() => {
                        None
                    }
                    Some(_) => Some(ChangeKind::Modified),
                    None => Some(ChangeKind::Added),
                };
                if let Some(kind) = kind {
                    self.record(&mut state, kind, object);
                }
            }
            watcher::Event::Delete(object) => {
                state.failing_since = None;
                state.last_event = Some(Utc::now());
                let key = object.key();
                let last = state
                    .objects
                    .remove(&key)
                    .unwrap_or_else(|| Arc::new(object));
                self.record(&mut state, ChangeKind::Deleted, last);
            }
        }
    }

    /// Notes that the watch failed (it resumes from its last resourceVersion,
    /// or lists afresh after 410 Gone; a list it was making starts over).
    pub fn failed(&self) {
        let mut state = self.write();
        state.failing_since.get_or_insert_with(Instant::now);
        state.relist = None;
        self.health.send_modify(|n| *n += 1);
    }

    /// Notes that the API server accepted a watch from the last
    /// resourceVersion the cache has seen: nothing was missed, so a synced
    /// cache is healthy again without a new list, even if no object changes.
    pub fn resumed(&self) {
        let mut state = self.write();
        if state.synced && state.failing_since.take().is_some() {
            self.health.send_modify(|n| *n += 1);
        }
    }
}

/// What the cache needs to know of what it holds.
pub trait Cached: Send + Sync + 'static {
    /// Namespace (empty for cluster-scoped kinds) and name.
    fn key(&self) -> ObjectKey;
    /// The object's uid.
    fn uid(&self) -> Option<&str>;
    /// The object's resourceVersion.
    fn resource_version(&self) -> Option<&str>;
}

macro_rules! cached_entry {
    ($($entry:ty => |$e:ident| $key:expr),*) => {$(
        impl Cached for $entry {
            fn key(&self) -> ObjectKey {
                let $e = self;
                $key
            }
            fn uid(&self) -> Option<&str> {
                <$entry>::uid(self)
            }
            fn resource_version(&self) -> Option<&str> {
                <$entry>::resource_version(self)
            }
        }
    )*};
}

cached_entry!(
    PodEntry => |e| (e.summary.namespace.clone(), e.summary.name.clone()),
    NodeEntry => |e| (String::new(), e.name.clone()),
    ReplicaSetEntry => |e| (e.namespace.clone(), e.name.clone())
);

#[cfg(test)]
mod tests {
    use k8s_openapi::{api::core::v1::Pod, apimachinery::pkg::apis::meta::v1::ObjectMeta};

    use super::*;

    fn pod(name: &str, uid: &str, version: &str) -> PodEntry {
        PodEntry::new(Pod {
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                namespace: Some("ns".to_owned()),
                uid: Some(uid.to_owned()),
                resource_version: Some(version.to_owned()),
                ..ObjectMeta::default()
            },
            ..Pod::default()
        })
    }

    fn cache() -> ObjectCache<PodEntry> {
        ObjectCache::new(7, Duration::from_secs(30), true)
    }

    fn list(cache: &ObjectCache<PodEntry>, pods: Vec<PodEntry>) {
        cache.apply(watcher::Event::Init);
        for pod in pods {
            cache.apply(watcher::Event::InitApply(pod));
        }
        cache.apply(watcher::Event::InitDone);
    }

    fn names(cache: &ObjectCache<PodEntry>) -> Vec<String> {
        cache
            .snapshot(|_, _| true)
            .expect("fresh")
            .objects
            .iter()
            .map(|p| p.summary.name.clone())
            .collect()
    }

    /// (kind, name, uid) of the changes replayed after `since`.
    fn replayed(
        cache: &ObjectCache<PodEntry>,
        since: CacheVersion,
    ) -> Vec<(ChangeKind, String, String)> {
        let subscription = cache.subscribe(Some(&since.to_string()));
        assert!(!subscription.resync);
        subscription
            .replay
            .iter()
            .map(|c| {
                let uid = c.object.uid().unwrap_or_default().to_owned();
                (c.kind, c.object.summary.name.clone(), uid)
            })
            .collect()
    }

    #[test]
    fn nothing_is_served_until_the_first_list_is_complete() {
        let cache = cache();
        cache.apply(watcher::Event::Init);
        cache.apply(watcher::Event::InitApply(pod("a", "1", "1")));
        assert!(cache.snapshot(|_, _| true).is_none());
        assert!(cache.get("ns", "a").is_none());
        cache.apply(watcher::Event::InitDone);
        assert_eq!(names(&cache), ["a"]);
        // The first list is the starting point, not a change.
        assert_eq!(cache.version().map(CacheVersion::seq), Some(0));
    }

    #[test]
    fn a_relist_turns_its_differences_into_events() {
        let cache = cache();
        list(
            &cache,
            vec![
                pod("a", "1", "1"),
                pod("b", "2", "1"),
                pod("same", "3", "1"),
            ],
        );
        let before = cache.version().expect("fresh");
        list(
            &cache,
            vec![
                pod("a", "1", "2"),
                pod("c", "4", "1"),
                pod("same", "3", "1"),
            ],
        );
        // In key order of the new list, then the deletions.
        assert_eq!(
            replayed(&cache, before),
            [
                (ChangeKind::Modified, "a".into(), "1".into()),
                (ChangeKind::Added, "c".into(), "4".into()),
                (ChangeKind::Deleted, "b".into(), "2".into()),
            ]
        );
        assert_eq!(names(&cache), ["a", "c", "same"]);
    }

    #[test]
    fn the_same_name_with_a_new_uid_is_a_deletion_then_an_addition() {
        let cache = cache();
        list(&cache, vec![pod("a", "old", "1")]);
        let before = cache.version().expect("fresh");
        list(&cache, vec![pod("a", "new", "5")]);
        assert_eq!(
            replayed(&cache, before),
            [
                (ChangeKind::Deleted, "a".into(), "old".into()),
                (ChangeKind::Added, "a".into(), "new".into()),
            ]
        );
    }

    #[test]
    fn repeats_of_a_version_are_not_changes_and_deletions_are() {
        let cache = cache();
        list(&cache, vec![pod("a", "1", "1")]);
        let before = cache.version().expect("fresh");
        cache.apply(watcher::Event::Apply(pod("a", "1", "1")));
        cache.apply(watcher::Event::Delete(pod("a", "1", "2")));
        assert_eq!(
            replayed(&cache, before),
            [(ChangeKind::Deleted, "a".into(), "1".into())]
        );
        assert!(names(&cache).is_empty());
    }

    #[test]
    fn versions_older_than_the_kept_history_must_resync() {
        let cache = cache();
        list(&cache, vec![]);
        let start = cache.version().expect("fresh");
        let total = EVENT_LOG_LEN as u64 + 10;
        for i in 0..total {
            cache.apply(watcher::Event::Apply(pod(&format!("p{i}"), "u", "1")));
        }
        // The oldest ten changes were evicted: resuming before them is refused.
        assert!(cache.subscribe(Some(&start.with_seq(9).to_string())).resync);
        let oldest = cache.subscribe(Some(&start.with_seq(10).to_string()));
        assert!(!oldest.resync);
        assert_eq!(oldest.replay.len(), EVENT_LOG_LEN);
        // Versions of another cache, or nonsense, are never resumed from.
        assert!(cache.subscribe(Some("ff.1")).resync);
        assert!(cache.subscribe(Some("nonsense")).resync);
    }

    #[test]
    fn an_accepted_resumed_watch_ends_a_failure_without_a_list() {
        let cache = ObjectCache::new(7, Duration::ZERO, true);
        // Before the first list, an accepted watch proves nothing.
        cache.failed();
        cache.resumed();
        assert!(!cache.first_list_pending());
        list(&cache, vec![pod("a", "1", "1")]);
        let before = cache.version().expect("fresh");

        cache.failed();
        // With a zero staleness bound, a failed watch is not served at once.
        assert!(!cache.fresh());
        cache.resumed();
        assert_eq!(names(&cache), ["a"]);
        assert_eq!(cache.version(), Some(before));
    }

    #[tokio::test]
    async fn a_subscriber_that_falls_behind_gets_resync_and_its_stream_ends() {
        use futures_util::StreamExt;

        use crate::k8s::events::{PodChangeKind, changes};

        let cache = cache();
        list(&cache, vec![]);
        let subscription = cache.subscribe(None);
        // More changes than the live feed holds, while nobody reads.
        for i in 0..1100 {
            cache.apply(watcher::Event::Apply(pod(&format!("p{i}"), "u", "1")));
        }
        let events: Vec<_> = changes(subscription, |_| true).collect().await;
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].kind, PodChangeKind::Resync);
    }

    #[tokio::test]
    async fn readers_waiting_for_a_sync_are_woken_by_it() {
        let cache = Arc::new(cache());
        let waiter = {
            let cache = cache.clone();
            tokio::spawn(async move { cache.wait_until_fresh(Duration::from_secs(5)).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        list(&cache, vec![pod("a", "1", "1")]);
        assert!(waiter.await.expect("joins"));
        assert!(
            !ObjectCache::<PodEntry>::new(1, Duration::from_secs(1), false)
                .wait_until_fresh(Duration::from_millis(20))
                .await
        );
    }
}
