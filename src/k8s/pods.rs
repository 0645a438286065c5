//! Reading pods, nodes and ReplicaSets from a cluster: from its watch cache
//! once that has synced and is fresh, else from the API server.
//!
//! A read that arrives while a cache is making its first list waits for that
//! list (within the cluster timeout) and is answered from memory: requests
//! arriving during a sync cost no upstream list of their own, so a restart
//! under load does not multiply the sync's cost by the number of clients.
//! When the cache is off, or stale after its watch kept failing, lists are read
//! from the API server in pages, each page summarised before the next is read.
//!
//! Names are checked before anything is sent.

use std::sync::Arc;

use k8s_openapi::api::{
    apps::v1::ReplicaSet,
    core::v1::{Node, Pod},
};
use kube::{Api, api::ListParams};
use serde::de::DeserializeOwned;

use super::{
    Cluster,
    cache::{CacheVersion, Cached, ObjectCache},
    entry::{NodeEntry, PodEntry, ReplicaSetEntry},
    names::{validate_name_filter, validate_namespace, validate_pod_name},
    order::Order,
};
use crate::error::AppError;

/// Objects read per page when listing from the API server.
const PAGE_SIZE: u32 = 500;

/// Pods, and the cache version they reflect (`None` when they were read from
/// the API server).
pub struct PodList {
    /// Cache version of the namespaces asked for, when served from the cache.
    pub version: Option<CacheVersion>,
    /// The pods, ordered by namespace and name.
    pub items: Vec<Arc<PodEntry>>,
}

/// Pods of a namespace (`None`: every namespace) whose name contains
/// `name_filter`, ordered by namespace and name, of the namespaces for which
/// `visible` holds (the caller's grants: a list is filtered, never fetched
/// namespace by namespace). The version is that of `versioned` (`None`: of
/// the whole cluster; see [`ObjectCache::namespaces_version`]).
pub async fn list_pods(
    cluster: &Cluster,
    namespace: Option<&str>,
    name_filter: Option<&str>,
    visible: &(dyn Fn(&str) -> bool + Sync),
    versioned: Option<&[String]>,
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
    if let Some(pods) = ready(cluster, |cache| &cache.pods).await?
        && let Some(snapshot) = pods.snapshot(versioned, |(ns, name), _| keep(ns, name))
    {
        return Ok(PodList {
            version: Some(snapshot.namespaces_version),
            items: snapshot.objects,
        });
    }
    let api: Api<Pod> = match namespace {
        Some(namespace) => Api::namespaced(cluster.client(), namespace),
        None => Api::all(cluster.client()),
    };
    let mut pods = list_all(cluster, &api, |pod| {
        keep(
            pod.metadata.namespace.as_deref().unwrap_or_default(),
            pod.metadata.name.as_deref().unwrap_or_default(),
        )
        .then(|| Arc::new(PodEntry::new(pod)))
    })
    .await?;
    pods.sort_by(|a, b| {
        (&a.summary.namespace, &a.summary.name).cmp(&(&b.summary.namespace, &b.summary.name))
    });
    Ok(PodList {
        version: None,
        items: pods,
    })
}

/// The cluster's cache of one kind (`kind` picks it) once it may answer:
/// `None` when the cache is off, stale, or its first list failed (read the API
/// server instead: the watch may lack a permission a direct read has). A cache
/// whose first list is under way is waited for, within the cluster timeout;
/// one that has not finished by then makes the cluster unavailable for this
/// request.
pub(crate) async fn ready<K: Cached>(
    cluster: &Cluster,
    kind: impl FnOnce(&super::cache::ClusterCache) -> &Arc<ObjectCache<K>>,
) -> Result<Option<&ObjectCache<K>>, AppError> {
    let Some(cache) = cluster.cache() else {
        return Ok(None);
    };
    let objects = kind(cache).as_ref();
    if !objects.first_list_pending() {
        return Ok(objects.fresh().then_some(objects));
    }
    if objects.wait_for_first_list(cluster.timeout()).await {
        Ok(Some(objects))
    } else if !objects.first_list_pending() {
        // The first list failed while we waited.
        Ok(None)
    } else {
        Err(AppError::ClusterUnavailable {
            cluster: cluster.name.clone(),
            reason: crate::error::TIMED_OUT,
        })
    }
}

/// Every pod of the cluster (of one namespace, when given) in `order`, and the
/// cache version of `versioned` (`None`: of the whole cluster) they reflect
/// (`None` when read from the API server). From the cache, the sorted list is
/// shared until the next change.
pub async fn sorted_pods(
    cluster: &Cluster,
    namespace: Option<&str>,
    order: Order,
    versioned: Option<&[String]>,
) -> Result<(Option<CacheVersion>, Arc<Vec<Arc<PodEntry>>>), AppError> {
    if let Some(namespace) = namespace {
        validate_namespace("namespace", namespace)?;
    }
    if let Some(pods) = ready(cluster, |cache| &cache.pods).await?
        && let Some((version, of_namespaces)) = pods.versions(versioned)
    {
        // The version shown must be read with the pods: the kept sort's, or
        // the fresh snapshot's.
        let mut read = None;
        let sorted = cluster.sorted.get(&cluster.name, order, version, || {
            let snapshot = pods.snapshot(versioned, |_, _| true)?;
            read = Some(snapshot.namespaces_version);
            Some((snapshot.version, snapshot.objects))
        });
        if let Some(sorted) = sorted {
            return Ok((Some(read.unwrap_or(of_namespaces)), sorted));
        }
    }
    let api: Api<Pod> = match namespace {
        Some(namespace) => Api::namespaced(cluster.client(), namespace),
        None => Api::all(cluster.client()),
    };
    let mut pods = list_all(cluster, &api, |pod| Some(Arc::new(PodEntry::new(pod)))).await?;
    super::order::sort(&cluster.name, order, &mut pods);
    Ok((None, Arc::new(pods)))
}

/// The version a pod list of this cluster would reflect now, when it would be
/// served from the cache: that of `versioned` (`None`: of the whole cluster).
pub async fn pods_version(cluster: &Cluster, versioned: Option<&[String]>) -> Option<CacheVersion> {
    // Waits for a first list under way, as a list would: asked during a sync,
    // the version (and with it the kept answer) is the synced cache's.
    ready(cluster, |cache| &cache.pods)
        .await
        .ok()
        .flatten()
        .and_then(|pods| pods.namespaces_version(versioned))
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
    if let Some(cached) = ready(cluster, |cache| &cache.pods)
        .await?
        .and_then(|pods| pods.get(namespace, name))
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
    if let Some(snapshot) = ready(cluster, |cache| &cache.nodes)
        .await?
        .and_then(|nodes| nodes.snapshot(None, |_, _| true))
    {
        return Ok(snapshot.objects);
    }
    let api = Api::<Node>::all(cluster.client());
    list_all(cluster, &api, |node| Some(Arc::new(NodeEntry::new(node)))).await
}

/// Every ReplicaSet of a namespace.
pub async fn list_replicasets(
    cluster: &Cluster,
    namespace: &str,
) -> Result<Vec<Arc<ReplicaSetEntry>>, AppError> {
    validate_namespace("namespace", namespace)?;
    if let Some(snapshot) = ready(cluster, |cache| &cache.replicasets)
        .await?
        .and_then(|sets| sets.snapshot(None, |(ns, _), _| ns == namespace))
    {
        return Ok(snapshot.objects);
    }
    let api = Api::<ReplicaSet>::namespaced(cluster.client(), namespace);
    list_all(cluster, &api, |set| {
        Some(Arc::new(ReplicaSetEntry::new(set)))
    })
    .await
}

/// Every object of `api`, read in pages of [`PAGE_SIZE`]; each object is
/// turned into what the gateway keeps (or dropped) by `keep` as its page
/// arrives, so a whole list is never held as typed objects.
pub(crate) async fn list_all<K, T>(
    cluster: &Cluster,
    api: &Api<K>,
    keep: impl Fn(K) -> Option<T>,
) -> Result<Vec<T>, AppError>
where
    K: Clone + DeserializeOwned + std::fmt::Debug,
{
    let mut items = Vec::new();
    let mut params = ListParams::default().limit(PAGE_SIZE);
    loop {
        let page = cluster.call(api.list(&params)).await?;
        items.extend(page.items.into_iter().filter_map(&keep));
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(items),
        }
    }
}
