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
//! Versions, counts and times can be read for some namespaces only: each
//! namespace keeps the number and time of its last change, so what a viewer of
//! a few namespaces is shown does not move when another namespace changes.
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
    /// What is known of each namespace's changes (for answers that depend on
    /// a few namespaces only).
    namespaces: HashMap<String, NamespaceChanges>,
    log: VecDeque<Arc<Change<K>>>,
    last_event: Option<DateTime<Utc>>,
    /// When the first list completed: the last event of a namespace that has
    /// not changed since. (Not a later list: the API server lists again when
    /// its history ran out, which changes elsewhere hasten.)
    synced_at: Option<DateTime<Utc>>,
    failing_since: Option<Instant>,
}

/// The changes of one namespace, as far as versions need them.
#[derive(Debug, Clone, Copy)]
struct NamespaceChanges {
    /// `seq` of its last change.
    last: u64,
    /// When its last change was applied.
    at: DateTime<Utc>,
    /// `seq` of its last change dropped from the kept history (0: none):
    /// resuming from before it would miss that change.
    evicted: u64,
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
    /// The version the objects reflect (the whole cache's).
    pub version: CacheVersion,
    /// The version of the namespaces asked for at the same moment (see
    /// [`ObjectCache::namespaces_version`]).
    pub namespaces_version: CacheVersion,
    /// The objects, ordered by namespace and name.
    pub objects: Vec<Arc<K>>,
}

/// What a subscriber gets: changes since its version, then live ones.
pub struct Subscription<K> {
    /// The subscriber's version could not be resumed from (unknown, from
    /// another cache, or older than the kept history of its namespaces): it
    /// should list again.
    pub resync: bool,
    /// Changes after the subscriber's version, in order (of every namespace:
    /// the subscriber filters them).
    pub replay: Vec<Arc<Change<K>>>,
    /// Live changes; those with `seq` at or below the last replayed one are
    /// repeats to skip.
    pub live: broadcast::Receiver<Arc<Change<K>>>,
    /// The version the subscription starts from: the one resumed from, or
    /// (from now, or after a resync) the version of the subscriber's
    /// namespaces.
    pub version: CacheVersion,
}

/// Counts and times of one cache (or of some namespaces of it), for the
/// `clusters` query.
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
                namespaces: HashMap::new(),
                log: VecDeque::new(),
                last_event: None,
                synced_at: None,
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

    /// The objects accepted by `keep`, with the version they reflect and the
    /// version of `namespaces` (`None`: the whole cache) at the same moment,
    /// or `None` when the cache may not answer (not synced, or stale).
    pub fn snapshot(
        &self,
        namespaces: Option<&[String]>,
        keep: impl Fn(&ObjectKey, &K) -> bool,
    ) -> Option<Snapshot<K>> {
        let state = self.read();
        self.is_fresh(&state).then(|| Snapshot {
            version: self.at(state.seq),
            namespaces_version: self.at(Self::seq_of(&state, namespaces)),
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
        self.versions(None).map(|(whole, _)| whole)
    }

    /// The version of what these namespaces hold (`None`: of the whole
    /// cache): it changes whenever an object of one of them changes, and not
    /// for changes elsewhere. `None` when the cache may not answer.
    ///
    /// It is the number of the namespaces' last change, so it is also a valid
    /// point to resume their changes from: every change of theirs up to it
    /// has been applied, and none after it.
    pub fn namespaces_version(&self, namespaces: Option<&[String]>) -> Option<CacheVersion> {
        self.versions(namespaces)
            .map(|(_, of_namespaces)| of_namespaces)
    }

    /// The whole cache's version and that of `namespaces`, read at the same
    /// moment; `None` when the cache may not answer.
    pub fn versions(&self, namespaces: Option<&[String]>) -> Option<(CacheVersion, CacheVersion)> {
        let state = self.read();
        self.is_fresh(&state).then(|| {
            (
                self.at(state.seq),
                self.at(Self::seq_of(&state, namespaces)),
            )
        })
    }

    /// Counts and times of the objects of `namespaces` (`None`: of the whole
    /// cache). For some namespaces, the last event is their last change (the
    /// first sync's time when they have not changed since), so nothing here
    /// moves when another namespace changes.
    pub fn stats(&self, namespaces: Option<&[String]>) -> CacheStats {
        let state = self.read();
        let (objects, last_event) = match namespaces {
            None => (state.objects.len(), state.last_event),
            Some(namespaces) => {
                let objects = namespaces
                    .iter()
                    .map(|ns| Self::in_namespace(&state, ns).count())
                    .sum();
                let last_change = namespaces
                    .iter()
                    .filter_map(|ns| state.namespaces.get(ns).map(|changes| changes.at))
                    .max();
                (objects, last_change.max(state.synced_at))
            }
        };
        CacheStats {
            synced: state.synced,
            objects,
            last_event,
            fresh: self.is_fresh(&state),
            version: self.at(Self::seq_of(&state, namespaces)),
        }
    }

    fn at(&self, seq: u64) -> CacheVersion {
        CacheVersion {
            epoch: self.epoch,
            seq,
        }
    }

    /// The number of the last change in `namespaces` (`None`: in the cache).
    fn seq_of(state: &State<K>, namespaces: Option<&[String]>) -> u64 {
        match namespaces {
            None => state.seq,
            Some(namespaces) => namespaces
                .iter()
                .filter_map(|ns| state.namespaces.get(ns).map(|changes| changes.last))
                .max()
                .unwrap_or(0),
        }
    }

    /// The greatest `of` the namespaces for which `keep` holds (0: none).
    fn max_where(
        state: &State<K>,
        keep: &dyn Fn(&str) -> bool,
        of: impl Fn(&NamespaceChanges) -> u64,
    ) -> u64 {
        state
            .namespaces
            .iter()
            .filter(|(ns, _)| keep(ns))
            .map(|(_, changes)| of(changes))
            .max()
            .unwrap_or(0)
    }

    fn in_namespace<'s>(state: &'s State<K>, namespace: &str) -> impl Iterator<Item = &'s Arc<K>> {
        state
            .objects
            .range((namespace.to_owned(), String::new())..)
            .take_while(move |((ns, _), _)| ns == namespace)
            .map(|(_, object)| object)
    }

    /// Subscribes to the changes of the namespaces for which `keep` holds
    /// after `since` (`None`: from now). A version older than the kept
    /// history is still resumed from when every change of those namespaces
    /// after it is kept, so changes elsewhere never force a subscriber to
    /// list again.
    pub fn subscribe(&self, since: Option<&str>, keep: &dyn Fn(&str) -> bool) -> Subscription<K> {
        self.open(since.map(CacheVersion::parse), keep)
    }

    /// Subscribes again from `since` (a subscriber that fell behind the live
    /// feed): the kept history fills the gap when it can.
    pub fn resume(&self, since: CacheVersion, keep: &dyn Fn(&str) -> bool) -> Subscription<K> {
        self.open(Some(Some(since)), keep)
    }

    /// `since`: `None` from now, `Some(None)` a version that could not be read.
    fn open(
        &self,
        since: Option<Option<CacheVersion>>,
        keep: &dyn Fn(&str) -> bool,
    ) -> Subscription<K> {
        // Under the lock, so no change falls between the replay and the live feed.
        let state = self.read();
        let live = self.changes.subscribe();
        // What a subscriber is shown depends on its namespaces only.
        let now = self.at(Self::max_where(&state, keep, |changes| changes.last));
        let Some(since) = since else {
            return Subscription {
                resync: false,
                replay: Vec::new(),
                live,
                version: now,
            };
        };
        let oldest_kept = state.log.front().map_or(state.seq, |c| c.seq - 1);
        let resumable = |v: &CacheVersion| {
            v.epoch == self.epoch
                && v.seq <= state.seq
                // Every change after `v` is kept, or at least every wanted one.
                && (v.seq >= oldest_kept
                    || Self::max_where(&state, keep, |changes| changes.evicted) <= v.seq)
        };
        match since {
            Some(v) if resumable(&v) => Subscription {
                resync: false,
                replay: state
                    .log
                    .iter()
                    .filter(|c| c.seq > v.seq)
                    .cloned()
                    .collect(),
                live,
                version: v,
            },
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
        let (seq, at) = (state.seq, Utc::now());
        state
            .namespaces
            .entry(namespace)
            .and_modify(|changes| {
                changes.last = seq;
                changes.at = at;
            })
            .or_insert(NamespaceChanges {
                last: seq,
                at,
                evicted: 0,
            });
        let change = Arc::new(Change {
            seq: state.seq,
            kind,
            object,
        });
        if self.keep_log {
            if state.log.len() == EVENT_LOG_LEN
                && let Some(evicted) = state.log.pop_front()
                && let Some(changes) = state.namespaces.get_mut(&evicted.object.key().0)
            {
                changes.evicted = evicted.seq;
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
                let now = Utc::now();
                state.last_event = Some(now);
                state.synced_at.get_or_insert(now);
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
    /// Namespace (empty for cluster-scoped kinds).
    fn namespace(&self) -> &str;
    /// The object's uid.
    fn uid(&self) -> Option<&str>;
    /// The object's resourceVersion.
    fn resource_version(&self) -> Option<&str>;
}

macro_rules! cached_entry {
    ($($entry:ty => |$e:ident| ($namespace:expr, $name:expr)),*) => {$(
        impl Cached for $entry {
            fn key(&self) -> ObjectKey {
                let $e = self;
                ($namespace.to_owned(), $name.clone())
            }
            #[allow(unused_variables)]
            fn namespace(&self) -> &str {
                let $e = self;
                $namespace
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
    PodEntry => |e| (&e.summary.namespace, e.summary.name),
    NodeEntry => |e| ("", e.name),
    ReplicaSetEntry => |e| (&e.namespace, e.name)
);

#[cfg(test)]
mod tests {
    use k8s_openapi::{api::core::v1::Pod, apimachinery::pkg::apis::meta::v1::ObjectMeta};

    use super::*;

    fn pod(name: &str, uid: &str, version: &str) -> PodEntry {
        pod_in("ns", name, uid, version)
    }

    fn pod_in(namespace: &str, name: &str, uid: &str, version: &str) -> PodEntry {
        PodEntry::new(Pod {
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                namespace: Some(namespace.to_owned()),
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
            .snapshot(None, |_, _| true)
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
        let subscription = cache.subscribe(Some(&since.to_string()), &|_| true);
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
        assert!(cache.snapshot(None, |_, _| true).is_none());
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
        assert!(
            cache
                .subscribe(Some(&start.with_seq(9).to_string()), &|_| true)
                .resync
        );
        let oldest = cache.subscribe(Some(&start.with_seq(10).to_string()), &|_| true);
        assert!(!oldest.resync);
        assert_eq!(oldest.replay.len(), EVENT_LOG_LEN);
        // Versions of another cache, or nonsense, are never resumed from.
        assert!(cache.subscribe(Some("ff.1"), &|_| true).resync);
        assert!(cache.subscribe(Some("nonsense"), &|_| true).resync);
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

    fn only(namespace: &str) -> Vec<String> {
        vec![namespace.to_owned()]
    }

    fn touch(cache: &ObjectCache<PodEntry>, namespace: &str, name: &str, version: &str) {
        cache.apply(watcher::Event::Apply(pod_in(
            namespace, name, name, version,
        )));
    }

    #[test]
    fn a_namespaces_version_moves_with_its_namespaces_only() {
        let cache = cache();
        list(&cache, vec![pod_in("a", "x", "x", "1")]);
        let a = only("a");
        let whole = cache.version().expect("fresh");
        let of_a = cache.namespaces_version(Some(&a)).expect("fresh");

        touch(&cache, "b", "y", "1");
        assert_ne!(cache.version(), Some(whole), "the whole cache moves");
        assert_eq!(cache.namespaces_version(Some(&a)), Some(of_a));
        let snapshot = cache.snapshot(Some(&a), |_, _| true).expect("fresh");
        assert_eq!(snapshot.namespaces_version, of_a);
        assert_eq!(cache.versions(Some(&a)), Some((snapshot.version, of_a)));

        touch(&cache, "a", "x", "2");
        let moved = cache.namespaces_version(Some(&a)).expect("fresh");
        assert_ne!(moved, of_a);
        // The namespace's last change is the whole cache's version then.
        assert_eq!(Some(moved), cache.version());
    }

    #[test]
    fn stats_of_some_namespaces_count_and_date_theirs_only() {
        let cache = cache();
        list(
            &cache,
            vec![
                pod_in("a", "x", "x", "1"),
                pod_in("ab", "y", "y", "1"),
                pod_in("b", "z", "z", "1"),
            ],
        );
        let a = only("a");
        let before = cache.stats(Some(&a));
        assert_eq!(before.objects, 1, "a neighbouring name is not counted");
        assert!(before.last_event.is_some(), "the list's time");
        assert_eq!(cache.stats(None).objects, 3);

        std::thread::sleep(Duration::from_millis(5));
        touch(&cache, "b", "new", "1");
        let after = cache.stats(Some(&a));
        assert_eq!(
            (after.objects, after.last_event, after.version),
            (before.objects, before.last_event, before.version)
        );
        assert_eq!(cache.stats(None).objects, 4);
        assert_ne!(cache.stats(None).last_event, before.last_event);

        touch(&cache, "a", "new", "1");
        let changed = cache.stats(Some(&a));
        assert_eq!(changed.objects, 2);
        assert_ne!(changed.last_event, before.last_event);
        assert_ne!(changed.version, before.version);

        // A new list (after 410 Gone) that finds changes elsewhere only.
        std::thread::sleep(Duration::from_millis(5));
        list(
            &cache,
            vec![
                pod_in("a", "new", "new", "1"),
                pod_in("a", "x", "x", "1"),
                pod_in("ab", "y", "y", "1"),
                pod_in("b", "new", "new", "2"),
                pod_in("b", "z", "z", "1"),
            ],
        );
        let relisted = cache.stats(Some(&a));
        assert_eq!(
            (relisted.objects, relisted.last_event, relisted.version),
            (changed.objects, changed.last_event, changed.version)
        );
    }

    #[test]
    fn an_old_version_is_resumed_while_every_change_of_the_namespaces_followed_is_kept() {
        let cache = cache();
        list(&cache, vec![pod_in("quiet", "x", "x", "1")]);
        touch(&cache, "quiet", "x", "2");
        let quiet = only("quiet");
        let version = cache.namespaces_version(Some(&quiet)).expect("fresh");
        // Enough changes elsewhere to push the quiet one out of the history.
        for i in 0..EVENT_LOG_LEN + 10 {
            touch(&cache, "busy", &format!("p{i}"), "1");
        }
        let since = version.to_string();
        let follows_quiet = cache.subscribe(Some(&since), &|ns| ns == "quiet");
        assert!(!follows_quiet.resync);
        assert_eq!(
            cache.subscribe(None, &|ns| ns == "quiet").version,
            version,
            "from now, the quiet namespace's version"
        );
        // Changes of the busy namespace after it are lost: list again.
        assert!(cache.subscribe(Some(&since), &|_| true).resync);
        // So is the quiet namespace's own change, for a version before it.
        let before = version.with_seq(0).to_string();
        assert!(cache.subscribe(Some(&before), &|ns| ns == "quiet").resync);
    }

    /// The changes `changes` yields, until `wanted` of them or a pause.
    async fn collected(
        cache: &Arc<ObjectCache<PodEntry>>,
        subscription: Subscription<PodEntry>,
        keep: impl Fn(&str) -> bool + Send + Sync + 'static,
        wanted: usize,
    ) -> Vec<crate::k8s::events::PodChange> {
        use futures_util::StreamExt;

        let stream = crate::k8s::events::changes(Arc::downgrade(cache), subscription, keep);
        let events = stream.take(wanted).collect::<Vec<_>>();
        tokio::time::timeout(Duration::from_secs(5), events)
            .await
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn a_subscriber_that_falls_behind_the_history_gets_resync_and_its_stream_ends() {
        use crate::k8s::events::PodChangeKind;

        let cache = Arc::new(cache());
        list(&cache, vec![]);
        let subscription = cache.subscribe(None, &|_| true);
        // More changes than the live feed and the history hold, while nobody reads.
        for i in 0..EVENT_LOG_LEN + 1100 {
            cache.apply(watcher::Event::Apply(pod(&format!("p{i}"), "u", "1")));
        }
        let events = collected(&cache, subscription, |_| true, usize::MAX).await;
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].kind, PodChangeKind::Resync);
    }

    #[tokio::test]
    async fn a_subscriber_that_falls_behind_the_live_feed_catches_up_from_the_history() {
        let cache = Arc::new(cache());
        list(&cache, vec![]);
        let subscription = cache.subscribe(None, &|_| true);
        let total = 1100;
        for i in 0..total {
            cache.apply(watcher::Event::Apply(pod(&format!("p{i}"), "u", "1")));
        }
        let events = collected(&cache, subscription, |_| true, total).await;
        let seqs: Vec<u64> = events.iter().map(|e| e.version.seq()).collect();
        assert_eq!(seqs, (1..=total as u64).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn changes_elsewhere_never_make_a_subscriber_resync() {
        use crate::k8s::events::PodChangeKind;

        let cache = Arc::new(cache());
        list(&cache, vec![]);
        let mine = |ns: &str| ns == "mine";
        let subscription = cache.subscribe(None, &mine);
        // A burst elsewhere, past the live feed and the history, unread.
        for i in 0..EVENT_LOG_LEN + 1100 {
            touch(&cache, "other", &format!("p{i}"), "1");
        }
        touch(&cache, "mine", "x", "1");
        let events = collected(&cache, subscription, mine, 1).await;
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].kind, PodChangeKind::Added);
        let name = events[0].object.as_ref().map(|p| p.summary.name.as_str());
        assert_eq!(name, Some("x"));
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
