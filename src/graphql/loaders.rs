//! DataLoaders for per-pod fields that need more reads: a pod's node and its
//! top-level workload. Keys requested while resolving one response are batched,
//! and each loader reads a cluster's nodes (or a namespace's ReplicaSets) once
//! per [`LISTING_TTL`], however the keys fall into batches: a list of pods costs
//! one node list per cluster and one ReplicaSet list per namespace, never one
//! request per pod (and none once the watch cache has synced), while a
//! long-lived subscription still sees nodes and owners change. Loaders are made
//! fresh for each operation (in [`super::Executor::with_request_data`]), so what
//! they hold never crosses users.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use async_graphql::{ErrorExtensions, dataloader::Loader};
/// How long one read of nodes or ReplicaSets serves an operation's look-ups.
pub const LISTING_TTL: Duration = Duration::from_secs(1);

use super::pods::{NodeInfo, Workload};
use crate::k8s::{ClusterRegistry, pods};

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

type Listing<V> = Arc<tokio::sync::Mutex<Option<(Instant, Arc<HashMap<String, V>>)>>>;

/// One read per scope (a cluster, or a namespace of one), shared by every batch.
struct Listings<S, V> {
    scopes: Mutex<HashMap<S, Listing<V>>>,
}

impl<S: std::hash::Hash + Eq + Clone, V> Default for Listings<S, V> {
    fn default() -> Self {
        Listings {
            scopes: Mutex::new(HashMap::new()),
        }
    }
}

impl<S: std::hash::Hash + Eq + Clone, V> Listings<S, V> {
    async fn get<F>(
        &self,
        scope: &S,
        read: F,
    ) -> Result<Arc<HashMap<String, V>>, async_graphql::Error>
    where
        F: AsyncFnOnce() -> Result<HashMap<String, V>, async_graphql::Error>,
    {
        let cell = {
            let mut scopes = self
                .scopes
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            scopes.entry(scope.clone()).or_default().clone()
        };
        // Held across the read, so concurrent batches wait for one read.
        let mut slot = cell.lock().await;
        if let Some((read_at, listing)) = slot.as_ref()
            && read_at.elapsed() < LISTING_TTL
        {
            return Ok(listing.clone());
        }
        let listing = Arc::new(read().await?);
        *slot = Some((Instant::now(), listing.clone()));
        Ok(listing)
    }
}

/// Loads nodes.
pub struct NodeLoader {
    clusters: Arc<ClusterRegistry>,
    listings: Listings<String, NodeInfo>,
}

impl NodeLoader {
    /// A loader reading from these clusters.
    pub fn new(clusters: Arc<ClusterRegistry>) -> Self {
        NodeLoader {
            clusters,
            listings: Listings::default(),
        }
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
            let nodes = self
                .listings
                .get(&cluster.to_owned(), async || {
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
    listings: Listings<(String, String), Workload>,
}

impl WorkloadLoader {
    /// A loader reading from these clusters.
    pub fn new(clusters: Arc<ClusterRegistry>) -> Self {
        WorkloadLoader {
            clusters,
            listings: Listings::default(),
        }
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
            let owners = self
                .listings
                .get(&(cluster.to_owned(), namespace.to_owned()), async || {
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
