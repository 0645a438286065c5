//! DataLoaders for per-pod fields that need more reads: a pod's node and its
//! top-level workload. Keys requested while resolving one response are batched,
//! and a cluster's nodes (or a namespace's ReplicaSets) are read once per
//! [`LISTING_TTL`] and cache version, however the keys fall into batches or operations: a list of
//! pods costs one node list per cluster and one ReplicaSet list per namespace,
//! never one request per pod (and none once the watch cache has synced), while a
//! long-lived subscription still sees nodes and owners change. Concurrent reads
//! of one scope wait for a single read. The DataLoaders are made fresh for each
//! operation (in [`super::Executor::with_request_data`]); the listings they share
//! ([`Listings`]) hold cluster data only, never anything of a user, and are only
//! asked for keys that come from pods the viewer may read.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
    time::Duration,
};

use async_graphql::{ErrorExtensions, dataloader::Loader};
use moka::future::Cache;

use super::pods::{NodeInfo, Workload};
use crate::k8s::{ClusterRegistry, pods};

/// How long one read of nodes or ReplicaSets serves look-ups.
pub const LISTING_TTL: Duration = Duration::from_secs(1);
/// Scopes (clusters, or namespaces of one) whose listing is kept at once.
const MAX_SCOPES: u64 = 4096;

/// A node of a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NodeKey {
    /// Cluster name.
    pub cluster: String,
    /// Node name.
    pub name: String,
}

/// A ReplicaSet of a namespace of a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReplicaSetKey {
    /// Cluster name.
    pub cluster: String,
    /// Namespace.
    pub namespace: String,
    /// ReplicaSet name.
    pub name: String,
}

/// Listings read within the last [`LISTING_TTL`], shared by every operation of
/// the gateway: nodes by cluster, and ReplicaSet owners by cluster and
/// namespace.
pub struct Listings {
    nodes: Cache<NodeScope, Arc<HashMap<String, NodeInfo>>>,
    owners: Cache<OwnerScope, Arc<HashMap<String, Workload>>>,
}

/// A listing of nodes: the cluster, and its node cache's version.
type NodeScope = (String, Option<String>);
/// A listing of ReplicaSet owners: cluster, namespace, and the cache's version.
type OwnerScope = (String, String, Option<String>);

/// The version of a cluster's watch cache of a kind, when it serves: part of
/// a listing's key, so a listing is never older than the version an answer
/// recorded before it asked (a kept answer is then never staler than the
/// version it is kept under); `None` when reads go to the API server.
fn cache_version<K: crate::k8s::cache::Cached>(
    clusters: &ClusterRegistry,
    cluster: &str,
    kind: impl Fn(&crate::k8s::cache::ClusterCache) -> &crate::k8s::cache::ObjectCache<K>,
) -> Option<String> {
    let found = clusters.get(cluster).ok()?;
    let cache = found.running_cache()?;
    kind(cache).version().map(|v| v.to_string())
}

impl Default for Listings {
    fn default() -> Self {
        Listings {
            nodes: Cache::builder()
                .max_capacity(MAX_SCOPES)
                .time_to_live(LISTING_TTL)
                .build(),
            owners: Cache::builder()
                .max_capacity(MAX_SCOPES)
                .time_to_live(LISTING_TTL)
                .build(),
        }
    }
}

/// The listing of `scope`, read by `read` unless a recent one is kept (or
/// being read by a concurrent batch, which this one then waits for).
async fn listing<S, V, F>(
    cache: &Cache<S, Arc<HashMap<String, V>>>,
    scope: S,
    read: F,
) -> Result<Arc<HashMap<String, V>>, async_graphql::Error>
where
    S: std::hash::Hash + Eq + Clone + Send + Sync + 'static,
    V: Send + Sync + 'static,
    F: Future<Output = Result<HashMap<String, V>, async_graphql::Error>>,
{
    cache
        .try_get_with(scope, async { read.await.map(Arc::new) })
        .await
        .map_err(|shared| (*shared).clone())
}

/// Loads nodes.
pub struct NodeLoader {
    clusters: Arc<ClusterRegistry>,
    listings: Arc<Listings>,
}

impl NodeLoader {
    /// A loader reading from these clusters, through shared listings.
    pub fn new(clusters: Arc<ClusterRegistry>, listings: Arc<Listings>) -> Self {
        NodeLoader { clusters, listings }
    }
}

impl Loader<NodeKey> for NodeLoader {
    type Value = NodeInfo;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[NodeKey]) -> Result<HashMap<NodeKey, NodeInfo>, Self::Error> {
        let mut by_cluster: BTreeMap<&str, Vec<&NodeKey>> = BTreeMap::new();
        for key in keys {
            by_cluster.entry(&key.cluster).or_default().push(key);
        }
        let mut found = HashMap::new();
        for (cluster, wanted) in by_cluster {
            let version = cache_version(&self.clusters, cluster, |c| &c.nodes);
            let nodes = listing(&self.listings.nodes, (cluster.to_owned(), version), async {
                let cluster = self.clusters.get(cluster).map_err(|e| e.extend())?;
                let nodes = pods::list_nodes(&cluster).await.map_err(|e| e.extend())?;
                Ok(nodes
                    .iter()
                    .map(|node| (node.name.clone(), NodeInfo::from(&**node)))
                    .collect())
            })
            .await?;
            for key in wanted {
                if let Some(node) = nodes.get(&key.name) {
                    found.insert(key.clone(), node.clone());
                }
            }
        }
        Ok(found)
    }
}

/// Resolves ReplicaSets to their top-level workload.
pub struct WorkloadLoader {
    clusters: Arc<ClusterRegistry>,
    listings: Arc<Listings>,
}

impl WorkloadLoader {
    /// A loader reading from these clusters, through shared listings.
    pub fn new(clusters: Arc<ClusterRegistry>, listings: Arc<Listings>) -> Self {
        WorkloadLoader { clusters, listings }
    }
}

impl Loader<ReplicaSetKey> for WorkloadLoader {
    type Value = Workload;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[ReplicaSetKey],
    ) -> Result<HashMap<ReplicaSetKey, Workload>, Self::Error> {
        let mut by_namespace: BTreeMap<(&str, &str), Vec<&ReplicaSetKey>> = BTreeMap::new();
        for key in keys {
            by_namespace
                .entry((&key.cluster, &key.namespace))
                .or_default()
                .push(key);
        }
        let mut found = HashMap::new();
        for ((cluster, namespace), wanted) in by_namespace {
            let version = cache_version(&self.clusters, cluster, |c| &c.replicasets);
            let scope = (cluster.to_owned(), namespace.to_owned(), version);
            let owners = listing(&self.listings.owners, scope, async {
                let cluster = self.clusters.get(cluster).map_err(|e| e.extend())?;
                let sets = pods::list_replicasets(&cluster, namespace)
                    .await
                    .map_err(|e| e.extend())?;
                Ok(sets
                    .iter()
                    .filter_map(|rs| {
                        let (kind, name) = rs.controller.clone()?;
                        Some((rs.name.clone(), Workload { kind, name }))
                    })
                    .collect())
            })
            .await?;
            for key in wanted {
                // A bare ReplicaSet (or one already gone) is its own workload.
                let workload = owners.get(&key.name).cloned().unwrap_or_else(|| Workload {
                    kind: "ReplicaSet".to_owned(),
                    name: key.name.clone(),
                });
                found.insert(key.clone(), workload);
            }
        }
        Ok(found)
    }
}
