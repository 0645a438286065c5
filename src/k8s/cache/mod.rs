//! Per-cluster watch caches: pods, nodes and ReplicaSets kept in memory by
//! kube-runtime watchers, so reads need no upstream request once synced.
//!
//! This module is the watch driver: it runs one watcher per kind and feeds its
//! events to that kind's [`ObjectCache`] (see [`state`], which owns every rule
//! about what the cache holds).
//!
//! Staleness bound: cached data is served while the watch is healthy, and for at
//! most `stale_after` (OSP_CACHE_STALE_AFTER) once it fails; after that, reads go
//! to the API server directly, which answers ClusterUnavailable if the cluster is
//! down. Only objects arriving prove health: after a failure the watch is started
//! afresh (a new list, compared with the cache), and the cache counts as healthy
//! again once that list is complete. Watches are renewed every
//! [`WATCH_TIMEOUT_SECS`], so a server that stops answering without closing the
//! connection is noticed within about that time plus the watch client's read
//! timeout.

mod state;

use std::{fmt::Debug, sync::Arc, time::Duration};

use futures_util::StreamExt;
use k8s_openapi::api::{
    apps::v1::ReplicaSet,
    core::v1::{Node, Pod},
};
use kube::{Api, Client, Resource, runtime::watcher};
use serde::de::DeserializeOwned;
use tokio::task::JoinHandle;

pub use state::{
    CacheStats, CacheVersion, Cached, Change, ChangeKind, EVENT_LOG_LEN, ObjectCache, ObjectKey,
    Snapshot, Subscription,
};

use super::entry::{NodeEntry, PodEntry, ReplicaSetEntry};

/// Seconds each watch request stays open before it is renewed.
pub const WATCH_TIMEOUT_SECS: u32 = 60;
/// First pause before a failed watch is retried.
const RETRY_MIN: Duration = Duration::from_millis(250);
/// Longest pause between retries of a failed watch: short, so a cluster that
/// comes back is served from memory again within seconds.
const RETRY_MAX: Duration = Duration::from_secs(5);

/// The watch caches of one cluster. Dropping it stops its watchers.
pub struct ClusterCache {
    /// Pods, with numbered changes for subscribers.
    pub pods: Arc<ObjectCache<PodEntry>>,
    /// Nodes.
    pub nodes: Arc<ObjectCache<NodeEntry>>,
    /// ReplicaSets.
    pub replicasets: Arc<ObjectCache<ReplicaSetEntry>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for ClusterCache {
    fn drop(&mut self) {
        for task in &self.tasks {
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
            spawn_watch(
                cluster,
                Api::<Pod>::all(client.clone()),
                pods.clone(),
                PodEntry::new,
            ),
            spawn_watch(
                cluster,
                Api::<Node>::all(client.clone()),
                nodes.clone(),
                NodeEntry::new,
            ),
            spawn_watch(
                cluster,
                Api::<ReplicaSet>::all(client),
                replicasets.clone(),
                ReplicaSetEntry::new,
            ),
        ];
        ClusterCache {
            pods,
            nodes,
            replicasets,
            tasks,
        }
    }
}

fn spawn_watch<K, T>(
    cluster: &str,
    api: Api<K>,
    cache: Arc<ObjectCache<T>>,
    keep: fn(K) -> T,
) -> JoinHandle<()>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    T: Cached,
{
    let cluster = cluster.to_owned();
    let config = watcher::Config::default().timeout(WATCH_TIMEOUT_SECS);
    tokio::spawn(async move {
        let mut pause = RETRY_MIN;
        loop {
            // A fresh watcher lists before it watches, so after any failure the
            // cache is healthy again only once a complete list has arrived.
            let mut events = watcher(api.clone(), config.clone()).boxed();
            while let Some(event) = events.next().await {
                match event {
                    Ok(event) => {
                        if matches!(event, watcher::Event::InitDone) {
                            pause = RETRY_MIN;
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
                        tracing::warn!(cluster, kind = %K::kind(&()), "watch failed, retrying: {err}");
                        break;
                    }
                }
            }
            cache.failed();
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(RETRY_MAX);
        }
    })
}
