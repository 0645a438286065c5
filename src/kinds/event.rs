//! Events (core `v1`), as `kubectl get events -o wide` shows them, and the
//! `events` of every other object (Events whose involved object it is,
//! newest first).

use std::sync::Arc;

use async_graphql::{Context, SimpleObject};
use k8s_openapi::api::core::v1 as core;

use crate::{
    graphql::resources::{EventFilter, Filter, Object, Served, priced, related_entries},
    k8s::{
        printers::{self, EventColumns},
        resource::{Entry, Kind, namespaced},
    },
};

/// The kind `Event`.
pub struct Event;

impl Kind for Event {
    type Object = core::Event;
    type Columns = EventColumns;
    const KIND: &'static str = "Event";
    fn columns(object: &core::Event) -> EventColumns {
        printers::event(object)
    }
    fn last_seen(columns: &EventColumns) -> Option<&str> {
        columns.last_seen.as_deref()
    }
}

impl Served for Event {}

impl TryFrom<EventFilter> for Filter<Event> {
    type Error = crate::error::AppError;

    fn try_from(filter: EventFilter) -> Result<Self, Self::Error> {
        let read = Filter::read(filter.name, filter.label_selector.as_deref())?;
        let (type_, reason) = (filter.type_, filter.reason);
        let (kind, name) = (filter.involved_kind, filter.involved_name);
        if type_.is_none() && reason.is_none() && kind.is_none() && name.is_none() {
            return Ok(read);
        }
        Ok(read.and(move |event: &Entry<Event>| {
            let columns = &event.columns;
            type_.as_deref().is_none_or(|t| columns.type_ == t)
                && reason.as_deref().is_none_or(|r| columns.reason == r)
                && kind.as_deref().is_none_or(|k| columns.involved.kind == k)
                && name.as_deref().is_none_or(|n| columns.involved.name == n)
        }))
    }
}

/// The object an Event is about.
#[derive(SimpleObject)]
pub struct InvolvedObject {
    /// Its kind, e.g. Pod.
    pub kind: String,
    /// Its namespace (null for objects of no namespace).
    pub namespace: Option<String>,
    /// Its name.
    pub name: String,
    /// Its uid.
    pub uid: Option<String>,
}

crate::served_kind! {
    kind Event, object "Event", edge "EventEdge",
    connection "EventConnection", query EventQuery "EventQuery";
    scope namespaced, filter EventFilter;
    root event_connection, event;
    /// An Event, as `kubectl get events -o wide` shows it.
    fields {
        /// TYPE: Normal or Warning.
        #[graphql(name = "type")]
        type_: &str = |c| &c.type_;
        /// REASON, e.g. BackOff.
        reason: &str = |c| &c.reason;
        /// OBJECT, e.g. `pod/web-1`.
        object: &str = |c| &c.object;
        /// SUBOBJECT, e.g. `spec.containers{web}`.
        subobject: &str = |c| &c.subobject;
        /// SOURCE, e.g. `kubelet, node-1`.
        source: &str = |c| &c.source;
        /// MESSAGE.
        message: &str = |c| &c.message;
        /// COUNT (1 when not counted).
        count: i32 = |c| c.count;
        /// FIRST SEEN (RFC 3339).
        first_seen: Option<&str> = |c| c.first_seen.as_deref();
        /// LAST SEEN (RFC 3339).
        last_seen: Option<&str> = |c| c.last_seen.as_deref();
        /// The object it is about.
        involved_object: InvolvedObject = |c| InvolvedObject {
            kind: c.involved.kind.clone(),
            namespace: c.involved.namespace.clone(),
            name: c.involved.name.clone(),
            uid: c.involved.uid.clone(),
        };
    }
    relations {}
}

/// The Events about `object` the viewer may read, newest first: by the
/// involved object's kind and name (and uid, when both sides have one), in the
/// object's namespace; Events about objects of no namespace (Nodes) may be
/// in any.
pub async fn events_of<K: Served>(
    ctx: &Context<'_>,
    object: &Object<K>,
) -> async_graphql::Result<Vec<Object<Event>>> {
    let meta = &object.entry.meta;
    let namespace = namespaced::<K>().then_some(meta.namespace.as_str());
    events_about(
        ctx,
        &object.cluster,
        K::KIND,
        namespace,
        &meta.name,
        meta.uid.as_deref(),
    )
    .await
}

/// The Events about the object of `kind` named `name` (in `namespace`, or
/// in any for objects of no namespace) the viewer may read, newest first.
pub async fn events_about(
    ctx: &Context<'_>,
    cluster: &Arc<str>,
    kind: &str,
    namespace: Option<&str>,
    name: &str,
    uid: Option<&str>,
) -> async_graphql::Result<Vec<Object<Event>>> {
    let mut found = related_entries::<Event>(ctx, cluster, namespace, |event| {
        let involved = &event.columns.involved;
        involved.kind == kind
            && involved.name == name
            && match (involved.uid.as_deref(), uid) {
                // The kubelet names a Node by its name in `uid`, too.
                (Some(a), Some(b)) if !a.is_empty() && !b.is_empty() => {
                    a == b || (kind == "Node" && a == name)
                }
                _ => true,
            }
    })
    .await?;
    newest_first(&mut found);
    priced(ctx, cluster, found).await
}

/// Sorts Events by LAST SEEN, newest first (then by namespace and name).
pub fn newest_first(events: &mut [Arc<Entry<Event>>]) {
    events.sort_by(|a, b| {
        b.columns
            .last_seen
            .cmp(&a.columns.last_seen)
            .then_with(|| (&a.meta.namespace, &a.meta.name).cmp(&(&b.meta.namespace, &b.meta.name)))
    });
}
