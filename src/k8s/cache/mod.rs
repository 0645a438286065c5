//! Per-cluster watch caches: pods, nodes and ReplicaSets kept in memory by
//! kube-runtime watchers, so reads need no upstream request once synced.
//!
//! This module is the watch driver: it runs one watcher per kind and feeds its
//! events to that kind's [`ObjectCache`] (see [`state`], which owns every rule
//! about what the cache holds).
//!
//! Each kind keeps one watcher for the cache's life: it lists once, then
//! watches. A watch that ends or breaks (a dropped connection, a re-watch that
//! fails, an ERROR event other than 410) is resumed by the watcher from its
//! last resourceVersion, after pauses growing from [`RETRY_MIN`] to
//! [`RETRY_MAX`], so a flaky link to a large cluster costs watch requests, not
//! lists. Only 410 Gone (the API server no longer has that resourceVersion)
//! leads to a new list, whose differences from the cache become events. The
//! watcher lists again by itself after a 410 ERROR event, but it would retry a
//! watch request answered 410 outright with the same resourceVersion forever,
//! so for that one the driver starts a new watcher.
//!
//! Staleness bound: cached data is served while the watch is healthy, and for
//! at most `stale_after` (OSP_CACHE_STALE_AFTER) once it fails; after that,
//! reads go to the API server directly, which answers ClusterUnavailable if
//! the cluster is down. Only the API server's answers prove health again: a
//! complete list, an event, or a watch request accepted from the last
//! resourceVersion (the watcher reports no event for that, so the driver's
//! client notices it; a quiet kind is then healthy as soon as its watch is
//! back, with nothing missed). Watches are renewed every
//! [`WATCH_TIMEOUT_SECS`], so a server that stops answering without closing
//! the connection is noticed within about that time plus the watch client's
//! read timeout.

mod state;

use std::{
    any::{Any, TypeId},
    collections::HashMap,
    fmt::Debug,
    sync::{Arc, Mutex},
    time::Duration,
};

use futures_util::StreamExt;
use k8s_openapi::api::{
    apps::v1::ReplicaSet,
    core::v1::{Node, Pod},
};
use kube::{
    Api, Client, Resource,
    client::Body,
    runtime::{
        WatchStreamExt,
        utils::{Backoff, ResetTimerBackoff},
        watcher,
    },
};
use serde::de::DeserializeOwned;
use tokio::task::JoinHandle;

pub use state::{
    CacheStats, CacheVersion, Cached, Change, ChangeKind, EVENT_LOG_LEN, ObjectCache, ObjectKey,
    Snapshot, Subscription,
};

use super::{
    entry::{NodeEntry, PodEntry, ReplicaSetEntry},
    resource::{Entry, Kind},
};

/// Seconds each watch request stays open before it is renewed.
pub const WATCH_TIMEOUT_SECS: u32 = 60;
/// First pause before a failed watch is retried.
const RETRY_MIN: Duration = Duration::from_millis(250);
/// Longest pause between retries of a failed watch: short, so a cluster that
/// comes back is served from memory again within seconds.
const RETRY_MAX: Duration = Duration::from_secs(5);
/// A failure this long after the previous pause starts again from
/// [`RETRY_MIN`]: a resumed watch reports no event that could reset the pauses.
const RETRY_RESET: Duration = Duration::from_secs(60);

/// The watch caches of one cluster. Dropping it stops its watchers.
pub struct ClusterCache {
    /// Pods, with numbered changes for subscribers.
    pub pods: Arc<ObjectCache<PodEntry>>,
    /// Nodes.
    pub nodes: Arc<ObjectCache<NodeEntry>>,
    /// ReplicaSets.
    pub replicasets: Arc<ObjectCache<ReplicaSetEntry>>,
    /// The caches of the kinds of [`super::resource`], each started when it
    /// is first asked for (by the type of its [`Kind`]).
    kinds: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
    cluster: String,
    client: Client,
    stale_after: Duration,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Drop for ClusterCache {
    fn drop(&mut self) {
        let tasks = self.tasks.get_mut().unwrap_or_else(|p| p.into_inner());
        for task in tasks.iter() {
            task.abort();
        }
    }
}

impl ClusterCache {
    /// Starts watching pods, nodes and ReplicaSets through `client`.
    pub fn start(cluster: &str, client: Client, stale_after: Duration) -> Self {
        let epoch = rand::random::<u64>() >> 8;
        let pods = Arc::new(ObjectCache::new(epoch, stale_after, true));
        let nodes = Arc::new(ObjectCache::new(epoch, stale_after, false));
        let replicasets = Arc::new(ObjectCache::new(epoch, stale_after, false));
        let tasks = vec![
            spawn_watch::<Pod, _>(cluster, &client, pods.clone(), PodEntry::new),
            spawn_watch::<Node, _>(cluster, &client, nodes.clone(), NodeEntry::new),
            spawn_watch::<ReplicaSet, _>(
                cluster,
                &client,
                replicasets.clone(),
                ReplicaSetEntry::new,
            ),
        ];
        ClusterCache {
            pods,
            nodes,
            replicasets,
            kinds: Mutex::new(HashMap::new()),
            cluster: cluster.to_owned(),
            client,
            stale_after,
            tasks: Mutex::new(tasks),
        }
    }

    /// The cache of kind `K`, whose watch starts with the first call: a
    /// gateway whose users never ask for a kind never watches it.
    pub fn of<K: Kind>(&self) -> Arc<ObjectCache<Entry<K>>> {
        let mut kinds = self.kinds.lock().unwrap_or_else(|p| p.into_inner());
        let held = kinds.entry(TypeId::of::<K>()).or_insert_with(|| {
            tracing::info!(cluster = %self.cluster, kind = K::KIND, "starting the watch cache");
            // An epoch of its own: a version of one kind is never taken for
            // one of another.
            let epoch = rand::random::<u64>() >> 8;
            let cache = Arc::new(ObjectCache::<Entry<K>>::new(epoch, self.stale_after, true));
            let task = spawn_watch::<K::Object, _>(
                &self.cluster,
                &self.client,
                cache.clone(),
                Entry::<K>::new,
            );
            self.tasks
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(task);
            cache
        });
        match held.clone().downcast::<ObjectCache<Entry<K>>>() {
            Ok(cache) => cache,
            // Held under the type id of `K`: always of that type.
            Err(_) => unreachable!("a kind's cache is held under its own type id"),
        }
    }

    /// The cache of kind `K` when it has been started.
    pub fn running<K: Kind>(&self) -> Option<Arc<ObjectCache<Entry<K>>>> {
        let kinds = self.kinds.lock().unwrap_or_else(|p| p.into_inner());
        kinds
            .get(&TypeId::of::<K>())
            .and_then(|held| held.clone().downcast::<ObjectCache<Entry<K>>>().ok())
    }
}

fn spawn_watch<K, T>(
    cluster: &str,
    client: &Client,
    cache: Arc<ObjectCache<T>>,
    keep: fn(K) -> T,
) -> JoinHandle<()>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    T: Cached,
{
    let cluster = cluster.to_owned();
    let config = watcher::Config::default().timeout(WATCH_TIMEOUT_SECS);
    let api = {
        let cache = cache.clone();
        Api::<K>::all(reporting_accepted_watches(client.clone(), move || {
            cache.resumed()
        }))
    };
    tokio::spawn(async move {
        let mut relist_pause = RETRY_MIN;
        loop {
            let mut events = watcher(api.clone(), config.clone())
                .backoff(ResetTimerBackoff::new(Doubling::default(), RETRY_RESET))
                .boxed();
            while let Some(event) = events.next().await {
                match event {
                    Ok(event) => {
                        if matches!(event, watcher::Event::Apply(_) | watcher::Event::Delete(_)) {
                            // The watch after a list delivers, so the API server
                            // keeps our resourceVersions again.
                            relist_pause = RETRY_MIN;
                        }
                        cache.apply(match event {
                            watcher::Event::Apply(object) => watcher::Event::Apply(keep(object)),
                            watcher::Event::Delete(object) => watcher::Event::Delete(keep(object)),
                            watcher::Event::Init => watcher::Event::Init,
                            watcher::Event::InitApply(object) => {
                                watcher::Event::InitApply(keep(object))
                            }
                            watcher::Event::InitDone => watcher::Event::InitDone,
                        });
                    }
                    Err(err) => {
                        cache.failed();
                        if is_gone(&err) {
                            tracing::warn!(cluster, kind = %K::kind(&()), "watch expired, listing again: {err}");
                            break;
                        }
                        // The watcher resumes from its last resourceVersion
                        // after the backoff's pause.
                        tracing::warn!(cluster, kind = %K::kind(&()), "watch failed, resuming: {err}");
                    }
                }
            }
            // Only a watch answered 410 gets here (the watcher's stream has no
            // end): a new watcher lists afresh. Paused, so a server answering
            // every watch with 410 is not listed in a tight loop.
            drop(events);
            tokio::time::sleep(relist_pause).await;
            relist_pause = (relist_pause * 2).min(RETRY_MAX);
        }
    })
}

/// Whether the API server no longer has the watch's resourceVersion, told by
/// the status of the watch request rather than by an ERROR event (which the
/// watcher handles itself by listing again).
fn is_gone(err: &watcher::Error) -> bool {
    matches!(
        err,
        watcher::Error::WatchStartFailed(kube::Error::Api(status))
            | watcher::Error::WatchFailed(kube::Error::Api(status))
            if status.code == 410
    )
}

/// `client`, calling `accepted` whenever the API server accepts a watch
/// request. The watcher starts watches only from a resourceVersion it holds
/// (after its list, or resuming), so an accepted watch means nothing was
/// missed; the watcher itself reports no event for it.
fn reporting_accepted_watches(
    client: Client,
    accepted: impl Fn() + Send + Sync + 'static,
) -> Client {
    let namespace = client.default_namespace().to_owned();
    let accepted = Arc::new(accepted);
    let service = tower::service_fn(move |request: hyper::Request<Body>| {
        let client = client.clone();
        let accepted = accepted.clone();
        async move {
            let watch = request
                .uri()
                .query()
                .is_some_and(|query| query.split('&').any(|pair| pair == "watch=true"));
            let response = client.send(request).await?;
            if watch && response.status().is_success() {
                accepted();
            }
            Ok::<_, kube::Error>(response)
        }
    });
    Client::new(service, namespace)
}

/// Pauses between retries of a failed watch: doubling from [`RETRY_MIN`] to
/// [`RETRY_MAX`], back to [`RETRY_MIN`] whenever the watcher delivers an event.
struct Doubling {
    next: Duration,
}

impl Default for Doubling {
    fn default() -> Self {
        Doubling { next: RETRY_MIN }
    }
}

impl Iterator for Doubling {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let pause = self.next;
        self.next = (pause * 2).min(RETRY_MAX);
        Some(pause)
    }
}

impl Backoff for Doubling {
    fn reset(&mut self) {
        self.next = RETRY_MIN;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_pauses_double_up_to_the_bound_and_start_over_when_reset() {
        let mut pauses = Doubling::default();
        let first: Vec<_> = pauses.by_ref().take(7).collect();
        assert_eq!(
            first,
            [250, 500, 1000, 2000, 4000, 5000, 5000].map(Duration::from_millis)
        );
        pauses.reset();
        assert_eq!(pauses.next(), Some(RETRY_MIN));
    }
}
