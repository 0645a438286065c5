//! Clusters and pods in GraphQL: `clusters`, `pods`, `pod`.
//!
//! A [`Pod`] carries the kubectl-style summary and resolves `node` and
//! `workload` through the DataLoaders, and `json`/`yaml` from the object itself.

use std::sync::Arc;

use async_graphql::{
    ComplexObject, Context, Enum, Json, Object, SimpleObject, dataloader::DataLoader,
};
use futures_util::future::join_all;
use k8s_openapi::api::core::v1::{Node, Pod as K8sPod};

use super::{
    GqlResultExt, app,
    loaders::{NodeKey, NodeLoader, ReplicaSetKey, WorkloadLoader},
    viewer,
};
use crate::{
    error::AppError,
    k8s::{
        pods,
        summary::{self, ContainerState as SummaryState, ContainerSummary, PodSummary},
        yaml,
    },
};

/// A configured cluster.
#[derive(SimpleObject, Debug, Clone)]
pub struct Cluster {
    /// The name used in queries (the kubeconfig context's name).
    pub name: String,
    /// The API server's URL.
    pub server: String,
    /// Whether the API server answered just now.
    pub reachable: bool,
}

/// A container's state.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ContainerState {
    /// Running.
    Running,
    /// Waiting (also: no status reported yet).
    Waiting,
    /// Terminated.
    Terminated,
}

impl From<SummaryState> for ContainerState {
    fn from(state: SummaryState) -> Self {
        match state {
            SummaryState::Running => ContainerState::Running,
            SummaryState::Waiting => ContainerState::Waiting,
            SummaryState::Terminated => ContainerState::Terminated,
        }
    }
}

/// One container (or init container) of a pod.
#[derive(SimpleObject, Debug, Clone)]
pub struct Container {
    /// Container name.
    pub name: String,
    /// Image reference.
    pub image: String,
    /// Running, waiting or terminated.
    pub status: ContainerState,
    /// Waiting or terminated reason (CrashLoopBackOff, Completed, OOMKilled...);
    /// empty while running.
    pub reason: String,
    /// Whether the container passes its readiness probe.
    pub ready: bool,
    /// Restart count.
    pub restarts: i32,
    /// An init container that keeps running beside the app (restartPolicy Always).
    pub sidecar: bool,
}

impl From<&ContainerSummary> for Container {
    fn from(c: &ContainerSummary) -> Self {
        Container {
            name: c.name.clone(),
            image: c.image.clone(),
            status: c.status.into(),
            reason: c.reason.clone(),
            ready: c.ready,
            restarts: c.restarts,
            sidecar: c.sidecar,
        }
    }
}

/// The node a pod runs on.
#[derive(SimpleObject, Debug, Clone)]
pub struct NodeInfo {
    /// Node name.
    pub name: String,
    /// Whether the node's Ready condition is True.
    pub ready: bool,
    /// Roles from `node-role.kubernetes.io/*` labels.
    pub roles: Vec<String>,
    /// Kubelet version.
    pub kubelet_version: String,
    /// First InternalIP address.
    #[graphql(name = "internalIP")]
    pub internal_ip: String,
}

impl NodeInfo {
    /// The fields of a Node.
    pub fn from_node(node: &Node) -> Self {
        let status = node.status.as_ref();
        let mut roles: Vec<String> = node
            .metadata
            .labels
            .iter()
            .flatten()
            .filter_map(|(k, _)| k.strip_prefix("node-role.kubernetes.io/"))
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect();
        roles.sort();
        NodeInfo {
            name: node.metadata.name.clone().unwrap_or_default(),
            ready: status
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True")),
            roles,
            kubelet_version: status
                .and_then(|s| s.node_info.as_ref())
                .map(|i| i.kubelet_version.clone())
                .unwrap_or_default(),
            internal_ip: status
                .and_then(|s| s.addresses.as_ref())
                .and_then(|a| a.iter().find(|a| a.type_ == "InternalIP"))
                .map(|a| a.address.clone())
                .unwrap_or_default(),
        }
    }
}

/// The top-level controller of a pod: the Deployment behind a ReplicaSet, else
/// the direct controller.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct Workload {
    /// Kind (Deployment, StatefulSet, DaemonSet, Job, Node...).
    pub kind: String,
    /// Name.
    pub name: String,
}

/// A pod, as `kubectl get pods` would show it, and more.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Pod {
    /// The cluster it runs in.
    pub cluster: String,
    /// Name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// App containers.
    pub containers: Vec<Container>,
    /// Init containers, including native sidecars.
    pub init_containers: Vec<Container>,
    /// The RESTARTS column.
    pub restarts: i32,
    /// The READY column, e.g. "1/2".
    pub ready: String,
    /// Kind of the controlling owner, or empty.
    pub controlled: String,
    /// QoS class.
    pub qos: String,
    /// Creation time (RFC 3339).
    pub created: Option<String>,
    /// The STATUS column, exactly as kubectl prints it.
    pub status: String,
    /// Node name (empty while unscheduled).
    pub node_name: String,
    /// Pod IP (empty until assigned).
    #[graphql(name = "podIP")]
    pub pod_ip: String,
    #[graphql(skip)]
    controller_name: String,
    #[graphql(skip)]
    object: Arc<K8sPod>,
}

impl Pod {
    /// Summarises a pod of a cluster.
    pub fn new(cluster: &str, pod: K8sPod) -> Self {
        let PodSummary {
            name,
            namespace,
            containers,
            init_containers,
            restarts,
            ready,
            controlled,
            controller_name,
            qos,
            created,
            status,
            node_name,
            pod_ip,
            ..
        } = summary::summarize(&pod);
        Pod {
            cluster: cluster.to_owned(),
            name,
            namespace,
            containers: containers.iter().map(Container::from).collect(),
            init_containers: init_containers.iter().map(Container::from).collect(),
            restarts,
            ready,
            controlled,
            qos,
            created,
            status,
            node_name,
            pod_ip,
            controller_name,
            object: Arc::new(pod),
        }
    }

    /// The object as clients get it: apiVersion and kind always set (list
    /// items lack them), managedFields dropped as kubectl does.
    fn object_json(&self) -> Result<serde_json::Value, AppError> {
        let mut value = serde_json::to_value(&*self.object).map_err(AppError::internal)?;
        if let Some(object) = value.as_object_mut() {
            object.insert("apiVersion".into(), "v1".into());
            object.insert("kind".into(), "Pod".into());
            if let Some(meta) = object.get_mut("metadata").and_then(|m| m.as_object_mut()) {
                meta.remove("managedFields");
            }
        }
        Ok(value)
    }
}

#[ComplexObject]
impl Pod {
    /// The node the pod runs on (null while unscheduled or when the node is gone).
    async fn node(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<NodeInfo>> {
        if self.node_name.is_empty() {
            return Ok(None);
        }
        ctx.data_unchecked::<DataLoader<NodeLoader>>()
            .load_one(NodeKey {
                cluster: self.cluster.clone(),
                name: self.node_name.clone(),
            })
            .await
    }

    /// The top-level controller (null for a pod without a controller).
    async fn workload(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Workload>> {
        match self.controlled.as_str() {
            "" => Ok(None),
            "ReplicaSet" => {
                ctx.data_unchecked::<DataLoader<WorkloadLoader>>()
                    .load_one(ReplicaSetKey {
                        cluster: self.cluster.clone(),
                        namespace: self.namespace.clone(),
                        name: self.controller_name.clone(),
                    })
                    .await
            }
            kind => Ok(Some(Workload {
                kind: kind.to_owned(),
                name: self.controller_name.clone(),
            })),
        }
    }

    /// The full v1.Pod as JSON (managedFields dropped, as kubectl does).
    async fn json(&self) -> async_graphql::Result<Json<serde_json::Value>> {
        self.object_json().map(Json).gql()
    }

    /// The same object as YAML text.
    async fn yaml(&self) -> async_graphql::Result<String> {
        self.object_json().and_then(|v| yaml::to_yaml(&v)).gql()
    }
}

/// Cluster and pod queries.
#[derive(Default)]
pub struct PodQuery;

#[Object]
impl PodQuery {
    /// Every configured cluster, checked for reachability in parallel.
    async fn clusters(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Cluster>> {
        viewer(ctx).gql()?;
        let clusters = app(ctx).clusters.all().map(|cluster| async move {
            Cluster {
                name: cluster.name.clone(),
                server: cluster.server.clone(),
                reachable: cluster.reachable().await,
            }
        });
        Ok(join_all(clusters).await)
    }

    /// Pods of a cluster: of one namespace, or of all when `namespace` is
    /// omitted; `name` keeps those whose name contains it.
    async fn pods(
        &self,
        ctx: &Context<'_>,
        cluster: String,
        namespace: Option<String>,
        name: Option<String>,
    ) -> async_graphql::Result<Vec<Pod>> {
        let viewer = viewer(ctx).gql()?;
        let found = app(ctx).clusters.get(&cluster).gql()?;
        if !viewer.can_read(&cluster, namespace.as_deref()) {
            return Err(AppError::Forbidden("you may not read pods there")).gql();
        }
        let pods = pods::list_pods(&found, namespace.as_deref(), name.as_deref())
            .await
            .gql()?;
        Ok(pods.into_iter().map(|p| Pod::new(&cluster, p)).collect())
    }

    /// One pod.
    async fn pod(
        &self,
        ctx: &Context<'_>,
        cluster: String,
        namespace: String,
        name: String,
    ) -> async_graphql::Result<Pod> {
        let viewer = viewer(ctx).gql()?;
        let found = app(ctx).clusters.get(&cluster).gql()?;
        if !viewer.can_read(&cluster, Some(&namespace)) {
            return Err(AppError::Forbidden("you may not read pods there")).gql();
        }
        let pod = pods::get_pod(&found, &namespace, &name).await.gql()?;
        Ok(Pod::new(&cluster, pod))
    }
}
