//! Namespaces (`v1`, no namespace), as `kubectl get namespaces` shows them.
//! A Namespace is visible to whoever holds a grant in it.

use k8s_openapi::api::core::v1 as core;

use crate::{
    auth::NamespaceScope,
    graphql::resources::Served,
    k8s::{
        printers::{self, NamespaceColumns},
        resource::{Entry, Kind},
    },
};

/// The kind `Namespace`.
pub struct Namespace;

impl Kind for Namespace {
    type Object = core::Namespace;
    type Columns = NamespaceColumns;
    const KIND: &'static str = "Namespace";
    fn columns(object: &core::Namespace) -> NamespaceColumns {
        printers::namespace(object)
    }
}

impl Served for Namespace {
    fn visible(scope: &NamespaceScope, entry: &Entry<Self>) -> bool {
        scope.covers(&entry.meta.name)
    }

    fn reach() -> crate::auth::Reach {
        crate::auth::Reach::AnyGrant
    }
}

crate::served_kind! {
    kind Namespace, object "Namespace", edge "NamespaceEdge",
    connection "NamespaceConnection", query NamespaceQuery "NamespaceQuery";
    scope cluster, filter crate::graphql::resources::ResourceFilter;
    root namespace_connection, namespace;
    /// A Namespace, as `kubectl get namespaces` shows it.
    fields {
        /// STATUS: Active or Terminating.
        status: &str = |c| &c.status;
    }
    relations {}
}
