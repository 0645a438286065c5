//! DataLoaders for per-pod fields that need more reads: a pod's node and its
//! top-level workload. Keys requested while resolving one response are batched,
//! so a list of pods costs one node list per cluster and one ReplicaSet list per
//! namespace, never one request per pod. Loaders are made fresh for each request
//! (in [`super::Executor::execute`]), so their caches never cross users.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};

use async_graphql::{ErrorExtensions, dataloader::Loader};
use k8s_openapi::api::core::v1::Node;

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

/// Loads nodes: one node list per cluster per batch.
pub struct NodeLoader {
    /// The clusters to read from.
    pub clusters: Arc<ClusterRegistry>,
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
            let cluster = self.clusters.get(cluster).map_err(|e| e.extend())?;
            let nodes = pods::list_nodes(&cluster).await.map_err(|e| e.extend())?;
            let nodes: HashMap<&str, &Node> = nodes
                .iter()
                .filter_map(|n| n.metadata.name.as_deref().map(|name| (name, n)))
                .collect();
            for key in wanted {
                if let Some(node) = nodes.get(key.name.as_str()) {
                    found.insert(key.clone(), NodeInfo::from_node(node));
                }
            }
        }
        Ok(found)
    }
}

/// Resolves ReplicaSets to their top-level workload: one ReplicaSet list per
/// namespace per batch.
pub struct WorkloadLoader {
    /// The clusters to read from.
    pub clusters: Arc<ClusterRegistry>,
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
            let cluster = self.clusters.get(cluster).map_err(|e| e.extend())?;
            let sets = pods::list_replicasets(&cluster, namespace)
                .await
                .map_err(|e| e.extend())?;
            for key in wanted {
                let owner = sets
                    .iter()
                    .find(|rs| rs.metadata.name.as_deref() == Some(key.name.as_str()))
                    .and_then(|rs| rs.metadata.owner_references.as_ref())
                    .and_then(|owners| owners.iter().find(|o| o.controller == Some(true)));
                let workload = match owner {
                    Some(owner) => Workload {
                        kind: owner.kind.clone(),
                        name: owner.name.clone(),
                    },
                    // A bare ReplicaSet (or one already gone) is its own workload.
                    None => Workload {
                        kind: "ReplicaSet".to_owned(),
                        name: key.name.clone(),
                    },
                };
                found.insert(key.clone(), workload);
            }
        }
        Ok(found)
    }
}
