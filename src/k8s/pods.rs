//! Reading pods, nodes and ReplicaSets from a cluster: from its watch cache
//! once that has synced and is fresh, else from the API server.
//!
//! Names are checked before anything is sent; lists are read in pages.

use std::sync::Arc;

use k8s_openapi::api::{
    apps::v1::ReplicaSet,
    core::v1::{Node, Pod},
};
use kube::{Api, api::ListParams};
use serde::de::DeserializeOwned;

use super::{
    Cluster,
    cache::CacheVersion,
    entry::{NodeEntry, PodEntry, ReplicaSetEntry},
    names::{validate_name_filter, validate_namespace, validate_pod_name},
};
use crate::error::AppError;

/// Objects read per page when listing from the API server.
const PAGE_SIZE: u32 = 500;

/// Pods, and the cache version they reflect (`None` when they were read from
/// the API server).
pub struct PodList {
    /// Cache version, when served from the cache.
    pub version: Option<CacheVersion>,
    /// The pods, ordered by namespace and name.
    pub items: Vec<Arc<PodEntry>>,
}

/// Pods of a namespace (`None`: every namespace) whose name contains
/// `name_filter`, ordered by namespace and name, of the namespaces for which
/// `visible` holds (the caller's grants: a list is filtered, never fetched
/// namespace by namespace).
pub async fn list_pods(
    cluster: &Cluster,
    namespace: Option<&str>,
    name_filter: Option<&str>,
    visible: &(dyn Fn(&str) -> bool + Sync),
) -> Result<PodList, AppError> {
    if let Some(namespace) = namespace {
        validate_namespace("namespace", namespace)?;
    }
    if let Some(filter) = name_filter {
        validate_name_filter("name", filter)?;
    }
    let filter = name_filter.filter(|f| !f.is_empty());
    let keep = |ns: &str, name: &str| {
        namespace.is_none_or(|wanted| wanted == ns)
            && visible(ns)
            && filter.is_none_or(|f| name.contains(f))
    };
    if let Some(snapshot) = cluster
        .cache()
        .and_then(|cache| cache.pods.snapshot(|(ns, name), _| keep(ns, name)))
    {
        return Ok(PodList {
            version: Some(snapshot.version),
            items: snapshot.objects,
        });
    }
    let api: Api<Pod> = match namespace {
        Some(namespace) => Api::namespaced(cluster.client(), namespace),
        None => Api::all(cluster.client()),
    };
    let mut pods = list_all(cluster, &api).await?;
    pods.retain(|pod| {
        keep(
            pod.metadata.namespace.as_deref().unwrap_or_default(),
            pod.metadata.name.as_deref().unwrap_or_default(),
        )
    });
    pods.sort_by(|a, b| {
        (&a.metadata.namespace, &a.metadata.name).cmp(&(&b.metadata.namespace, &b.metadata.name))
    });
    Ok(PodList {
        version: None,
        items: pods
            .into_iter()
            .map(|pod| Arc::new(PodEntry::new(pod)))
            .collect(),
    })
}

/// The version a pod list of this cluster would reflect now, when it would be
/// served from the cache.
pub fn pods_version(cluster: &Cluster) -> Option<CacheVersion> {
    cluster.cache()?.pods.version()
}

/// One pod.
pub async fn get_pod(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
) -> Result<Arc<PodEntry>, AppError> {
    validate_namespace("namespace", namespace)?;
    validate_pod_name("name", name)?;
    let not_found = || AppError::PodNotFound {
        cluster: cluster.name.clone(),
        namespace: namespace.to_owned(),
        name: name.to_owned(),
    };
    if let Some(cached) = cluster
        .cache()
        .and_then(|cache| cache.pods.get(namespace, name))
    {
        return cached.ok_or_else(not_found);
    }
    let api: Api<Pod> = Api::namespaced(cluster.client(), namespace);
    let pod = cluster
        .call(api.get_opt(name))
        .await?
        .ok_or_else(not_found)?;
    Ok(Arc::new(PodEntry::new(pod)))
}

/// Every node of the cluster.
pub async fn list_nodes(cluster: &Cluster) -> Result<Vec<Arc<NodeEntry>>, AppError> {
    if let Some(snapshot) = cluster
        .cache()
        .and_then(|cache| cache.nodes.snapshot(|_, _| true))
    {
        return Ok(snapshot.objects);
    }
    let nodes = list_all(cluster, &Api::<Node>::all(cluster.client())).await?;
    Ok(nodes
        .into_iter()
        .map(|node| Arc::new(NodeEntry::new(node)))
        .collect())
}

/// Every ReplicaSet of a namespace.
pub async fn list_replicasets(
    cluster: &Cluster,
    namespace: &str,
) -> Result<Vec<Arc<ReplicaSetEntry>>, AppError> {
    validate_namespace("namespace", namespace)?;
    if let Some(snapshot) = cluster
        .cache()
        .and_then(|cache| cache.replicasets.snapshot(|(ns, _), _| ns == namespace))
    {
        return Ok(snapshot.objects);
    }
    let sets = list_all(
        cluster,
        &Api::<ReplicaSet>::namespaced(cluster.client(), namespace),
    )
    .await?;
    Ok(sets
        .into_iter()
        .map(|set| Arc::new(ReplicaSetEntry::new(set)))
        .collect())
}

async fn list_all<K>(cluster: &Cluster, api: &Api<K>) -> Result<Vec<K>, AppError>
where
    K: Clone + DeserializeOwned + std::fmt::Debug,
{
    let mut items = Vec::new();
    let mut params = ListParams::default().limit(PAGE_SIZE);
    loop {
        let page = cluster.call(api.list(&params)).await?;
        items.extend(page.items);
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(items),
        }
    }
}
