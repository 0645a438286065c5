//! Every kind besides Pod in GraphQL, through one machinery: the
//! `<kind>Connection` and `<kind>` root fields, the `Resource` interface's
//! fields, grants, pricing and `resourceEvents`, written once over
//! [`Served`]. A kind declares its GraphQL fields once, with
//! [`served_kind!`](crate::served_kind), in its module under `src/kinds/`.
//!
//! Connections behave as `podConnection` does: merged across clusters in one
//! total order (ties by cluster, namespace, name), keyset cursors, `first` at
//! most [`MAX_PAGE`](super::connection::MAX_PAGE), a part per cluster asked
//! for, and per-cluster errors that never cost the others.

use std::{collections::HashMap, sync::Arc, time::Duration};

use async_graphql::{
    Context, Enum, ErrorExtensions, InputObject, SimpleObject,
    connection::PageInfo,
    dataloader::{DataLoader, Loader},
};
use futures_util::future::join_all;
use label_selector::Selector;

use super::{
    GqlResultExt, app,
    budget::{self, ConnectionShape, ResourceShape},
    connection::{
        ClusterPartState, DEFAULT_PAGE, MAX_PAGE, OrderDirection, cluster_error, max_clusters,
    },
    viewer,
};
use crate::{
    auth::{NamespaceScope, Reach, Viewer},
    error::{AppError, ErrorCode},
    k8s::{
        keyset::{self, Field, Order},
        names::{Namespace, validate_name_filter},
        order::Direction,
        resource::{self, Entry, Kind, namespaced},
        yaml,
    },
};

/// A kind served in GraphQL: who may read its objects, how its filter reads.
pub trait Served: Kind {
    /// Whether a viewer with `scope` in the object's cluster may read it:
    /// objects in a namespace follow the namespace grants; objects of no
    /// namespace need a whole-cluster grant (Namespaces say otherwise).
    fn visible(scope: &NamespaceScope, entry: &Entry<Self>) -> bool {
        if namespaced::<Self>() {
            scope.covers(&entry.meta.namespace)
        } else {
            *scope == NamespaceScope::All
        }
    }

    /// The grant a viewer needs in a cluster to ask for this kind there at
    /// all (else the cluster's part is FORBIDDEN): any, for objects in
    /// namespaces; a whole-cluster one for objects of no namespace
    /// (Namespaces say otherwise).
    fn reach() -> Reach {
        if namespaced::<Self>() {
            Reach::AnyGrant
        } else {
            Reach::WholeCluster
        }
    }
}

/// A label of an object.
#[derive(SimpleObject, Debug, Clone)]
pub struct Label {
    /// The key, e.g. `app.kubernetes.io/name`.
    pub key: String,
    /// The value.
    pub value: String,
}

/// Which objects a connection keeps; every part given must hold.
#[derive(InputObject, Default, Debug)]
pub struct ResourceFilter {
    /// Names containing this.
    pub name: Option<String>,
    /// A Kubernetes label selector, e.g. `app=web,tier!=db,env in (a,b),!canary`.
    pub label_selector: Option<String>,
}

/// Which Events `eventConnection` keeps; every part given must hold.
#[derive(InputObject, Default, Debug)]
pub struct EventFilter {
    /// Names containing this.
    pub name: Option<String>,
    /// A Kubernetes label selector.
    pub label_selector: Option<String>,
    /// Exactly this TYPE (Normal, Warning).
    #[graphql(name = "type")]
    pub type_: Option<String>,
    /// Exactly this REASON (e.g. BackOff).
    pub reason: Option<String>,
    /// The involved object is of this kind (e.g. Pod).
    pub involved_kind: Option<String>,
    /// The involved object has this name.
    pub involved_name: Option<String>,
}

/// What objects are ordered by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum ResourceOrderField {
    /// Cluster name.
    Cluster,
    /// Namespace.
    Namespace,
    /// Name.
    #[default]
    Name,
    /// Creation time.
    Created,
    /// The LAST SEEN column (Events only).
    LastSeen,
}

/// A connection's order: a field in a direction; ties are broken by
/// (cluster, namespace, name), ascending, so the order is total.
#[derive(InputObject, Debug, Default)]
pub struct ResourceOrder {
    /// The field.
    #[graphql(default)]
    pub field: ResourceOrderField,
    /// The field's direction.
    #[graphql(default)]
    pub direction: OrderDirection,
}

impl ResourceOrder {
    fn read<K: Kind>(order: Option<ResourceOrder>, default: Order) -> Result<Order, AppError> {
        let Some(order) = order else {
            return Ok(default);
        };
        let field = match order.field {
            ResourceOrderField::Cluster => Field::Cluster,
            ResourceOrderField::Namespace => Field::Namespace,
            ResourceOrderField::Name => Field::Name,
            ResourceOrderField::Created => Field::Created,
            ResourceOrderField::LastSeen => Field::LastSeen,
        };
        if field == Field::LastSeen && K::KIND != "Event" {
            return Err(AppError::invalid(
                "orderBy.field",
                "LAST_SEEN orders Events only",
            ));
        }
        Ok(Order {
            field,
            direction: match order.direction {
                OrderDirection::Asc => Direction::Asc,
                OrderDirection::Desc => Direction::Desc,
            },
        })
    }
}

/// A kind's own condition of a filter.
type Condition<K> = Box<dyn Fn(&Entry<K>) -> bool + Send + Sync>;

/// A filter read and checked: what every object kept must satisfy.
pub struct Filter<K: Kind> {
    name: Option<String>,
    labels: Option<Selector>,
    more: Option<Condition<K>>,
}

impl<K: Kind> Filter<K> {
    /// Whether `entry` passes.
    pub fn matches(&self, entry: &Entry<K>) -> bool {
        self.name
            .as_deref()
            .is_none_or(|name| entry.meta.name.contains(name))
            && self
                .labels
                .as_ref()
                .is_none_or(|selector| selector.matches(|key| entry.meta.label(key)))
            && self.more.as_ref().is_none_or(|more| more(entry))
    }

    fn is_empty(&self) -> bool {
        self.name.is_none() && self.labels.is_none() && self.more.is_none()
    }

    /// Reads the common part of a filter.
    pub fn read(name: Option<String>, label_selector: Option<&str>) -> Result<Self, AppError> {
        if let Some(name) = &name {
            validate_name_filter("filter.name", name)?;
        }
        let labels = label_selector
            .map(Selector::parse)
            .transpose()
            .map_err(|reason| AppError::invalid("filter.labelSelector", reason))?;
        Ok(Filter {
            name: name.filter(|n| !n.is_empty()),
            labels: labels.filter(|selector| !selector.is_empty()),
            more: None,
        })
    }

    /// Adds a kind's own condition.
    pub fn and(mut self, more: impl Fn(&Entry<K>) -> bool + Send + Sync + 'static) -> Self {
        self.more = Some(Box::new(more));
        self
    }
}

impl<K: Kind> TryFrom<ResourceFilter> for Filter<K> {
    type Error = AppError;

    fn try_from(filter: ResourceFilter) -> Result<Self, AppError> {
        Filter::read(filter.name, filter.label_selector.as_deref())
    }
}

/// An object of a kind, of a cluster.
pub struct Object<K: Kind> {
    /// The cluster.
    pub cluster: Arc<str>,
    /// The object.
    pub entry: Arc<Entry<K>>,
}

impl<K: Kind> Clone for Object<K> {
    fn clone(&self) -> Self {
        Object {
            cluster: self.cluster.clone(),
            entry: self.entry.clone(),
        }
    }
}

impl<K: Served> Object<K> {
    /// The object's namespace: null for objects of no namespace.
    pub fn namespace_of(&self) -> Option<&str> {
        namespaced::<K>().then_some(self.entry.meta.namespace.as_str())
    }

    /// The object's labels.
    pub fn label_list(&self) -> Vec<Label> {
        self.entry
            .meta
            .labels
            .iter()
            .map(|(key, value)| Label {
                key: key.to_string(),
                value: value.to_string(),
            })
            .collect()
    }

    /// The object as the viewer of `ctx` may see it (see
    /// [`super::reads::shown`]); a read shown unredacted is noted for the
    /// audit trail (`object_read`, detail `revealed`).
    fn shown(&self, ctx: &Context<'_>) -> async_graphql::Result<serde_json::Value> {
        let object = self.entry.object().gql()?;
        let namespace = self.namespace_of();
        let (object, revealed) = super::reads::shown(ctx, &self.cluster, namespace, object);
        if revealed && let Some(reads) = ctx.data_opt::<Arc<super::reads::PodReads>>() {
            let target = match namespace {
                Some(namespace) => format!(
                    "{}/{}/{namespace}/{}",
                    self.cluster,
                    K::KIND,
                    self.entry.meta.name
                ),
                None => format!("{}/{}/{}", self.cluster, K::KIND, self.entry.meta.name),
            };
            reads.note(
                crate::audit::Action::ObjectRead,
                target,
                crate::error::ErrorCode::Success,
                Some("revealed".to_owned()),
            );
        }
        Ok(object)
    }

    /// The object as JSON, as the viewer may see it.
    pub fn json_value(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<async_graphql::Json<serde_json::Value>> {
        self.shown(ctx).map(async_graphql::Json)
    }

    /// The object as YAML, as the viewer may see it.
    pub fn yaml_text(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        yaml::to_yaml(&self.shown(ctx)?).gql()
    }
}

/// One object of a page and its cursor.
pub struct Edge<K: Kind> {
    /// The page's order.
    pub order: Order,
    /// The object.
    pub node: Object<K>,
}

impl<K: Kind> Edge<K> {
    /// The cursor of this edge.
    pub fn cursor_text(&self) -> String {
        self.order.cursor(&self.node.cluster, &self.node.entry)
    }
}

/// A page of objects across clusters.
pub struct Connection<K: Kind> {
    /// The page's objects, in order.
    pub edges: Vec<Edge<K>>,
    /// Where the page lies.
    pub page_info: PageInfo,
    /// Objects that match, across the clusters read.
    pub total_count: i32,
    /// Each cluster asked for, and how it took part.
    pub clusters: Vec<ClusterPart>,
}

/// The arguments of a `<kind>Connection`.
pub struct ConnectionArgs<K: Kind> {
    /// Clusters asked for (default: every cluster the viewer may read).
    pub clusters: Option<Vec<String>>,
    /// One namespace (namespaced kinds only).
    pub namespace: Option<String>,
    /// The filter, read.
    pub filter: Filter<K>,
    /// The order asked for.
    pub order_by: Option<ResourceOrder>,
    /// Page size.
    pub first: Option<i32>,
    /// Cursor to start after.
    pub after: Option<String>,
}

/// The default order of a kind's connection: LAST_SEEN descending for
/// Events (newest first), else NAME ascending.
fn default_order<K: Kind>() -> Order {
    if K::KIND == "Event" {
        Order {
            field: Field::LastSeen,
            direction: Direction::Desc,
        }
    } else {
        Order {
            field: Field::Name,
            direction: Direction::Asc,
        }
    }
}

/// The scope of `viewer` for kind `K` in `cluster` (asked for `namespace`,
/// when given): the one authorisation of every read of a kind. `Forbidden`
/// when the viewer may read nothing of it there, whether or not the cluster
/// exists.
pub fn authorize_read<K: Served>(
    viewer: &Viewer,
    cluster: &str,
    namespace: Option<&Namespace>,
) -> Result<NamespaceScope, AppError> {
    viewer.authorize_read(cluster, namespace, K::reach())
}

/// The page of a `<kind>Connection`.
pub async fn connection<K: Served>(
    ctx: &Context<'_>,
    args: ConnectionArgs<K>,
) -> async_graphql::Result<Connection<K>> {
    let viewer = viewer(ctx).gql()?;
    let first = args.first.unwrap_or(DEFAULT_PAGE);
    if !(0..=MAX_PAGE).contains(&first) {
        return Err(AppError::invalid(
            "first",
            format!("must be between 0 and {MAX_PAGE}"),
        ))
        .gql();
    }
    let order = ResourceOrder::read::<K>(args.order_by, default_order::<K>()).gql()?;
    let after = args
        .after
        .as_deref()
        .map(|cursor| order.decode::<K>("after", cursor))
        .transpose()
        .gql()?;
    let namespace = Namespace::parse_optional("namespace", args.namespace).gql()?;
    let filter = args.filter;

    let registry = &app(ctx).clusters;
    let names: Vec<String> = match args.clusters {
        Some(mut names) => {
            let most = max_clusters(registry.all().count());
            if names.len() > most {
                return Err(AppError::invalid(
                    "clusters",
                    format!("at most {most} names (the clusters configured)"),
                ))
                .gql();
            }
            names.sort();
            names.dedup();
            names
        }
        // Every cluster where the viewer holds a grant: for a kind that takes
        // a whole-cluster grant, one of a namespace shows the cluster's part
        // as FORBIDDEN.
        None => registry
            .all()
            .filter(|cluster| viewer.scope(&cluster.name).is_some())
            .map(|cluster| cluster.name.clone())
            .collect(),
    };
    let reads = names.iter().map(|name| {
        let checked = namespace.as_ref();
        let namespace = namespace.as_deref();
        async move {
            let scope = authorize_read::<K>(viewer, name, checked)?;
            let cluster = registry.get(name)?;
            let versioned = super::reuse::version_namespaces(namespace, &scope);
            let read = resource::list::<K>(&cluster, namespace, versioned.as_deref());
            let bound = cluster.timeout() + Duration::from_secs(1);
            let listed = tokio::time::timeout(bound, read).await.map_err(|_| {
                AppError::ClusterUnavailable {
                    cluster: name.clone(),
                    reason: crate::error::TIMED_OUT,
                }
            })??;
            Ok::<_, AppError>((scope, listed))
        }
    });
    let read = join_all(reads).await;

    let mut parts = Vec::with_capacity(names.len());
    let mut items = Vec::new();
    let mut folded: Vec<(ErrorCode, AppError, Vec<String>)> = Vec::new();
    let mut cluster_errors: Vec<(AppError, Vec<String>)> = Vec::new();
    for (name, result) in names.into_iter().zip(read) {
        match result {
            Ok((scope, listed)) => {
                let cluster: Arc<str> = name.as_str().into();
                let all_kept = filter.is_empty() && scope == NamespaceScope::All;
                items.extend(
                    listed
                        .items
                        .into_iter()
                        .filter(|entry| {
                            all_kept || (filter.matches(entry) && K::visible(&scope, entry))
                        })
                        .map(|entry| (cluster.clone(), entry)),
                );
                parts.push(ClusterPart {
                    name,
                    state: ClusterPartState::Ok,
                    code: None,
                    version: listed.version.map(|v| v.to_string()),
                });
            }
            Err(err) => {
                err.log_if_internal();
                let code = err.code();
                let state = if code == ErrorCode::Forbidden {
                    ClusterPartState::Forbidden
                } else {
                    ClusterPartState::Unavailable
                };
                if matches!(code, ErrorCode::Forbidden | ErrorCode::ClusterNotFound) {
                    match folded.iter_mut().find(|(c, _, _)| *c == code) {
                        Some((_, _, names)) => names.push(name.clone()),
                        None => folded.push((code, err, vec![name.clone()])),
                    }
                } else {
                    cluster_errors.push((err, vec![name.clone()]));
                }
                parts.push(ClusterPart {
                    name,
                    state,
                    code: Some(code.as_str().to_owned()),
                    version: None,
                });
            }
        }
    }

    let page = keyset::page(
        items,
        order,
        after.as_ref(),
        usize::try_from(first).unwrap_or_default(),
    );
    let errors: Vec<(AppError, Vec<String>)> = cluster_errors
        .into_iter()
        .chain(folded.into_iter().map(|(_, err, names)| (err, names)))
        .collect();
    let field = ctx.field();
    let shape = ResourceShape::at(&field, &["edges", "node"]);
    let objects: u64 = page
        .items
        .iter()
        .map(|(_, entry)| shape.estimate(entry.meta.labels.len(), entry.json_len()))
        .sum();
    let around = ConnectionShape::of(&field).estimate(
        page.items.iter().map(|(cluster, entry)| {
            budget::identity_cursor_bytes(cluster, &entry.meta.namespace, &entry.meta.name)
        }),
        parts.len(),
    );
    let errors_cost: u64 = errors
        .iter()
        .map(|(err, names)| budget::error_bytes(&err.to_string(), names))
        .sum();
    budget::of(ctx)
        .gql()?
        .charge(objects + around + errors_cost)
        .await
        .gql()?;
    for (err, names) in &errors {
        ctx.add_error(cluster_error(ctx, names, err));
    }

    let edges: Vec<Edge<K>> = page
        .items
        .into_iter()
        .map(|(cluster, entry)| Edge {
            order,
            node: Object { cluster, entry },
        })
        .collect();
    Ok(Connection {
        page_info: PageInfo {
            has_next_page: page.has_next,
            end_cursor: edges.last().map(Edge::cursor_text),
            has_previous_page: page.before > 0,
            start_cursor: edges.first().map(Edge::cursor_text),
        },
        edges,
        total_count: i32::try_from(page.total).unwrap_or(i32::MAX),
        clusters: parts,
    })
}

/// One object of kind `K`: `Forbidden` unless the viewer may read it,
/// `ResourceNotFound` when it does not exist.
pub async fn get<K: Served>(
    ctx: &Context<'_>,
    cluster: &str,
    namespace: Option<&str>,
    name: &str,
) -> async_graphql::Result<Object<K>> {
    let viewer = viewer(ctx).gql()?;
    let checked = namespace
        .map(|namespace| Namespace::parse("namespace", namespace))
        .transpose()
        .gql()?;
    // A Namespace is read under its own name's grant.
    let granted = if namespaced::<K>() {
        checked
    } else if K::KIND == "Namespace" {
        Some(Namespace::parse("name", name).gql()?)
    } else {
        None
    };
    let scope = authorize_read::<K>(viewer, cluster, granted.as_ref()).gql()?;
    let found = app(ctx).clusters.get(cluster).gql()?;
    let entry = resource::get::<K>(&found, namespace, name).await.gql()?;
    if !K::visible(&scope, &entry) {
        return Err(AppError::Forbidden("you hold no grant there")).gql();
    }
    let shape = ResourceShape::of(ctx.field().selection_set());
    budget::of(ctx)
        .gql()?
        .charge(shape.estimate(entry.meta.labels.len(), entry.json_len()))
        .await
        .gql()?;
    Ok(Object {
        cluster: found.name.as_str().into(),
        entry,
    })
}

/// Objects of kind `K` of one namespace (or of the whole cluster) of each
/// cluster asked, loaded once per operation: relations of a list of objects
/// read each cluster's cache once, not once per object.
pub struct KindLoader<K: Kind> {
    clusters: Arc<crate::k8s::ClusterRegistry>,
    _kind: std::marker::PhantomData<K>,
}

/// A cluster and a namespace (`None`: every namespace).
pub type ScopeKey = (Arc<str>, Option<String>);

impl<K: Kind> Loader<ScopeKey> for KindLoader<K> {
    type Value = Arc<Vec<Arc<Entry<K>>>>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[ScopeKey]) -> Result<HashMap<ScopeKey, Self::Value>, Self::Error> {
        let reads = keys.iter().map(|key| async move {
            let cluster = self.clusters.get(&key.0)?;
            let listed = resource::list::<K>(&cluster, key.1.as_deref(), None).await?;
            Ok::<_, AppError>((key.clone(), Arc::new(listed.items)))
        });
        let mut loaded = HashMap::new();
        for read in join_all(reads).await {
            let (key, items) = read.map_err(|e| e.extend())?;
            loaded.insert(key, items);
        }
        Ok(loaded)
    }
}

/// The DataLoaders of relations of one operation, one per kind, made when a
/// relation first needs one (an operation about pods only makes none).
pub struct RelationLoaders {
    clusters: Arc<crate::k8s::ClusterRegistry>,
    loaders: std::sync::Mutex<HashMap<std::any::TypeId, Arc<dyn std::any::Any + Send + Sync>>>,
}

impl RelationLoaders {
    /// No loader yet, over `clusters`.
    pub fn new(clusters: Arc<crate::k8s::ClusterRegistry>) -> Self {
        RelationLoaders {
            clusters,
            loaders: Default::default(),
        }
    }

    /// The operation's loader of type `L`, made by `make` on first use.
    fn get<L: Send + Sync + 'static>(
        &self,
        make: impl FnOnce(Arc<crate::k8s::ClusterRegistry>) -> L,
    ) -> Arc<DataLoader<L>> {
        let mut loaders = self.loaders.lock().unwrap_or_else(|p| p.into_inner());
        let held = loaders
            .entry(std::any::TypeId::of::<L>())
            .or_insert_with(|| Arc::new(DataLoader::new(make(self.clusters.clone()), tokio::spawn)))
            .clone();
        match held.downcast::<DataLoader<L>>() {
            Ok(loader) => loader,
            Err(_) => unreachable!("a loader is held under its own type id"),
        }
    }

    fn of<K: Kind>(&self) -> Arc<DataLoader<KindLoader<K>>> {
        self.get(|clusters| KindLoader::<K> {
            clusters,
            _kind: std::marker::PhantomData,
        })
    }
}

/// The objects of kind `K` in `namespace` (`None`: all) of `cluster` that
/// `keep` selects and the viewer may read, through the operation's loader
/// (not priced: see [`related`]).
pub async fn related_entries<K: Served>(
    ctx: &Context<'_>,
    cluster: &Arc<str>,
    namespace: Option<&str>,
    keep: impl Fn(&Entry<K>) -> bool,
) -> async_graphql::Result<Vec<Arc<Entry<K>>>> {
    // No version covers a relation's read: an answer that holds one is never
    // kept for reuse (fails closed).
    super::reuse::unversioned(ctx);
    let viewer = viewer(ctx).gql()?;
    let Ok(scope) = viewer.authorize_read(cluster, None, K::reach()) else {
        return Ok(Vec::new());
    };
    if namespaced::<K>() && namespace.is_some_and(|ns| !scope.covers(ns)) {
        return Ok(Vec::new());
    }
    let loaders = ctx
        .data_opt::<Arc<RelationLoaders>>()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("no relation loaders attached")))
        .gql()?;
    let all = loaders
        .of::<K>()
        .load_one((cluster.clone(), namespace.map(str::to_owned)))
        .await?
        .unwrap_or_default();
    Ok(all
        .iter()
        .filter(|entry| K::visible(&scope, entry) && keep(entry))
        .cloned()
        .collect())
}

/// Prices `objects` by the selection of the field being resolved.
pub async fn priced<K: Served>(
    ctx: &Context<'_>,
    cluster: &Arc<str>,
    entries: Vec<Arc<Entry<K>>>,
) -> async_graphql::Result<Vec<Object<K>>> {
    let shape = ResourceShape::of(ctx.field().selection_set());
    let cost: u64 = entries
        .iter()
        .map(|entry| shape.estimate(entry.meta.labels.len(), entry.json_len()))
        .sum();
    budget::of(ctx).gql()?.charge(cost).await.gql()?;
    Ok(entries
        .into_iter()
        .map(|entry| Object {
            cluster: cluster.clone(),
            entry,
        })
        .collect())
}

/// The objects of kind `K` in `namespace` (`None`: all) of `cluster` that
/// `keep` selects and the viewer may read, through the operation's loader,
/// priced by the selection of the field being resolved.
pub async fn related<K: Served>(
    ctx: &Context<'_>,
    cluster: &Arc<str>,
    namespace: Option<&str>,
    keep: impl Fn(&Entry<K>) -> bool,
) -> async_graphql::Result<Vec<Object<K>>> {
    let entries = related_entries::<K>(ctx, cluster, namespace, keep).await?;
    priced(ctx, cluster, entries).await
}

/// The object of kind `K` named `name` in `namespace` of `cluster`, when it
/// exists and the viewer may read it (for `owner` relations).
pub async fn related_one<K: Served>(
    ctx: &Context<'_>,
    cluster: &Arc<str>,
    namespace: &str,
    name: &str,
) -> async_graphql::Result<Option<Object<K>>> {
    let found = related_entries::<K>(ctx, cluster, Some(namespace), |entry| {
        entry.meta.name == name
    })
    .await?;
    Ok(priced(ctx, cluster, found).await?.into_iter().next())
}

/// The pods `object` controls (by the pods' controller reference).
pub async fn controlled_pods<K: Served>(
    ctx: &Context<'_>,
    object: &Object<K>,
) -> async_graphql::Result<Vec<Pod>> {
    let name = &object.entry.meta.name;
    related_pods(
        ctx,
        &object.cluster,
        Some(&object.entry.meta.namespace),
        |pod| pod.summary.controlled == K::KIND && pod.summary.controller_name == *name,
    )
    .await
}

/// The pods of one namespace of each cluster asked, loaded once per operation.
pub struct PodsLoader {
    clusters: Arc<crate::k8s::ClusterRegistry>,
}

impl Loader<ScopeKey> for PodsLoader {
    type Value = Arc<Vec<Arc<crate::k8s::entry::PodEntry>>>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[ScopeKey]) -> Result<HashMap<ScopeKey, Self::Value>, Self::Error> {
        let reads = keys.iter().map(|key| async move {
            let cluster = self.clusters.get(&key.0)?;
            let listed =
                crate::k8s::pods::list_pods(&cluster, key.1.as_deref(), None, &|_| true, None)
                    .await?;
            Ok::<_, AppError>((key.clone(), Arc::new(listed.items)))
        });
        let mut loaded = HashMap::new();
        for read in join_all(reads).await {
            let (key, items) = read.map_err(|e| e.extend())?;
            loaded.insert(key, items);
        }
        Ok(loaded)
    }
}

/// The pods of `namespace` (`None`: all) of `cluster` that `keep` selects and
/// the viewer may read, through the operation's loader, priced by the
/// selection of the field being resolved.
pub async fn related_pods(
    ctx: &Context<'_>,
    cluster: &Arc<str>,
    namespace: Option<&str>,
    keep: impl Fn(&crate::k8s::entry::PodEntry) -> bool,
) -> async_graphql::Result<Vec<Pod>> {
    super::reuse::unversioned(ctx);
    let viewer = viewer(ctx).gql()?;
    let Some(scope) = viewer.scope(cluster) else {
        return Ok(Vec::new());
    };
    if namespace.is_some_and(|ns| !scope.covers(ns)) {
        return Ok(Vec::new());
    }
    let loaders = ctx
        .data_opt::<Arc<RelationLoaders>>()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("no relation loaders attached")))
        .gql()?;
    let all = loaders
        .get(|clusters| PodsLoader { clusters })
        .load_one((cluster.clone(), namespace.map(str::to_owned)))
        .await?
        .unwrap_or_default();
    let found: Vec<Arc<crate::k8s::entry::PodEntry>> = all
        .iter()
        .filter(|pod| scope.covers(&pod.summary.namespace) && keep(pod))
        .cloned()
        .collect();
    let shape = budget::PodShape::of(ctx.field().selection_set());
    budget::of(ctx)
        .gql()?
        .charge(shape.estimate_all(&found))
        .await
        .gql()?;
    Ok(found
        .into_iter()
        .map(|pod| Pod::new(cluster.clone(), pod))
        .collect())
}

pub use super::pods::PodObject;
pub use super::{
    connection::ClusterPart,
    pods::{Pod, PodEventType},
};

/// A page's complexity: its children's, once per ten objects asked for.
pub fn page_cost(first: Option<i32>, child_complexity: usize) -> usize {
    let first = usize::try_from(first.unwrap_or(DEFAULT_PAGE)).unwrap_or_default();
    first.div_ceil(10).max(1).saturating_mul(child_complexity)
}

/// One change of an object of kind `K`: what happened, the version after it,
/// and the object (none for RESYNC).
pub type KindChange<K> = (PodEventType, String, Option<Object<K>>);

/// Changes of kind `K` of `cluster` (of one namespace, when given; else of
/// every namespace the viewer may read), with `podEvents`' semantics: replay
/// from `since`, RESYNC when that cannot be done, and an end with Forbidden
/// when the viewer's grants stop covering it.
pub async fn resource_events<K: Served>(
    ctx: &Context<'_>,
    cluster: &str,
    namespace: Option<&str>,
    since: Option<&str>,
) -> async_graphql::Result<
    futures_util::stream::BoxStream<'static, async_graphql::Result<KindChange<K>>>,
> {
    use futures_util::StreamExt;

    let viewer = viewer(ctx).gql()?;
    let checked = namespace
        .map(|namespace| Namespace::parse("namespace", namespace))
        .transpose()
        .gql()?;
    let checked = checked.filter(|_| namespaced::<K>());
    let namespace = checked.as_deref();
    let scope = authorize_read::<K>(viewer, cluster, checked.as_ref()).gql()?;
    if !namespaced::<K>() && scope != NamespaceScope::All {
        // Changes of objects of no namespace are followed with a
        // whole-cluster grant only.
        return Err(AppError::Forbidden("you hold no grant there")).gql();
    }
    let found = app(ctx).clusters.get(cluster).gql()?;
    let Some(cache) = found.cache() else {
        return Err(AppError::invalid(
            "cluster",
            "live changes need the watch cache, which is switched off (OSP_POD_CACHE=off)",
        ))
        .gql();
    };
    let objects = cache.of::<K>();
    if !objects.wait_until_fresh(found.timeout()).await {
        return Err(AppError::ClusterUnavailable {
            cluster: found.name.clone(),
            reason: "its objects could not be watched",
        })
        .gql();
    }
    let keep = {
        let (scope, namespace) = (scope.clone(), namespace.map(str::to_owned));
        move |ns: &str| namespace.as_deref().is_none_or(|n| n == ns) && scope.covers(ns)
    };
    let subscription = objects.subscribe(since, &keep);
    let name: Arc<str> = found.name.as_str().into();
    let changes = crate::k8s::events::changes(Arc::downgrade(&objects), subscription, keep).map(
        move |change| {
            Ok((
                match change.kind {
                    crate::k8s::events::PodChangeKind::Added => PodEventType::Added,
                    crate::k8s::events::PodChangeKind::Modified => PodEventType::Modified,
                    crate::k8s::events::PodChangeKind::Deleted => PodEventType::Deleted,
                    crate::k8s::events::PodChangeKind::Resync => PodEventType::Resync,
                },
                change.version.to_string(),
                change.object.map(|entry| Object {
                    cluster: name.clone(),
                    entry,
                }),
            ))
        },
    );
    Ok(super::pods::until_revoked(
        ctx,
        changes,
        found.name.clone(),
        namespace.map(str::to_owned),
        scope,
    ))
}
