//! The kinds the gateway serves besides Pod, one module each, and their one
//! registration list ([`register_kinds!`] at the end of this file).
//!
//! A kind's module says three things, and the machinery does the rest:
//! - what it watches and keeps: `impl Kind` (the k8s-openapi type, the kind's
//!   name, its kubectl columns from `k8s::printers`);
//! - who may read it: `impl Served` (namespace grants by default; objects of
//!   no namespace need a whole-cluster grant);
//! - its GraphQL fields, declared once with [`served_kind!`]: each typed field
//!   is a kubectl column read from the kept columns. The object type (with the
//!   `Resource` fields every kind shares), its edge and connection types, the
//!   `<kind>Connection` and `<kind>` root fields and the size estimate all
//!   come from that declaration. Relations (`pods`, `owner`, ...) are plain
//!   resolvers over [`resources::related`](crate::graphql::resources::related).
//!
//! Adding a kind: copy the module of a kind of the same scope (e.g.
//! `stateful_set.rs` or `node.rs`), change the type, the columns and the
//! fields, and add one line to [`register_kinds!`] below. README's "Adding a
//! kind" walks through it.

pub mod cron_job;
pub mod daemon_set;
pub mod deployment;
pub mod event;
pub mod job;
pub mod namespace;
pub mod node;
pub mod replica_set;
pub mod service;
pub mod stateful_set;

/// Declares a served kind's GraphQL types and root fields. See the kind
/// modules for its use; `scope namespaced` kinds take a `namespace`
/// argument, `scope cluster` kinds do not.
#[macro_export]
macro_rules! served_kind {
    (
        kind $kind:ty, object $object_name:literal, edge $edge_name:literal,
        connection $connection_name:literal, query $query:ident $query_name:literal;
        scope $scope:ident, filter $filter:ty;
        root $connection_field:ident, $get_field:ident;
        $(#[doc = $doc:literal])*
        fields {
            $(
                $(#[doc = $field_doc:literal])*
                $(#[graphql($($attr:tt)*)])?
                $field:ident: $type:ty = |$columns:ident| $value:expr;
            )*
        }
        relations { $($relations:tt)* }
    ) => {
        $(#[doc = $doc])*
        #[async_graphql::Object(name = $object_name)]
        impl $crate::graphql::resources::Object<$kind> {
            /// The cluster it is in.
            pub(crate) async fn cluster(&self) -> &str {
                &self.cluster
            }

            /// The kind, e.g. Deployment.
            pub(crate) async fn kind(&self) -> &str {
                <$kind as $crate::k8s::resource::Kind>::KIND
            }

            /// Namespace (null for objects of no namespace).
            pub(crate) async fn namespace(&self) -> Option<&str> {
                self.namespace_of()
            }

            /// Name.
            pub(crate) async fn name(&self) -> &str {
                &self.entry.meta.name
            }

            /// uid.
            pub(crate) async fn uid(&self) -> &str {
                self.entry.meta.uid.as_deref().unwrap_or_default()
            }

            /// Creation time (RFC 3339).
            pub(crate) async fn created(&self) -> Option<&str> {
                self.entry.meta.created.as_deref()
            }

            /// Labels, sorted by key.
            pub(crate) async fn labels(&self) -> Vec<$crate::graphql::resources::Label> {
                self.label_list()
            }

            /// The whole object as JSON (managedFields dropped, as kubectl does;
            /// env values and secret annotations redacted unless a grant of
            /// yours reveals them, see OSP_REDACT).
            #[graphql(complexity = 20)]
            pub(crate) async fn json(
                &self,
                ctx: &async_graphql::Context<'_>,
            ) -> async_graphql::Result<async_graphql::Json<serde_json::Value>> {
                self.json_value(ctx)
            }

            /// The same object as YAML text.
            #[graphql(complexity = 20)]
            pub(crate) async fn yaml(&self, ctx: &async_graphql::Context<'_>) -> async_graphql::Result<String> {
                self.yaml_text(ctx)
            }

            /// Events about it, newest first.
            #[graphql(complexity = "10 * child_complexity")]
            pub(crate) async fn events(
                &self,
                ctx: &async_graphql::Context<'_>,
            ) -> async_graphql::Result<Vec<$crate::graphql::resources::Object<$crate::kinds::event::Event>>> {
                $crate::kinds::event::events_of(ctx, self).await
            }

            $(
                $(#[doc = $field_doc])*
                $(#[graphql($($attr)*)])?
                async fn $field(&self) -> $type {
                    let $columns = &self.entry.columns;
                    $value
                }
            )*

            $($relations)*
        }

        #[async_graphql::Object(name = $edge_name)]
        impl $crate::graphql::resources::Edge<$kind> {
            /// Give it to `after` to read the objects that follow this one.
            async fn cursor(&self) -> String {
                self.cursor_text()
            }

            /// The object.
            async fn node(&self) -> &$crate::graphql::resources::Object<$kind> {
                &self.node
            }
        }

        #[async_graphql::Object(name = $connection_name)]
        impl $crate::graphql::resources::Connection<$kind> {
            /// The page's objects, in order.
            async fn edges(&self) -> &[$crate::graphql::resources::Edge<$kind>] {
                &self.edges
            }

            /// Where the page lies.
            async fn page_info(&self) -> &async_graphql::connection::PageInfo {
                &self.page_info
            }

            /// Objects that match, across the clusters read.
            async fn total_count(&self) -> i32 {
                self.total_count
            }

            /// Each cluster asked for, and how it took part.
            async fn clusters(&self) -> &[$crate::graphql::resources::ClusterPart] {
                &self.clusters
            }
        }

        /// The root fields of the kind.
        #[derive(Default)]
        pub struct $query;

        $crate::served_kind!(@query $scope, $kind, $query, $query_name, $filter, $connection_field, $get_field, $object_name);
    };

    (@query namespaced, $kind:ty, $query:ident, $query_name:literal, $filter:ty, $connection_field:ident, $get_field:ident, $object_name:literal) => {
        #[async_graphql::Object(name = $query_name)]
        impl $query {
            #[doc = concat!(
                "Objects of kind ", $object_name, " of many clusters (default: every cluster the ",
                "signed-in user may read) and of one namespace or all, merged into one order, a ",
                "page at a time. `first` is 100 by default and at most 500; `after` takes an ",
                "`endCursor`. A cluster that cannot be read is reported in `clusters` and in ",
                "`errors`, and the others are still served."
            )]
            #[graphql(complexity = "crate::graphql::resources::page_cost(first, child_complexity)")]
            #[allow(clippy::too_many_arguments)]
            async fn $connection_field(
                &self,
                ctx: &async_graphql::Context<'_>,
                clusters: Option<Vec<String>>,
                namespace: Option<String>,
                filter: Option<$filter>,
                order_by: Option<$crate::graphql::resources::ResourceOrder>,
                first: Option<i32>,
                after: Option<String>,
            ) -> async_graphql::Result<$crate::graphql::resources::Connection<$kind>> {
                let filter = $crate::graphql::GqlResultExt::gql(
                    $crate::graphql::resources::Filter::<$kind>::try_from(filter.unwrap_or_default()),
                )?;
                $crate::graphql::resources::connection::<$kind>(
                    ctx,
                    $crate::graphql::resources::ConnectionArgs {
                        clusters,
                        namespace,
                        filter,
                        order_by,
                        first,
                        after,
                    },
                )
                .await
            }

            #[doc = concat!("One ", $object_name, " (`ResourceNotFound` when there is none).")]
            async fn $get_field(
                &self,
                ctx: &async_graphql::Context<'_>,
                cluster: String,
                namespace: String,
                name: String,
            ) -> async_graphql::Result<$crate::graphql::resources::Object<$kind>> {
                $crate::graphql::resources::get::<$kind>(ctx, &cluster, Some(&namespace), &name).await
            }
        }
    };

    (@query cluster, $kind:ty, $query:ident, $query_name:literal, $filter:ty, $connection_field:ident, $get_field:ident, $object_name:literal) => {
        #[async_graphql::Object(name = $query_name)]
        impl $query {
            #[doc = concat!(
                "Objects of kind ", $object_name, " of many clusters (default: every cluster the ",
                "signed-in user may read), merged into one order, a page at a time. `first` is ",
                "100 by default and at most 500; `after` takes an `endCursor`. A cluster that ",
                "cannot be read is reported in `clusters` and in `errors`, and the others are ",
                "still served."
            )]
            #[graphql(complexity = "crate::graphql::resources::page_cost(first, child_complexity)")]
            async fn $connection_field(
                &self,
                ctx: &async_graphql::Context<'_>,
                clusters: Option<Vec<String>>,
                filter: Option<$filter>,
                order_by: Option<$crate::graphql::resources::ResourceOrder>,
                first: Option<i32>,
                after: Option<String>,
            ) -> async_graphql::Result<$crate::graphql::resources::Connection<$kind>> {
                let filter = $crate::graphql::GqlResultExt::gql(
                    $crate::graphql::resources::Filter::<$kind>::try_from(filter.unwrap_or_default()),
                )?;
                $crate::graphql::resources::connection::<$kind>(
                    ctx,
                    $crate::graphql::resources::ConnectionArgs {
                        clusters,
                        namespace: None,
                        filter,
                        order_by,
                        first,
                        after,
                    },
                )
                .await
            }

            #[doc = concat!("One ", $object_name, " (`ResourceNotFound` when there is none).")]
            async fn $get_field(
                &self,
                ctx: &async_graphql::Context<'_>,
                cluster: String,
                name: String,
            ) -> async_graphql::Result<$crate::graphql::resources::Object<$kind>> {
                $crate::graphql::resources::get::<$kind>(ctx, &cluster, None, &name).await
            }
        }
    };
}

/// The one registration list: each served kind's module, marker type and
/// root-field type. It builds the root of every kind's fields
/// ([`KindQuery`]), the `Resource` interface, and `resourceEvents`' table.
macro_rules! register_kinds {
    ($($module:ident :: $kind:ident / $query:ident),* $(,)?) => {
        /// The root fields of every served kind.
        #[derive(async_graphql::MergedObject, Default)]
        pub struct KindQuery($($module::$query),*);

        /// Any object the gateway serves.
        #[derive(async_graphql::Interface)]
        #[graphql(
            name = "Resource",
            field(name = "cluster", ty = "&str", desc = "The cluster it is in."),
            field(name = "kind", ty = "&str", desc = "The kind, e.g. Deployment."),
            field(name = "namespace", ty = "Option<&str>", desc = "Namespace (null for objects of no namespace)."),
            field(name = "name", ty = "&str", desc = "Name."),
            field(name = "uid", ty = "&str", desc = "uid."),
            field(name = "created", ty = "Option<&str>", desc = "Creation time (RFC 3339)."),
            field(name = "labels", ty = "Vec<crate::graphql::resources::Label>", desc = "Labels, sorted by key."),
            field(name = "json", ty = "async_graphql::Json<serde_json::Value>", desc = "The whole object as JSON."),
            field(name = "yaml", ty = "String", desc = "The same object as YAML text."),
            field(name = "events", ty = "Vec<crate::graphql::resources::Object<event::Event>>", desc = "Events about it, newest first.")
        )]
        pub enum Resource {
            Pod(crate::graphql::resources::PodObject),
            $($kind(crate::graphql::resources::Object<$module::$kind>)),*
        }

        /// The controlling object of kind `kind` named `name` in `namespace`
        /// of `cluster`, when its kind is served, it exists and the viewer
        /// may read it.
        pub async fn owner(
            ctx: &async_graphql::Context<'_>,
            cluster: &std::sync::Arc<str>,
            namespace: &str,
            kind: &str,
            name: &str,
        ) -> async_graphql::Result<Option<Resource>> {
            $(
                if kind == <$module::$kind as crate::k8s::resource::Kind>::KIND
                    && crate::k8s::resource::namespaced::<$module::$kind>()
                {
                    return Ok(crate::graphql::resources::related_one::<$module::$kind>(
                        ctx, cluster, namespace, name,
                    )
                    .await?
                    .map(Resource::from));
                }
            )*
            Ok(None)
        }

        /// The kinds by name, as `resourceEvents(kind:)` takes them.
        pub const KIND_NAMES: &[&str] = &[$(<$module::$kind as crate::k8s::resource::Kind>::KIND),*];

        /// Live changes of every served kind.
        #[derive(Default)]
        pub struct KindSubscription;

        #[async_graphql::Subscription]
        impl KindSubscription {
            /// Changes of objects of `kind` (e.g. Deployment) of a cluster (of one
            /// namespace, when given; else of every namespace the signed-in user
            /// may read), with `podEvents`' semantics: with `since` (the version
            /// of a connection's cluster part or of an earlier change) the changes
            /// after it come first; RESYNC says when that is not possible; the
            /// subscription ends with Forbidden when the user's grants stop
            /// covering it. Objects of no namespace (Nodes, Namespaces) are
            /// followed with a whole-cluster grant only.
            async fn resource_events(
                &self,
                ctx: &async_graphql::Context<'_>,
                kind: String,
                cluster: String,
                namespace: Option<String>,
                since: Option<String>,
            ) -> async_graphql::Result<futures_util::stream::BoxStream<'static, async_graphql::Result<ResourceChange>>> {
                use futures_util::StreamExt;
                $(
                    if kind == <$module::$kind as crate::k8s::resource::Kind>::KIND {
                        let changes = crate::graphql::resources::resource_events::<$module::$kind>(
                            ctx, &cluster, namespace.as_deref(), since.as_deref(),
                        )
                        .await?;
                        return Ok(changes
                            .map(|change| {
                                change.map(|(kind, version, object)| ResourceChange {
                                    kind,
                                    version,
                                    object: object.map(Resource::from),
                                })
                            })
                            .boxed());
                    }
                )*
                crate::graphql::GqlResultExt::gql(Err(crate::error::AppError::invalid(
                    "kind",
                    format!("must be one of {}", KIND_NAMES.join(", ")),
                )))
            }
        }
    };
}

/// One change of an object.
#[derive(async_graphql::SimpleObject)]
pub struct ResourceChange {
    /// What happened.
    #[graphql(name = "type")]
    pub kind: crate::graphql::resources::PodEventType,
    /// The cache version after this change: resume from it with `since` (for
    /// RESYNC: the version of what is followed now).
    pub version: String,
    /// The object (null for RESYNC).
    pub object: Option<Resource>,
}

register_kinds!(
    deployment::Deployment / DeploymentQuery,
    replica_set::ReplicaSet / ReplicaSetQuery,
    stateful_set::StatefulSet / StatefulSetQuery,
    daemon_set::DaemonSet / DaemonSetQuery,
    job::Job / JobQuery,
    cron_job::CronJob / CronJobQuery,
    service::Service / ServiceQuery,
    node::Node / NodeQuery,
    namespace::Namespace / NamespaceQuery,
    event::Event / EventQuery,
);
