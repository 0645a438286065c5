//! `podConnection`: one paginated, sorted, filtered pod list across clusters.
//!
//! The resolver reads its arguments, asks each cluster for its pods in the
//! requested order (in parallel, each within the cluster timeout), and hands
//! the sorted runs to [`crate::k8s::order::page`]. A cluster that cannot be
//! read costs its own `ClusterPart` and one error naming it, never the answer.

use std::{collections::HashMap, sync::Arc, time::Duration};

use async_graphql::{
    Context, ContextSelectionSet, Enum, ErrorExtensions, InputObject, Object, OutputType,
    Positioned, ServerError, ServerResult, SimpleObject, Value, connection::PageInfo,
    parser::types::Field, resolver_utils::resolve_list,
};
use futures_util::future::join_all;
use label_selector::Selector;

use super::{
    GqlResultExt, app,
    budget::{self, ConnectionShape, PodShape},
    plain,
    pods::Pod,
    reuse::{self, Kind},
    viewer,
};
use crate::{
    auth::{NamespaceScope, Reach},
    error::{AppError, ErrorCode},
    k8s::{
        names::{Namespace, validate_name_filter},
        order::{self, Direction, Order, Run, SortField},
        pods,
    },
};

/// Pods per page when `first` is not given.
pub const DEFAULT_PAGE: i32 = 100;
/// Most pods per page.
pub const MAX_PAGE: i32 = 500;

/// Which pods a connection keeps; every part given must hold.
#[derive(InputObject, Default, Debug)]
pub struct PodFilter {
    /// Names containing this.
    pub name: Option<String>,
    /// The STATUS column equal to any of these (as kubectl prints it, e.g.
    /// Running, CrashLoopBackOff, Completed).
    pub status: Option<Vec<String>>,
    /// Exactly this node.
    pub node: Option<String>,
    /// A Kubernetes label selector, e.g. `app=web,tier!=db,env in (a,b),!canary`.
    pub label_selector: Option<String>,
    /// Exactly this QoS class: Guaranteed, Burstable or BestEffort.
    pub qos: Option<String>,
}

/// What pods are ordered by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum PodOrderField {
    /// Cluster name.
    Cluster,
    /// Namespace.
    Namespace,
    /// Pod name.
    #[default]
    Name,
    /// Creation time.
    Created,
    /// The RESTARTS column.
    Restarts,
    /// The STATUS column (alphabetically).
    Status,
}

/// Ascending or descending.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum OrderDirection {
    /// Smallest first.
    #[default]
    Asc,
    /// Largest first.
    Desc,
}

/// A connection's order: a field in a direction; ties are broken by
/// (cluster, namespace, name), ascending, so the order is total.
#[derive(InputObject, Debug, Default)]
pub struct PodOrder {
    /// The field.
    #[graphql(default)]
    pub field: PodOrderField,
    /// The field's direction.
    #[graphql(default)]
    pub direction: OrderDirection,
}

impl From<&PodOrder> for Order {
    fn from(order: &PodOrder) -> Self {
        Order {
            field: match order.field {
                PodOrderField::Cluster => SortField::Cluster,
                PodOrderField::Namespace => SortField::Namespace,
                PodOrderField::Name => SortField::Name,
                PodOrderField::Created => SortField::Created,
                PodOrderField::Restarts => SortField::Restarts,
                PodOrderField::Status => SortField::Status,
            },
            direction: match order.direction {
                OrderDirection::Asc => Direction::Asc,
                OrderDirection::Desc => Direction::Desc,
            },
        }
    }
}

/// How a cluster took part in a connection.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ClusterPartState {
    /// Its pods are in the list.
    Ok,
    /// It could not be read (see `code`, and the error naming it).
    Unavailable,
    /// The signed-in user holds no grant there (for the namespace asked).
    Forbidden,
}

/// One cluster's part in a connection.
#[derive(SimpleObject, Debug, Clone)]
pub struct ClusterPart {
    /// The cluster.
    pub name: String,
    /// Whether its pods are in the list.
    pub state: ClusterPartState,
    /// The error code when it is not.
    pub code: Option<String>,
    /// The cache version its pods reflect (null when read from the API
    /// server, or not read): as `podList` shows it, the cluster's for a user
    /// who may read all of it, else that of the namespaces read.
    pub version: Option<String>,
}

/// One pod of a page and its cursor.
#[derive(Clone)]
pub struct PodEdge {
    order: Order,
    pod: Pod,
}

impl PodEdge {
    fn cursor(&self) -> String {
        let pod = &self.pod;
        order::encode_cursor(self.order, self.order.position(pod.cluster(), pod.entry()))
    }
}

/// One pod of a page and its cursor.
#[Object]
impl PodEdge {
    /// Give it to `after` to read the pods that follow this one.
    #[graphql(name = "cursor")]
    async fn cursor_field(&self) -> String {
        self.cursor()
    }

    /// The pod.
    async fn node(&self) -> &Pod {
        &self.pod
    }
}

/// A page's edges: written at once when their fields are plain (see
/// [`plain::write_edges`]), else edge by edge.
pub struct PodEdges(Vec<PodEdge>);

impl OutputType for PodEdges {
    plain::list_type_of!(PodEdge);

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let edges = &self.0;
        match plain::write_edges(ctx, edges, PodEdge::cursor, |edge| &edge.pod)? {
            Some(value) => Ok(value),
            None => resolve_list(ctx, field, edges, Some(edges.len())).await,
        }
    }
}

/// A page of pods across clusters.
#[derive(SimpleObject)]
pub struct PodConnection {
    /// The page's pods, in order.
    pub edges: PodEdges,
    /// Where the page lies.
    pub page_info: PageInfo,
    /// Pods that match, across the clusters read.
    pub total_count: i32,
    /// Each cluster asked for, and how it took part.
    pub clusters: Vec<ClusterPart>,
}

/// The pod list across clusters.
#[derive(Default)]
pub struct ConnectionQuery;

#[Object]
impl ConnectionQuery {
    /// Pods of many clusters (default: every cluster the signed-in user may
    /// read) merged into one order, a page at a time. `first` is 100 by
    /// default and at most 500; `after` takes an `endCursor`. A cluster that
    /// cannot be read is reported in `clusters` and in `errors` (with
    /// `extensions.cluster`), and the others are still served.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn pod_connection(
        &self,
        ctx: &Context<'_>,
        clusters: Option<Vec<String>>,
        namespace: Option<String>,
        filter: Option<PodFilter>,
        order_by: Option<PodOrder>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PodConnection> {
        let viewer = viewer(ctx).gql()?;
        let first = first.unwrap_or(DEFAULT_PAGE);
        if !(0..=MAX_PAGE).contains(&first) {
            return Err(AppError::invalid(
                "first",
                format!("must be between 0 and {MAX_PAGE}"),
            ))
            .gql();
        }
        let order = Order::from(&order_by.unwrap_or_default());
        let after = after
            .as_deref()
            .map(|cursor| order::decode_cursor("after", order, cursor))
            .transpose()
            .gql()?;
        let filter = read_filter(namespace, filter.unwrap_or_default()).gql()?;

        let registry = &app(ctx).clusters;
        let names: Vec<String> = match clusters {
            Some(mut names) => {
                // Bounded before anything is done per name: each costs a
                // part of the answer.
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
            None => registry
                .all()
                .filter(|cluster| viewer.scope(&cluster.name).is_some())
                .map(|cluster| cluster.name.clone())
                .collect(),
        };
        let namespace = filter.namespace.clone();
        let versions_asked = ctx.look_ahead().field("clusters").field("version").exists();
        let reads = names.iter().map(|name| {
            let namespace = namespace.clone();
            async move {
                let scope = viewer.authorize_read(name, namespace.as_ref(), Reach::AnyGrant)?;
                let cluster = registry.get(name)?;
                reuse::reading(ctx, name, Kind::Pods, namespace.as_deref(), &scope);
                if versions_asked {
                    reuse::reading_version(ctx, name, Kind::Pods, namespace.as_deref(), &scope);
                }
                let versioned = reuse::version_namespaces(namespace.as_deref(), &scope);
                let read =
                    pods::sorted_pods(&cluster, namespace.as_deref(), order, versioned.as_deref());
                // Waiting for a sync and each upstream call are bounded by the
                // cluster timeout already; this bounds the whole read too.
                let bound = cluster.timeout() + Duration::from_secs(1);
                let (version, pods) = tokio::time::timeout(bound, read).await.map_err(|_| {
                    AppError::ClusterUnavailable {
                        cluster: name.clone(),
                        reason: crate::error::TIMED_OUT,
                    }
                })??;
                Ok::<_, AppError>((scope, version, pods))
            }
        });
        let read = join_all(reads).await;

        let mut parts = Vec::with_capacity(names.len());
        let mut runs = Vec::new();
        let mut scopes: HashMap<Arc<str>, NamespaceScope> = HashMap::new();
        // Names the viewer may not read, or that name no cluster: one error
        // for them all, per code.
        let mut folded: Vec<(ErrorCode, AppError, Vec<String>)> = Vec::new();
        let mut cluster_errors: Vec<(AppError, Vec<String>)> = Vec::new();
        for (name, result) in names.into_iter().zip(read) {
            match result {
                Ok((scope, version, pods)) => {
                    if version.is_none() {
                        reuse::unversioned(ctx);
                    }
                    let cluster: Arc<str> = name.as_str().into();
                    let all_kept = filter.is_empty() && scope == NamespaceScope::All;
                    scopes.insert(cluster.clone(), scope);
                    runs.push(Run {
                        cluster,
                        pods,
                        all_kept,
                    });
                    parts.push(ClusterPart {
                        name,
                        state: ClusterPartState::Ok,
                        code: None,
                        version: version.map(|v| v.to_string()),
                    });
                }
                Err(err) => {
                    err.log_if_internal();
                    let state = if err.code() == ErrorCode::Forbidden {
                        ClusterPartState::Forbidden
                    } else {
                        ClusterPartState::Unavailable
                    };
                    let code = err.code();
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

        let keep = |cluster: &str, pod: &crate::k8s::entry::PodEntry| {
            filter.matches(pod)
                && scopes
                    .get(cluster)
                    .is_some_and(|scope| scope.covers(&pod.summary.namespace))
        };
        let page = order::page(
            &runs,
            order,
            after.as_ref(),
            usize::try_from(first).unwrap_or_default(),
            &keep,
        );
        let errors: Vec<(AppError, Vec<String>)> = cluster_errors
            .into_iter()
            .chain(folded.into_iter().map(|(_, err, names)| (err, names)))
            .collect();
        let field = ctx.field();
        let shape = PodShape::at(&field, &["edges", "node"]);
        let items = page.items.iter().map(|(_, pod)| pod);
        let around = ConnectionShape::of(&field).estimate(
            page.items
                .iter()
                .map(|(cluster, pod)| budget::cursor_bytes(cluster, pod)),
            parts.len(),
        );
        let errors_cost: u64 = errors
            .iter()
            .map(|(err, names)| budget::error_bytes(&err.to_string(), names))
            .sum();
        budget::of(ctx)
            .gql()?
            .charge(shape.estimate_all(items) + around + errors_cost)
            .await
            .gql()?;
        for (err, names) in &errors {
            ctx.add_error(cluster_error(ctx, names, err));
        }

        let edges: Vec<PodEdge> = page
            .items
            .into_iter()
            .map(|(cluster, pod)| PodEdge {
                order,
                pod: Pod::new(cluster, pod),
            })
            .collect();
        Ok(PodConnection {
            page_info: PageInfo {
                has_next_page: page.has_next,
                end_cursor: edges.last().map(PodEdge::cursor),
                has_previous_page: page.before > 0,
                start_cursor: edges.first().map(PodEdge::cursor),
            },
            edges: PodEdges(edges),
            total_count: i32::try_from(page.total).unwrap_or(i32::MAX),
            clusters: parts,
        })
    }
}

/// A page's complexity: its children's, once per ten pods asked for.
fn page_cost(first: Option<i32>, child_complexity: usize) -> usize {
    let first = usize::try_from(first.unwrap_or(DEFAULT_PAGE)).unwrap_or_default();
    first.div_ceil(10).max(1).saturating_mul(child_complexity)
}

/// The most cluster names a connection may be asked for: as many as are
/// configured, and never more than [`MAX_CLUSTER_NAMES`].
pub(super) fn max_clusters(configured: usize) -> usize {
    configured.min(MAX_CLUSTER_NAMES)
}

/// The most cluster names a connection takes, however many are configured.
pub const MAX_CLUSTER_NAMES: usize = 64;

/// The error of clusters of a connection: its code, the clusters named in
/// `extensions.clusters`, and in `extensions.cluster` when it is one.
pub(super) fn cluster_error(ctx: &Context<'_>, clusters: &[String], err: &AppError) -> ServerError {
    let error = err.extend().extend_with(|_, extensions| {
        if let [cluster] = clusters {
            extensions.set("cluster", cluster.as_str());
        }
        extensions.set(
            "clusters",
            Value::List(clusters.iter().map(|c| Value::from(c.as_str())).collect()),
        );
    });
    ctx.set_error_path(error.into_server_error(ctx.item.pos))
}

/// The QoS classes a filter may name.
const QOS_CLASSES: [&str; 3] = ["Guaranteed", "Burstable", "BestEffort"];

/// Checks a filter and reads its selector.
fn read_filter(namespace: Option<String>, filter: PodFilter) -> Result<order::PodFilter, AppError> {
    let namespace = Namespace::parse_optional("namespace", namespace)?;
    if let Some(name) = &filter.name {
        validate_name_filter("filter.name", name)?;
    }
    if let Some(qos) = &filter.qos
        && !QOS_CLASSES.contains(&qos.as_str())
    {
        return Err(AppError::invalid(
            "filter.qos",
            format!("must be one of {}", QOS_CLASSES.join(", ")),
        ));
    }
    if let Some(statuses) = &filter.status
        && let Some(bad) = statuses
            .iter()
            .find(|s| s.is_empty() || s.len() > 128 || s.chars().any(char::is_control))
    {
        return Err(AppError::invalid(
            "filter.status",
            format!("{bad:?} is not a STATUS value"),
        ));
    }
    if let Some(node) = &filter.node
        && (node.is_empty() || node.len() > 253)
    {
        return Err(AppError::invalid("filter.node", "not a node name"));
    }
    let labels = filter
        .label_selector
        .as_deref()
        .map(Selector::parse)
        .transpose()
        .map_err(|reason| AppError::invalid("filter.labelSelector", reason))?;
    Ok(order::PodFilter {
        namespace,
        name: filter.name.filter(|n| !n.is_empty()),
        status: filter.status,
        node: filter.node,
        labels: labels.filter(|selector| !selector.is_empty()),
        qos: filter.qos,
    })
}
