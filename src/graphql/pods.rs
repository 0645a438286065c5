//! Clusters and pods in GraphQL: `clusters`, `pods`, `pod`.
//!
//! A [`Pod`] carries the kubectl-style summary and resolves `node` and
//! `workload` through the DataLoaders, and `json`/`yaml` from the object itself.

use std::{borrow::Cow, sync::Arc};

use async_graphql::{
    Context, ContextSelectionSet, Enum, Json, Object, OutputType, Positioned, ServerResult,
    SimpleObject, Subscription, Value, dataloader::DataLoader, parser::types::Field,
    registry::Registry,
};
use chrono::{DateTime, Utc};
use futures_util::{StreamExt, future::join_all, stream, stream::BoxStream};

use super::{
    GqlResultExt, LiveViewer, app,
    budget::{self, PodShape},
    loaders::{NodeKey, NodeLoader, ReplicaSetKey, WorkloadLoader},
    plain::{PodPlan, list_type_of},
    reads::PodReads,
    reuse::{self, Kind},
    viewer,
};
use crate::{
    auth::{NamespaceScope, Reach, Viewer},
    error::AppError,
    k8s::{
        cache::CacheStats,
        entry::{NodeEntry, PodEntry},
        events::{self, PodChange, PodChangeKind},
        names::Namespace,
        pods,
        summary::{ContainerSummary, PodSummary},
        yaml,
    },
};

/// The state of one watched kind of a cluster's cache. For a user who may
/// read some namespaces only, counts and times are those of these namespaces.
#[derive(SimpleObject, Debug, Clone)]
pub struct CacheState {
    /// The first list has completed.
    pub synced: bool,
    /// Synced, and its watch is healthy (or failing for less than the bound):
    /// reads are answered from memory.
    pub fresh: bool,
    /// Objects held (of the namespaces the signed-in user may read).
    pub count: i32,
    /// When the last change arrived (for some namespaces: their last change,
    /// or the first sync when they have not changed since).
    pub last_event_time: Option<DateTime<Utc>>,
}

impl From<CacheStats> for CacheState {
    fn from(stats: CacheStats) -> Self {
        CacheState {
            synced: stats.synced,
            fresh: stats.fresh,
            count: i32::try_from(stats.objects).unwrap_or(i32::MAX),
            last_event_time: stats.last_event,
        }
    }
}

/// A cluster's watch cache, as far as the signed-in user may read the
/// cluster: a user who may read some namespaces only sees figures of these
/// namespaces, which a change elsewhere never moves.
#[derive(SimpleObject, Debug, Clone)]
pub struct ClusterCache {
    /// Pods.
    pub pods: CacheState,
    /// Nodes (null unless the signed-in user may read the whole cluster:
    /// nodes belong to no namespace).
    pub nodes: Option<CacheState>,
    /// ReplicaSets.
    pub replica_sets: CacheState,
    /// The version a pod list of every namespace the signed-in user may read
    /// would reflect now (for `podEvents(since:)`).
    pub version: String,
}

/// A configured cluster.
#[derive(SimpleObject, Debug, Clone)]
pub struct Cluster {
    /// The name used in queries (the kubeconfig context's name).
    pub name: String,
    /// The API server's URL (admins only: null for everyone else).
    pub server: Option<String>,
    /// Whether the API server answered just now.
    pub reachable: bool,
    /// The watch cache (null when switched off or not started yet).
    pub cache: Option<ClusterCache>,
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

impl From<&NodeEntry> for NodeInfo {
    fn from(node: &NodeEntry) -> Self {
        NodeInfo {
            name: node.name.clone(),
            ready: node.ready,
            roles: node.roles.clone(),
            kubelet_version: node.kubelet_version.clone(),
            internal_ip: node.internal_ip.clone(),
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
///
/// Its plain fields are written straight from the stored summary (see
/// [`super::plain`]); [`PodObject`] declares the GraphQL type and resolves
/// the fields that need the operation's context.
#[derive(Clone)]
pub struct Pod {
    cluster: Arc<str>,
    entry: Arc<PodEntry>,
}

impl Pod {
    /// A pod of a cluster (the pods of a list share one cluster name).
    pub fn new(cluster: impl Into<Arc<str>>, entry: Arc<PodEntry>) -> Self {
        Pod {
            cluster: cluster.into(),
            entry,
        }
    }

    /// The cluster it runs in.
    pub(crate) fn cluster(&self) -> &str {
        &self.cluster
    }

    /// The cached pod.
    pub(crate) fn entry(&self) -> &PodEntry {
        &self.entry
    }
}

impl OutputType for Pod {
    fn type_name() -> Cow<'static, str> {
        PodObject::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        PodObject::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        PodPlan::read(ctx)?.resolve(ctx, self).await
    }
}

/// A list of pods: the selection set is read once for all of them.
pub struct Pods(pub Vec<Pod>);

impl OutputType for Pods {
    list_type_of!(Pod);

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        PodPlan::read(ctx)?.resolve_all(ctx, &self.0).await
    }
}

/// The GraphQL type `Pod`, field by field. A pod's value is written by
/// [`PodPlan`]; these resolvers serve the fields that need the operation's
/// context, and every field of a selection the plan leaves to them.
pub struct PodObject(Pod);

impl From<Pod> for PodObject {
    fn from(pod: Pod) -> Self {
        PodObject(pod)
    }
}

impl PodObject {
    fn summary(&self) -> &PodSummary {
        &self.0.entry.summary
    }

    /// The pod's object as the viewer may see it (see
    /// [`super::reads::shown`]), its read noted for the audit trail (so the
    /// answer is never served again from kept bytes, unrecorded).
    fn object(&self, ctx: &Context<'_>) -> async_graphql::Result<serde_json::Value> {
        reuse::unversioned(ctx);
        let summary = self.summary();
        let object = self.0.entry.object().gql()?;
        let (object, revealed) =
            super::reads::shown(ctx, &self.0.cluster, Some(&summary.namespace), object);
        if let Some(reads) = ctx.data_opt::<Arc<PodReads>>() {
            reads.read(&self.0.cluster, &summary.namespace, &summary.name, revealed);
        }
        Ok(object)
    }
}

/// A pod, as `kubectl get pods` would show it, and more.
#[Object(name = "Pod")]
impl PodObject {
    /// The cluster it runs in.
    pub(crate) async fn cluster(&self) -> &str {
        &self.0.cluster
    }

    /// Name.
    pub(crate) async fn name(&self) -> &str {
        &self.summary().name
    }

    /// Namespace.
    pub(crate) async fn namespace(&self) -> &str {
        &self.summary().namespace
    }

    /// App containers.
    async fn containers(&self) -> &[ContainerSummary] {
        &self.summary().containers
    }

    /// Init containers, including native sidecars.
    async fn init_containers(&self) -> &[ContainerSummary] {
        &self.summary().init_containers
    }

    /// The RESTARTS column.
    async fn restarts(&self) -> i32 {
        self.summary().restarts
    }

    /// When the last counted restart happened (RFC 3339), as kubectl shows it in
    /// "5 (3m ago)"; null without restarts or when no time was recorded.
    async fn last_restart(&self) -> Option<&str> {
        self.summary().last_restart.as_deref()
    }

    /// The READY column, e.g. "1/2".
    async fn ready(&self) -> &str {
        &self.summary().ready
    }

    /// Kind of the controlling owner, or empty.
    async fn controlled(&self) -> &str {
        &self.summary().controlled
    }

    /// QoS class.
    async fn qos(&self) -> &str {
        &self.summary().qos
    }

    /// Creation time (RFC 3339).
    pub(crate) async fn created(&self) -> Option<&str> {
        self.summary().created.as_deref()
    }

    /// The STATUS column, exactly as kubectl prints it.
    async fn status(&self) -> &str {
        &self.summary().status
    }

    /// Node name (empty while unscheduled).
    async fn node_name(&self) -> &str {
        &self.summary().node_name
    }

    /// Pod IP (empty until assigned).
    #[graphql(name = "podIP")]
    async fn pod_ip(&self) -> &str {
        &self.summary().pod_ip
    }

    /// The wide READINESS GATES column: gates whose condition is true over all
    /// gates ("1/2"), or empty when the pod has none. It never changes READY.
    async fn readiness_gates(&self) -> &str {
        &self.summary().readiness_gates
    }

    /// The node the pod runs on (null while unscheduled or when the node is gone).
    async fn node(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<NodeInfo>> {
        let summary = self.summary();
        if summary.node_name.is_empty() {
            return Ok(None);
        }
        reuse::reading_all(ctx, &self.0.cluster, Kind::Nodes);
        loader::<NodeLoader>(ctx)?
            .load_one(NodeKey {
                cluster: self.0.cluster.to_string(),
                name: summary.node_name.clone(),
            })
            .await
    }

    /// The top-level controller (null for a pod without a controller).
    async fn workload(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Workload>> {
        let summary = self.summary();
        match summary.controlled.as_str() {
            "" => Ok(None),
            "ReplicaSet" => {
                let namespace = Some(summary.namespace.as_str());
                let scope = &NamespaceScope::All;
                reuse::reading(ctx, &self.0.cluster, Kind::ReplicaSets, namespace, scope);
                loader::<WorkloadLoader>(ctx)?
                    .load_one(ReplicaSetKey {
                        cluster: self.0.cluster.to_string(),
                        namespace: summary.namespace.clone(),
                        name: summary.controller_name.clone(),
                    })
                    .await
            }
            kind => Ok(Some(Workload {
                kind: kind.to_owned(),
                name: summary.controller_name.clone(),
            })),
        }
    }

    /// The kind: Pod.
    pub(crate) async fn kind(&self) -> &str {
        "Pod"
    }

    /// uid.
    pub(crate) async fn uid(&self) -> &str {
        self.0.entry.uid().unwrap_or_default()
    }

    /// Labels, sorted by key.
    pub(crate) async fn labels(&self) -> Vec<super::resources::Label> {
        self.0
            .entry
            .labels()
            .map(|(key, value)| super::resources::Label {
                key: key.to_owned(),
                value: value.to_owned(),
            })
            .collect()
    }

    /// Events about it, newest first.
    #[graphql(complexity = "10 * child_complexity")]
    pub(crate) async fn events(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::resources::Object<crate::kinds::event::Event>>> {
        let summary = self.summary();
        crate::kinds::event::events_about(
            ctx,
            &self.0.cluster,
            "Pod",
            Some(&summary.namespace),
            &summary.name,
            self.0.entry.uid(),
        )
        .await
    }

    /// The controlling object (a ReplicaSet, StatefulSet, DaemonSet or Job)
    /// as a `Resource`; null without a controller, when it is gone, or when
    /// its kind is not served (`workload` still names it).
    async fn owner(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<crate::kinds::Resource>> {
        let summary = self.summary();
        crate::kinds::owner(
            ctx,
            &self.0.cluster,
            &summary.namespace,
            &summary.controlled,
            &summary.controller_name,
        )
        .await
    }

    /// The full v1.Pod as JSON (managedFields dropped, as kubectl does; env
    /// values and secret annotations redacted unless a grant of yours reveals
    /// them, see OSP_REDACT).
    #[graphql(complexity = 20)]
    pub(crate) async fn json(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Json<serde_json::Value>> {
        self.object(ctx).map(Json)
    }

    /// The same object as YAML text.
    #[graphql(complexity = 20)]
    pub(crate) async fn yaml(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        yaml::to_yaml(&self.object(ctx)?).gql()
    }
}

/// The operation's DataLoader of kind `L`. Every operation gets its loaders
/// from `Executor`; one missing is a fault of the gateway, not of the request.
fn loader<'a, L: Send + Sync + 'static>(
    ctx: &Context<'a>,
) -> async_graphql::Result<&'a DataLoader<L>> {
    ctx.data_opt::<DataLoader<L>>()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("no DataLoader attached")))
        .gql()
}

/// Cluster and pod queries.
#[derive(Default)]
pub struct PodQuery;

#[Object]
impl PodQuery {
    /// The configured clusters in which the signed-in user holds a grant
    /// (admins: every cluster), checked for reachability in parallel.
    #[graphql(complexity = "10 * child_complexity")]
    async fn clusters(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Cluster>> {
        let viewer = viewer(ctx).gql()?;
        let admin = viewer.is_admin();
        let readable = app(ctx)
            .clusters
            .all()
            .filter_map(|cluster| Some((cluster, viewer.scope(&cluster.name)?)));
        let clusters = readable.map(|(cluster, scope)| async move {
            // Figures of the namespaces the viewer reads, never of others.
            let namespaces = reuse::version_namespaces(None, &scope);
            let namespaces = namespaces.as_deref();
            let whole = namespaces.is_none();
            Cluster {
                name: cluster.name.clone(),
                server: admin.then(|| cluster.server.clone()),
                reachable: cluster.reachable().await,
                cache: cluster.running_cache().map(|cache| {
                    let pods = cache.pods.stats(namespaces);
                    ClusterCache {
                        version: pods.version.to_string(),
                        pods: pods.into(),
                        nodes: whole.then(|| cache.nodes.stats(None).into()),
                        replica_sets: cache.replicasets.stats(namespaces).into(),
                    }
                }),
            }
        });
        Ok(join_all(clusters).await)
    }

    /// Pods of a cluster: of one namespace, or of all when `namespace` is
    /// omitted; `name` keeps those whose name contains it.
    // Lists cost per item: an operation cannot repeat a whole cluster's worth
    // of work hundreds of times under aliases.
    #[graphql(complexity = "20 * child_complexity")]
    async fn pods(
        &self,
        ctx: &Context<'_>,
        cluster: String,
        namespace: Option<String>,
        name: Option<String>,
    ) -> async_graphql::Result<Pods> {
        let shape = PodShape::at(&ctx.field(), &[]);
        Ok(list(ctx, shape, cluster, namespace, name, false)
            .await?
            .items)
    }

    /// Like `pods`, with the cache version the list reflects: give it to
    /// `podEvents(since:)` to follow changes from exactly this list on. For
    /// a user who may read the whole cluster it is the cluster's version;
    /// for one who may read some namespaces only, that of the namespaces
    /// listed, which a change elsewhere never moves.
    #[graphql(complexity = "20 * child_complexity")]
    async fn pod_list(
        &self,
        ctx: &Context<'_>,
        cluster: String,
        namespace: Option<String>,
        name: Option<String>,
    ) -> async_graphql::Result<PodList> {
        let shape = PodShape::at(&ctx.field(), &["items"]);
        let version_asked = ctx.look_ahead().field("version").exists();
        list(ctx, shape, cluster, namespace, name, version_asked).await
    }

    /// The version a pod list of the cluster would reflect now (null when it
    /// would be read from the API server rather than the cache), as
    /// `podList` shows it: it changes whenever a pod of the cluster changes
    /// (for a user who may read some namespaces only: a pod of these, or of
    /// `namespace` when given).
    async fn pods_version(
        &self,
        ctx: &Context<'_>,
        cluster: String,
        namespace: Option<String>,
    ) -> async_graphql::Result<Option<String>> {
        let (found, scope) = readable_cluster(ctx, &cluster, namespace.as_deref())?;
        reuse::reading_version(ctx, &cluster, Kind::Pods, namespace.as_deref(), &scope);
        let versioned = reuse::version_namespaces(namespace.as_deref(), &scope);
        Ok(pods::pods_version(&found, versioned.as_deref())
            .await
            .map(|v| v.to_string()))
    }

    /// One pod. Every such read is recorded in the audit trail.
    async fn pod(
        &self,
        ctx: &Context<'_>,
        cluster: String,
        namespace: String,
        name: String,
    ) -> async_graphql::Result<Pod> {
        let viewer = viewer(ctx).gql()?;
        let read = async {
            let (found, _) = readable(ctx, viewer, &cluster, Some(&namespace))?;
            let pod = pods::get_pod(&found, &namespace, &name).await?;
            let shape = PodShape::at(&ctx.field(), &[]);
            budget::of(ctx)?.charge(shape.estimate(&pod)).await?;
            Ok(pod)
        };
        let read: Result<_, AppError> = read.await;
        // Every such read is recorded, so its answer is never served again
        // from kept bytes.
        reuse::unversioned(ctx);
        if let Some(reads) = ctx.data_opt::<Arc<PodReads>>() {
            match &read {
                Ok(_) => reads.read(&cluster, &namespace, &name, false),
                Err(err) => reads.refused(format!("{cluster}/{namespace}/{name}"), err.code()),
            }
        }
        Ok(Pod::new(cluster, read.gql()?))
    }
}

/// The cluster and the namespaces of it the viewer may read, when it may
/// read `namespace` there (`None`: any part of the cluster; lists are then
/// narrowed to the scope). The namespace is checked here, where it enters,
/// and the read authorised by [`Viewer::authorize_read`], as every kind's
/// is. Grants are checked before the cluster is looked up, so a viewer
/// without a grant gets Forbidden whether or not the cluster exists.
fn readable_cluster(
    ctx: &Context<'_>,
    cluster: &str,
    namespace: Option<&str>,
) -> async_graphql::Result<(Arc<crate::k8s::Cluster>, NamespaceScope)> {
    readable(ctx, viewer(ctx).gql()?, cluster, namespace).gql()
}

pub(super) fn readable(
    ctx: &Context<'_>,
    viewer: &Viewer,
    cluster: &str,
    namespace: Option<&str>,
) -> Result<(Arc<crate::k8s::Cluster>, NamespaceScope), AppError> {
    let namespace = namespace
        .map(|namespace| Namespace::parse("namespace", namespace))
        .transpose()?;
    let scope = viewer.authorize_read(cluster, namespace.as_ref(), Reach::AnyGrant)?;
    let found = app(ctx).clusters.get(cluster)?;
    Ok((found, scope))
}

/// Pods with the cache version they reflect.
#[derive(SimpleObject)]
pub struct PodList {
    /// The cache version (null when read from the API server).
    pub version: Option<String>,
    /// The pods, ordered by namespace and name.
    pub items: Pods,
}

/// The pods of a list field whose items select `shape`, once the answer's
/// budget allows them; `version_asked` when the answer shows their version.
async fn list(
    ctx: &Context<'_>,
    shape: PodShape,
    cluster: String,
    namespace: Option<String>,
    name: Option<String>,
    version_asked: bool,
) -> async_graphql::Result<PodList> {
    let (found, scope) = readable_cluster(ctx, &cluster, namespace.as_deref())?;
    reuse::reading(ctx, &cluster, Kind::Pods, namespace.as_deref(), &scope);
    if version_asked {
        reuse::reading_version(ctx, &cluster, Kind::Pods, namespace.as_deref(), &scope);
    }
    let visible = |ns: &str| scope.covers(ns);
    let versioned = reuse::version_namespaces(namespace.as_deref(), &scope);
    let list = pods::list_pods(
        &found,
        namespace.as_deref(),
        name.as_deref(),
        &visible,
        versioned.as_deref(),
    )
    .await
    .gql()?;
    if list.version.is_none() {
        reuse::unversioned(ctx);
    }
    budget::of(ctx)?
        .charge(shape.estimate_all(&list.items))
        .await
        .gql()?;
    let cluster: Arc<str> = cluster.into();
    Ok(PodList {
        version: list.version.map(|v| v.to_string()),
        items: Pods(
            list.items
                .into_iter()
                .map(|p| Pod::new(cluster.clone(), p))
                .collect(),
        ),
    })
}

/// What happened to a pod.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum PodEventType {
    /// The pod appeared.
    Added,
    /// The pod changed.
    Modified,
    /// The pod is gone (`pod` is its last state).
    Deleted,
    /// Changes since the requested version can no longer be replayed (the
    /// version is unknown or too old): list again, then follow from the new
    /// list's version. A subscriber that falls too far behind also gets RESYNC,
    /// as the last event of its stream.
    Resync,
}

/// One change of a pod.
#[derive(SimpleObject)]
pub struct PodEvent {
    /// What happened.
    #[graphql(name = "type")]
    pub kind: PodEventType,
    /// The cache version after this change: resume from it with `since`
    /// (for RESYNC: the version of the namespaces followed now).
    pub version: String,
    /// The pod (null for RESYNC).
    pub pod: Option<Pod>,
}

impl PodEvent {
    fn from_change(cluster: &str, change: PodChange) -> Self {
        PodEvent {
            kind: match change.kind {
                PodChangeKind::Added => PodEventType::Added,
                PodChangeKind::Modified => PodEventType::Modified,
                PodChangeKind::Deleted => PodEventType::Deleted,
                PodChangeKind::Resync => PodEventType::Resync,
            },
            version: change.version.to_string(),
            pod: change.object.map(|pod| Pod::new(cluster, pod)),
        }
    }
}

/// Live pod changes.
#[derive(Default)]
pub struct PodSubscription;

#[Subscription]
impl PodSubscription {
    /// Pod changes of a cluster (of one namespace, when given; else of every
    /// namespace the signed-in user may read), from the watch cache. With
    /// `since` (the version of a `podList` or of an earlier event) the changes
    /// after it come first, so list-then-subscribe misses and repeats nothing;
    /// a RESYNC event says when that is not possible. Changes in namespaces
    /// not followed never cause a RESYNC: a version older than the kept
    /// history is still resumed from while every later change of the
    /// namespaces followed is kept. When the user's grants stop covering what was asked for, the
    /// subscription ends with a Forbidden error (at the connection's next
    /// re-check).
    async fn pod_events(
        &self,
        ctx: &Context<'_>,
        cluster: String,
        namespace: Option<String>,
        since: Option<String>,
    ) -> async_graphql::Result<BoxStream<'static, async_graphql::Result<PodEvent>>> {
        let (found, scope) = readable_cluster(ctx, &cluster, namespace.as_deref())?;
        let keep = {
            let (scope, namespace) = (scope.clone(), namespace.clone());
            move |ns: &str| namespace.as_deref().is_none_or(|n| n == ns) && scope.covers(ns)
        };
        let changes = events::pod_events(&found, keep, since.as_deref())
            .await
            .gql()?
            .map(move |change| Ok(PodEvent::from_change(&cluster, change)));
        Ok(until_revoked(
            ctx,
            changes,
            found.name.clone(),
            namespace,
            scope,
        ))
    }
}

/// `changes`, ended with Forbidden once the viewer's grants, as re-read by
/// the connection, no longer cover what a subscription reads (`namespace` of
/// `cluster`, or everything of `scope` there).
pub(super) fn until_revoked<T: Send + 'static>(
    ctx: &Context<'_>,
    changes: impl futures_util::Stream<Item = async_graphql::Result<T>> + Send + 'static,
    cluster_name: String,
    namespace: Option<String>,
    scope: NamespaceScope,
) -> BoxStream<'static, async_graphql::Result<T>> {
    let Some(LiveViewer(mut live)) = ctx.data_opt::<LiveViewer>().cloned() else {
        return changes.boxed();
    };
    let (revoke, revoked_with) = tokio::sync::oneshot::channel();
    let revoked = async move {
        loop {
            if live.changed().await.is_err() {
                return std::future::pending::<()>().await;
            }
            let still = live.borrow_and_update().as_ref().is_some_and(|viewer| {
                viewer
                    .scope(&cluster_name)
                    .is_some_and(|now| match &namespace {
                        Some(ns) => now.covers(ns),
                        None => now.includes(&scope),
                    })
            });
            if !still {
                let _ = revoke.send(AppError::Forbidden(
                    "your grants no longer cover this subscription",
                ));
                return;
            }
        }
    };
    // Only a revocation sends: a stream that ends by itself drops the sender.
    let ended = stream::once(revoked_with)
        .filter_map(|revoked| std::future::ready(revoked.ok().map(|err| Err(err).gql())));
    changes.take_until(revoked).chain(ended).boxed()
}
