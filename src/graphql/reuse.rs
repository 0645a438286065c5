//! Rendered GraphQL answers, reused while what they were read from is
//! unchanged.
//!
//! Frontends poll the same documents. A query whose root fields read only the
//! watch caches (`pods`, `podList`, `podConnection`, `podsVersion`,
//! `viewerScope`) records, as it runs, the cache versions it read
//! ([`Dependencies`]): per cluster, kind and set of namespaces, so a change in
//! one namespace leaves answers about the others valid. A version shown to a
//! viewer who may read some namespaces only is that of these namespaces
//! ([`version_namespaces`]), so their answers, like everything else they see,
//! stay as they are when another namespace changes. Its answer is kept
//! under the request (document, operation, variables, media type) and the
//! viewer's effective grants; an identical request is answered with the same
//! bytes as long as every recorded version is still current. Two viewers with
//! equal grants share answers; viewers with different grants never do.
//!
//! Answers with errors, answers read from an API server directly, and any
//! other document are never kept. A client sending `Cache-Control: no-cache`
//! gets a fresh execution.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_graphql::{
    Request,
    parser::types::{OperationType, Selection},
};
use axum::body::Bytes;

use super::documents::Documents;
use crate::{
    auth::NamespaceScope,
    k8s::{ClusterRegistry, cache::CacheVersion},
};

/// Bytes of kept answers, at most (the least recently used go first).
const KEPT_BYTES: u64 = 64 * 1024 * 1024;
/// An answer not asked for this long is dropped.
const IDLE: Duration = Duration::from_secs(5 * 60);
/// Root fields whose answers depend on the watch caches and grants alone.
const CACHE_ONLY_FIELDS: [&str; 6] = [
    "pods",
    "podList",
    "podConnection",
    "podsVersion",
    "viewerScope",
    "__typename",
];

/// Which watched kind an answer read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Pods.
    Pods,
    /// Nodes.
    Nodes,
    /// ReplicaSets.
    ReplicaSets,
}

/// What an answer read: a kind of a cluster, whole or some namespaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Source {
    cluster: String,
    kind: Kind,
    namespaces: Option<Vec<String>>,
}

impl Source {
    /// The version of what this source holds now (`None`: not from a cache).
    fn current(&self, clusters: &ClusterRegistry) -> Option<CacheVersion> {
        let cluster = clusters.get(&self.cluster).ok()?;
        let cache = cluster.running_cache()?;
        let namespaces = self.namespaces.as_deref();
        match self.kind {
            Kind::Pods => cache.pods.namespaces_version(namespaces),
            Kind::Nodes => cache.nodes.namespaces_version(namespaces),
            Kind::ReplicaSets => cache.replicasets.namespaces_version(namespaces),
        }
    }
}

/// The cache versions one operation read (request data). Versions are taken
/// before the read: data read after a change is kept under the version before
/// it, which is no longer current, so the answer is executed again (never
/// served stale).
#[derive(Clone)]
pub struct Dependencies {
    /// `None` once something was read that no version covers.
    read: Arc<Mutex<Option<HashMap<Source, CacheVersion>>>>,
}

impl Default for Dependencies {
    fn default() -> Self {
        Dependencies {
            read: Arc::new(Mutex::new(Some(HashMap::new()))),
        }
    }
}

impl Dependencies {
    /// Records that `kind` of `cluster` (some `namespaces`, or all) is about
    /// to be read; when it is not served from a fresh cache, the answer
    /// cannot be reused.
    pub fn reading(
        &self,
        clusters: &ClusterRegistry,
        cluster: &str,
        kind: Kind,
        namespaces: Option<Vec<String>>,
    ) {
        let source = Source {
            cluster: cluster.to_owned(),
            kind,
            namespaces,
        };
        let mut read = self.read.lock().unwrap_or_else(|p| p.into_inner());
        let Some(sources) = read.as_mut() else {
            return;
        };
        if sources.contains_key(&source) {
            return;
        }
        match source.current(clusters) {
            Some(version) => {
                sources.insert(source, version);
            }
            None => *read = None,
        }
    }

    /// Records that something no version covers was read.
    pub fn unversioned(&self) {
        *self.read.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    fn take(&self) -> Option<Vec<(Source, CacheVersion)>> {
        let read = self.read.lock().unwrap_or_else(|p| p.into_inner()).take()?;
        Some(read.into_iter().collect())
    }
}

/// A kept answer.
struct Kept {
    read: Vec<(Source, CacheVersion)>,
    body: Bytes,
}

/// The kept answers of a gateway.
pub struct Answers {
    kept: moka::sync::Cache<String, Arc<Kept>>,
    flights: crate::flights::Flights,
}

impl Default for Answers {
    fn default() -> Self {
        Answers {
            kept: moka::sync::Cache::builder()
                .weigher(|key: &String, kept: &Arc<Kept>| {
                    u32::try_from(key.len() + kept.body.len()).unwrap_or(u32::MAX)
                })
                .max_capacity(KEPT_BYTES)
                .time_to_idle(IDLE)
                .build(),
            flights: Default::default(),
        }
    }
}

impl Answers {
    /// The key of `request` for a viewer whose grants are `scope`, answered
    /// as `media`.
    pub fn key(request: &Request, scope: &str, media: &str) -> Option<String> {
        let variables = serde_json::to_string(&request.variables).ok()?;
        Some(format!(
            "{media}\n{scope}\n{}\n{variables}\n{}",
            request.operation_name.as_deref().unwrap_or(""),
            request.query
        ))
    }

    /// The kept answer under `key`, if everything it read is unchanged.
    pub fn get(&self, key: &str, clusters: &ClusterRegistry) -> Option<Bytes> {
        let kept = self.kept.get(key)?;
        let current = kept
            .read
            .iter()
            .all(|(source, version)| source.current(clusters) == Some(*version));
        if current {
            Some(kept.body.clone())
        } else {
            self.kept.invalidate(key);
            None
        }
    }

    /// Waits for the turn to execute the request of `key` (see
    /// [`crate::flights`]); look for a kept answer again once it comes.
    pub async fn turn(&self, key: &str) -> crate::flights::Turn {
        self.flights.turn(key).await
    }

    /// Keeps `body` under `key`, if what the operation read allows it.
    pub fn put(&self, key: String, read: &Dependencies, body: Bytes) {
        if let Some(read) = read.take() {
            self.kept.insert(key, Arc::new(Kept { read, body }));
        }
    }
}

/// Records, for the operation of `ctx`, that `kind` of `cluster` is about to
/// be read: all of it when `scope` is every namespace, else `namespace` or
/// the namespaces `scope` holds.
pub(crate) fn reading(
    ctx: &async_graphql::Context<'_>,
    cluster: &str,
    kind: Kind,
    namespace: Option<&str>,
    scope: &NamespaceScope,
) {
    let namespaces = match (namespace, scope) {
        (Some(namespace), _) => Some(vec![namespace.to_owned()]),
        (None, NamespaceScope::All) => None,
        (None, NamespaceScope::Only(namespaces)) => Some(namespaces.iter().cloned().collect()),
    };
    reading_namespaces(ctx, cluster, kind, namespaces);
}

/// The namespaces whose version a viewer of `scope` is shown for a read of
/// `namespace` (`None`: of every namespace the scope holds). `None` (the
/// whole cluster's version) for a viewer who may read the whole cluster;
/// else only namespaces the viewer may read, so that a change elsewhere
/// never moves a version (nor an ETag) they see.
pub(crate) fn version_namespaces(
    namespace: Option<&str>,
    scope: &NamespaceScope,
) -> Option<Vec<String>> {
    match (scope, namespace) {
        (NamespaceScope::All, _) => None,
        (NamespaceScope::Only(_), Some(namespace)) => Some(vec![namespace.to_owned()]),
        (NamespaceScope::Only(namespaces), None) => Some(namespaces.iter().cloned().collect()),
    }
}

/// Records, for the operation of `ctx`, that the version of `kind` of
/// `cluster` shown to a viewer of `scope` is about to be read (see
/// [`version_namespaces`]).
pub(crate) fn reading_version(
    ctx: &async_graphql::Context<'_>,
    cluster: &str,
    kind: Kind,
    namespace: Option<&str>,
    scope: &NamespaceScope,
) {
    reading_namespaces(ctx, cluster, kind, version_namespaces(namespace, scope));
}

/// Records, for the operation of `ctx`, that all of `kind` of `cluster` is
/// about to be read.
pub(crate) fn reading_all(ctx: &async_graphql::Context<'_>, cluster: &str, kind: Kind) {
    reading_namespaces(ctx, cluster, kind, None);
}

fn reading_namespaces(
    ctx: &async_graphql::Context<'_>,
    cluster: &str,
    kind: Kind,
    namespaces: Option<Vec<String>>,
) {
    if let Some(read) = ctx.data_opt::<Dependencies>() {
        read.reading(&super::app(ctx).clusters, cluster, kind, namespaces);
    }
}

/// Records, for the operation of `ctx`, that something no cache version
/// covers was read.
pub(crate) fn unversioned(ctx: &async_graphql::Context<'_>) {
    if let Some(read) = ctx.data_opt::<Dependencies>() {
        read.unversioned();
    }
}

/// Whether the operation `request` runs is a query whose root fields all
/// read the watch caches only: only such answers are kept.
pub(crate) fn reads_caches_only(documents: &Documents, request: &Request) -> bool {
    super::selected_operation(documents, request, |operation| {
        operation.ty == OperationType::Query
            && operation.directives.is_empty()
            && operation
                .selection_set
                .node
                .items
                .iter()
                .all(|item| match &item.node {
                    Selection::Field(field) => {
                        CACHE_ONLY_FIELDS.contains(&field.node.name.node.as_str())
                    }
                    // Fragments at the root are not looked into: not kept.
                    _ => false,
                })
    })
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_queries_of_cache_fields_are_kept() {
        let documents = Documents::default();
        let kept = |query: &str| reads_caches_only(&documents, &Request::new(query));
        assert!(kept("{ pods(cluster: \"a\") { name } viewerScope }"));
        assert!(kept("query Q { podConnection { totalCount } }"));
        assert!(!kept("{ me { name } pods(cluster: \"a\") { name } }"));
        assert!(!kept(
            "{ pod(cluster: \"a\", namespace: \"b\", name: \"c\") { name } }"
        ));
        assert!(!kept("{ clusters { name reachable } }"));
        assert!(!kept(
            "mutation { login(name: \"a\", password: \"b\") { token } }"
        ));
        assert!(!kept(
            "{ ...F } fragment F on Query { pods(cluster: \"a\") { name } }"
        ));
        assert!(!kept("{"));
    }
}
