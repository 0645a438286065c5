//! Reading pods, nodes and ReplicaSets from a cluster.
//!
//! Names are checked before anything is sent; lists are read in pages.

use k8s_openapi::api::{
    apps::v1::ReplicaSet,
    core::v1::{Node, Pod},
};
use kube::{Api, api::ListParams};
use serde::de::DeserializeOwned;

use super::{
    Cluster,
    names::{validate_name_filter, validate_namespace, validate_pod_name},
};
use crate::error::AppError;

/// Objects read per page when listing.
const PAGE_SIZE: u32 = 500;

/// Pods of a namespace (`None`: every namespace) whose name contains
/// `name_filter`, ordered by namespace and name.
pub async fn list_pods(
    cluster: &Cluster,
    namespace: Option<&str>,
    name_filter: Option<&str>,
) -> Result<Vec<Pod>, AppError> {
    if let Some(namespace) = namespace {
        validate_namespace("namespace", namespace)?;
    }
    if let Some(filter) = name_filter {
        validate_name_filter("name", filter)?;
    }
    let api: Api<Pod> = match namespace {
        Some(namespace) => Api::namespaced(cluster.client(), namespace),
        None => Api::all(cluster.client()),
    };
    let mut pods = list_all(cluster, &api).await?;
    if let Some(filter) = name_filter.filter(|f| !f.is_empty()) {
        pods.retain(|pod| {
            pod.metadata
                .name
                .as_deref()
                .is_some_and(|n| n.contains(filter))
        });
    }
    pods.sort_by(|a, b| {
        (&a.metadata.namespace, &a.metadata.name).cmp(&(&b.metadata.namespace, &b.metadata.name))
    });
    Ok(pods)
}

/// One pod.
pub async fn get_pod(cluster: &Cluster, namespace: &str, name: &str) -> Result<Pod, AppError> {
    validate_namespace("namespace", namespace)?;
    validate_pod_name("name", name)?;
    let api: Api<Pod> = Api::namespaced(cluster.client(), namespace);
    cluster
        .call(api.get_opt(name))
        .await?
        .ok_or_else(|| AppError::PodNotFound {
            cluster: cluster.name.clone(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        })
}

/// Every node of the cluster.
pub async fn list_nodes(cluster: &Cluster) -> Result<Vec<Node>, AppError> {
    list_all(cluster, &Api::<Node>::all(cluster.client())).await
}

/// Every ReplicaSet of a namespace.
pub async fn list_replicasets(
    cluster: &Cluster,
    namespace: &str,
) -> Result<Vec<ReplicaSet>, AppError> {
    validate_namespace("namespace", namespace)?;
    list_all(
        cluster,
        &Api::<ReplicaSet>::namespaced(cluster.client(), namespace),
    )
    .await
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
