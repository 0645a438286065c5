//! Pods resolved without a future per field.
//!
//! async-graphql resolves every field of every object through a boxed future
//! of its own, looked up by comparing the field's name with each field of the
//! type. A list of 1,000 pods with kubectl's columns and their containers is
//! some 30,000 such futures, nearly all returning a string the stored summary
//! already holds. A [`PodPlan`] reads the selection set once (once per list,
//! not once per pod) and writes each pod's plain fields straight into its
//! value; only the fields that need the operation's context (`node`,
//! `workload`, `json`, `yaml`) go through the generated resolvers, and a
//! selection this plan does not cover goes through them whole.
//!
//! When the answer is serialised by [`response_json`] (the `/graphql`
//! transport marks such requests with [`WrittenJson`]), a list of pods goes
//! further: it is written as JSON text at once and handed over as one value,
//! which the serialiser splices in. A tree of values per pod would be built,
//! serialised and dropped, which was most of a cold list's cost.

use std::io;

use async_graphql::{
    ContainerType, ContextSelectionSet, Name, Positioned, Response, ServerError, ServerResult,
    Value,
    indexmap::IndexMap,
    parser::types::{Field, Selection, SelectionSet},
    resolver_utils::{enum_value, resolve_container},
};
use futures_util::future::{join_all, try_join_all};
use serde::Serialize;

use super::pods::{Pod, PodObject};
use crate::k8s::summary::{ContainerSummary, PodSummary};

/// A plain field of a pod: read from the summary, never failing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PodScalar {
    Typename,
    Cluster,
    Name,
    Namespace,
    Restarts,
    LastRestart,
    Ready,
    Controlled,
    Qos,
    Created,
    Status,
    NodeName,
    PodIp,
    ReadinessGates,
}

impl PodScalar {
    fn of(field: &str) -> Option<Self> {
        Some(match field {
            "__typename" => PodScalar::Typename,
            "cluster" => PodScalar::Cluster,
            "name" => PodScalar::Name,
            "namespace" => PodScalar::Namespace,
            "restarts" => PodScalar::Restarts,
            "lastRestart" => PodScalar::LastRestart,
            "ready" => PodScalar::Ready,
            "controlled" => PodScalar::Controlled,
            "qos" => PodScalar::Qos,
            "created" => PodScalar::Created,
            "status" => PodScalar::Status,
            "nodeName" => PodScalar::NodeName,
            "podIP" => PodScalar::PodIp,
            "readinessGates" => PodScalar::ReadinessGates,
            _ => return None,
        })
    }

    /// Its value in `pod`.
    fn get(self, pod: &Pod) -> Scalar<'_> {
        let summary: &PodSummary = &pod.entry().summary;
        match self {
            PodScalar::Typename => Scalar::Text("Pod"),
            PodScalar::Cluster => Scalar::Text(pod.cluster()),
            PodScalar::Name => Scalar::Text(&summary.name),
            PodScalar::Namespace => Scalar::Text(&summary.namespace),
            PodScalar::Restarts => Scalar::Int(summary.restarts),
            PodScalar::LastRestart => Scalar::Maybe(summary.last_restart.as_deref()),
            PodScalar::Ready => Scalar::Text(&summary.ready),
            PodScalar::Controlled => Scalar::Text(&summary.controlled),
            PodScalar::Qos => Scalar::Text(&summary.qos),
            PodScalar::Created => Scalar::Maybe(summary.created.as_deref()),
            PodScalar::Status => Scalar::Text(&summary.status),
            PodScalar::NodeName => Scalar::Text(&summary.node_name),
            PodScalar::PodIp => Scalar::Text(&summary.pod_ip),
            PodScalar::ReadinessGates => Scalar::Text(&summary.readiness_gates),
        }
    }
}

/// A field of a container; all of them are plain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ContainerScalar {
    Typename,
    Name,
    Image,
    Status,
    Reason,
    Ready,
    Restarts,
    Sidecar,
}

impl ContainerScalar {
    fn of(field: &str) -> Option<Self> {
        Some(match field {
            "__typename" => ContainerScalar::Typename,
            "name" => ContainerScalar::Name,
            "image" => ContainerScalar::Image,
            "status" => ContainerScalar::Status,
            "reason" => ContainerScalar::Reason,
            "ready" => ContainerScalar::Ready,
            "restarts" => ContainerScalar::Restarts,
            "sidecar" => ContainerScalar::Sidecar,
            _ => return None,
        })
    }

    /// Its value in `container`.
    fn get(self, container: &ContainerSummary) -> Scalar<'_> {
        match self {
            ContainerScalar::Typename => Scalar::Text("Container"),
            ContainerScalar::Name => Scalar::Text(&container.name),
            ContainerScalar::Image => Scalar::Text(&container.image),
            ContainerScalar::Status => Scalar::Other(enum_value(container.status)),
            ContainerScalar::Reason => Scalar::Text(&container.reason),
            ContainerScalar::Ready => Scalar::Flag(container.ready),
            ContainerScalar::Restarts => Scalar::Int(container.restarts),
            ContainerScalar::Sidecar => Scalar::Flag(container.sidecar),
        }
    }
}

/// The value of a plain field, borrowed from the summary: made a GraphQL
/// value, or written as JSON, the same either way.
enum Scalar<'a> {
    Text(&'a str),
    Maybe(Option<&'a str>),
    Int(i32),
    Flag(bool),
    Other(Value),
}

impl Scalar<'_> {
    fn value(self) -> Value {
        match self {
            Scalar::Text(text) => Value::String(text.to_owned()),
            Scalar::Maybe(text) => text.map_or(Value::Null, |text| Value::String(text.to_owned())),
            Scalar::Int(number) => Value::from(number),
            Scalar::Flag(flag) => Value::Boolean(flag),
            Scalar::Other(value) => value,
        }
    }

    fn write(self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        let json = &mut serde_json::Serializer::new(out);
        match self {
            Scalar::Text(text) => text.serialize(json),
            Scalar::Maybe(text) => text.serialize(json),
            Scalar::Int(number) => number.serialize(json),
            Scalar::Flag(flag) => flag.serialize(json),
            Scalar::Other(value) => value.serialize(json),
        }
    }
}

/// A response key, and the same key as JSON text with its colon
/// (`"key":`), written once per plan.
struct Key {
    name: Name,
    json: Box<[u8]>,
}

impl Key {
    fn new(name: &Name) -> Self {
        let json = format!("{}:", serde_json::Value::from(name.as_str()));
        Key {
            name: name.clone(),
            json: json.into_bytes().into(),
        }
    }
}

/// Writes an object's members as JSON, as async-graphql would serialise its
/// value: `null` when none is written.
struct ObjectWriter {
    start: usize,
    members: usize,
}

impl ObjectWriter {
    fn open(out: &mut Vec<u8>) -> Self {
        let start = out.len();
        out.push(b'{');
        ObjectWriter { start, members: 0 }
    }

    /// Starts the member `key`: its value is written next.
    fn key(&mut self, key: &Key, out: &mut Vec<u8>) {
        if self.members > 0 {
            out.push(b',');
        }
        self.members += 1;
        out.extend_from_slice(&key.json);
    }

    fn close(self, out: &mut Vec<u8>) {
        if self.members == 0 {
            out.truncate(self.start);
            out.extend_from_slice(b"null");
        } else {
            out.push(b'}');
        }
    }
}

/// Set on a request whose answer is serialised by [`response_json`]: lists
/// of pods may then be handed over as JSON text already written.
pub(crate) struct WrittenJson;

/// Holds the JSON text of a list written at once. async-graphql has no
/// value for text already written; its byte values serialise through
/// `serialize_bytes`, which [`Splice`] writes as they are. The schema has no
/// scalar of bytes, so nothing else reaches it.
fn written(out: Vec<u8>) -> Value {
    Value::Binary(out.into())
}

/// Serialises `response`, splicing in the lists written at once.
pub(crate) fn response_json(response: &Response) -> serde_json::Result<Vec<u8>> {
    // Sized for the text written already, so a large list is copied once.
    let mut out = Vec::with_capacity(written_len(&response.data) + 1024);
    response.serialize(&mut serde_json::Serializer::with_formatter(
        &mut out, Splice,
    ))?;
    Ok(out)
}

/// The length of the JSON text written already within `value`.
fn written_len(value: &Value) -> usize {
    match value {
        Value::Binary(text) => text.len(),
        Value::List(items) => items.iter().map(written_len).sum(),
        Value::Object(members) => members.values().map(written_len).sum(),
        _ => 0,
    }
}

/// serde_json's compact output, with byte values (only ever JSON text a
/// [`PodPlan`] wrote) copied as they are.
struct Splice;

impl serde_json::ser::Formatter for Splice {
    fn write_byte_array<W>(&mut self, writer: &mut W, value: &[u8]) -> io::Result<()>
    where
        W: ?Sized + io::Write,
    {
        writer.write_all(value)
    }
}

/// The JSON array of `items`, each written by `write`.
fn write_list<T>(
    items: impl ExactSizeIterator<Item = T>,
    mut write: impl FnMut(T, &mut Vec<u8>) -> serde_json::Result<()>,
) -> ServerResult<Value> {
    let count = items.len();
    let mut out = Vec::new();
    out.push(b'[');
    for (index, item) in items.enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write(item, &mut out)
            .map_err(|err| ServerError::new(format!("writing a list: {err}"), None))?;
        if index == 0 {
            // Items are alike: one growth to about the whole list's size.
            out.reserve(out.len() * count);
        }
    }
    out.push(b']');
    Ok(written(out))
}

/// The type of a list of `$item`, for an `OutputType` that writes the list
/// itself (`Pods`, `PodEdges`): what async-graphql declares for `Vec<$item>`.
macro_rules! list_type_of {
    ($item:ty) => {
        fn type_name() -> ::std::borrow::Cow<'static, str> {
            <Vec<$item> as ::async_graphql::OutputType>::type_name()
        }

        fn qualified_type_name() -> String {
            <Vec<$item> as ::async_graphql::OutputType>::qualified_type_name()
        }

        fn create_type_info(registry: &mut ::async_graphql::registry::Registry) -> String {
            <Vec<$item> as ::async_graphql::OutputType>::create_type_info(registry)
        }
    };
}
pub(crate) use list_type_of;

/// What one response key of a pod's value holds.
enum PodPart<'a> {
    Plain(PodScalar),
    /// `containers` (`init: false`) or `initContainers`, with the fields of
    /// each container.
    Containers {
        init: bool,
        fields: Vec<(Key, ContainerScalar)>,
        /// The keys of a container's value, with null values.
        template: IndexMap<Name, Value>,
    },
    /// Resolved by the generated resolver, with the operation's context.
    Resolved(&'a Positioned<Field>),
}

/// How the pods of one selection set are written: the response keys in
/// order, each with what it holds.
pub(crate) struct PodPlan<'a> {
    parts: Vec<(Key, PodPart<'a>)>,
    /// The keys of a pod's value, in order, with null values: each pod's
    /// value is a copy with the values filled in, which spares hashing every
    /// key of every pod again.
    template: IndexMap<Name, Value>,
    /// Some selection is beyond the plan (a resolved field asked twice under
    /// one key, whose selections would have to be merged): every field goes
    /// through the generated resolvers.
    generated: bool,
}

impl<'a> PodPlan<'a> {
    /// Reads the selection set of a pod (or of each pod of a list).
    pub(crate) fn read(ctx: &ContextSelectionSet<'a>) -> ServerResult<Self> {
        Self::read_set(ctx, ctx.item)
    }

    /// Reads `set`, a selection set on pods within `ctx`'s operation.
    fn read_set(
        ctx: &ContextSelectionSet<'a>,
        set: &'a Positioned<SelectionSet>,
    ) -> ServerResult<Self> {
        let mut fields = Vec::new();
        flatten(ctx, set, "Pod", &mut fields)?;
        let mut plan = PodPlan {
            parts: Vec::with_capacity(fields.len()),
            template: IndexMap::new(),
            generated: false,
        };
        // Fields under one response key are the same field (validation checks
        // it); containers' selections under one key are merged.
        for field in fields {
            let key = &field.node.response_key().node;
            let name = field.node.name.node.as_str();
            let seen = plan.parts.iter().position(|(k, _)| k.name == *key);
            let init = match name {
                "containers" => Some(false),
                "initContainers" => Some(true),
                _ => None,
            };
            match (seen, init) {
                (Some(at), Some(_)) => {
                    if let PodPart::Containers { fields: known, .. } = &mut plan.parts[at].1 {
                        container_fields(ctx, &field.node.selection_set, known)?;
                    }
                }
                (Some(_), None) => {
                    if PodScalar::of(name).is_none() {
                        plan.generated = true;
                    }
                }
                (None, Some(init)) => {
                    let mut known = Vec::new();
                    container_fields(ctx, &field.node.selection_set, &mut known)?;
                    plan.parts.push((
                        Key::new(key),
                        PodPart::Containers {
                            init,
                            fields: known,
                            template: IndexMap::new(),
                        },
                    ));
                }
                (None, None) => {
                    let part = PodScalar::of(name).map_or(PodPart::Resolved(field), PodPart::Plain);
                    plan.parts.push((Key::new(key), part));
                }
            }
        }
        for (key, part) in &mut plan.parts {
            plan.template.insert(key.name.clone(), Value::Null);
            if let PodPart::Containers {
                fields, template, ..
            } = part
            {
                template.extend(
                    fields
                        .iter()
                        .map(|(key, _)| (key.name.clone(), Value::Null)),
                );
            }
        }
        Ok(plan)
    }

    /// Every field is written from the summary: no context is needed.
    fn plain(&self) -> bool {
        !self.generated
            && self
                .parts
                .iter()
                .all(|(_, part)| !matches!(part, PodPart::Resolved(_)))
    }

    /// The pod's value when every field is plain; the value without its
    /// resolved fields otherwise.
    fn write(&self, pod: &Pod) -> IndexMap<Name, Value> {
        let mut map = self.template.clone();
        for (slot, (_, part)) in map.values_mut().zip(&self.parts) {
            *slot = match part {
                PodPart::Plain(scalar) => scalar.get(pod).value(),
                PodPart::Containers {
                    init,
                    fields,
                    template,
                } => {
                    let objects = containers(pod, *init).iter().map(|container| {
                        let mut object = template.clone();
                        for (slot, (_, field)) in object.values_mut().zip(fields) {
                            *slot = field.get(container).value();
                        }
                        object_or_null(object)
                    });
                    Value::List(objects.collect())
                }
                // Filled in by `resolve`.
                PodPart::Resolved(_) => Value::Null,
            };
        }
        map
    }

    /// The pod's value written as JSON, with `resolved` the values of its
    /// resolved fields in order (see [`PodPlan::resolve_fields`]).
    fn write_json(
        &self,
        pod: &Pod,
        resolved: Vec<Option<Value>>,
        out: &mut Vec<u8>,
    ) -> serde_json::Result<()> {
        let mut resolved = resolved.into_iter();
        let mut object = ObjectWriter::open(out);
        for (key, part) in &self.parts {
            match part {
                PodPart::Plain(scalar) => {
                    object.key(key, out);
                    scalar.get(pod).write(out)?;
                }
                PodPart::Containers { init, fields, .. } => {
                    object.key(key, out);
                    out.push(b'[');
                    for (index, container) in containers(pod, *init).iter().enumerate() {
                        if index > 0 {
                            out.push(b',');
                        }
                        let mut member = ObjectWriter::open(out);
                        for (key, field) in fields {
                            member.key(key, out);
                            field.get(container).write(out)?;
                        }
                        member.close(out);
                    }
                    out.push(b']');
                }
                PodPart::Resolved(_) => {
                    if let Some(value) = resolved.next().flatten() {
                        object.key(key, out);
                        value.serialize(&mut serde_json::Serializer::new(&mut *out))?;
                    }
                }
            }
        }
        object.close(out);
        Ok(())
    }

    /// The values of the resolved fields of `pod`, in order, resolved
    /// concurrently: `None` for one that failed, whose error is the answer's
    /// and whose key is left out (as async-graphql does).
    async fn resolve_fields(&self, ctx: &ContextSelectionSet<'_>, pod: &Pod) -> Vec<Option<Value>> {
        let object = &PodObject::from(pod.clone());
        let resolved = self.parts.iter().filter_map(|(_, part)| match part {
            PodPart::Resolved(field) => Some(async move {
                let ctx_field = ctx.with_field(field);
                object.resolve_field(&ctx_field).await
            }),
            _ => None,
        });
        let results = join_all(resolved).await;
        results
            .into_iter()
            .map(|result| match result {
                Ok(value) => Some(value.unwrap_or_default()),
                Err(err) => {
                    ctx.add_error(err);
                    None
                }
            })
            .collect()
    }

    /// The value of `pod` under this plan, as the generated resolvers would
    /// give it.
    pub(crate) async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        pod: &Pod,
    ) -> ServerResult<Value> {
        if self.generated {
            return resolve_container(ctx, &PodObject::from(pod.clone())).await;
        }
        let mut map = self.write(pod);
        let mut resolved = self.resolve_fields(ctx, pod).await.into_iter();
        for (key, part) in &self.parts {
            if !matches!(part, PodPart::Resolved(_)) {
                continue;
            }
            match resolved.next().flatten() {
                Some(value) => {
                    map.insert(key.name.clone(), value);
                }
                None => {
                    map.shift_remove(&key.name);
                }
            }
        }
        Ok(object_or_null(map))
    }

    /// The values of `pods` under this plan: at once when every field is
    /// plain, else each pod with its resolved fields, concurrently (so the
    /// DataLoaders batch them). Written as JSON when the request allows it.
    pub(crate) async fn resolve_all(
        &self,
        ctx: &ContextSelectionSet<'_>,
        pods: &[Pod],
    ) -> ServerResult<Value> {
        let as_json = !self.generated && ctx.data_opt::<WrittenJson>().is_some();
        if self.plain() {
            if as_json {
                return write_list(pods.iter(), |pod, out| {
                    self.write_json(pod, Vec::new(), out)
                });
            }
            let items = pods.iter().map(|pod| object_or_null(self.write(pod)));
            return Ok(Value::List(items.collect()));
        }
        if as_json {
            let resolved = pods.iter().enumerate().map(|(index, pod)| {
                let ctx_index = ctx.with_index(index);
                async move { self.resolve_fields(&ctx_index, pod).await }
            });
            let resolved = join_all(resolved).await;
            return write_list(pods.iter().zip(resolved), |(pod, resolved), out| {
                self.write_json(pod, resolved, out)
            });
        }
        let items = pods.iter().enumerate().map(|(index, pod)| {
            let ctx_index = ctx.with_index(index);
            async move {
                self.resolve(&ctx_index, pod)
                    .await
                    .map_err(|err| ctx_index.set_error_path(err))
            }
        });
        Ok(Value::List(try_join_all(items).await?))
    }
}

/// A pod's containers (`init: false`) or init containers.
fn containers(pod: &Pod, init: bool) -> &[ContainerSummary] {
    let summary = &pod.entry().summary;
    if init {
        &summary.init_containers
    } else {
        &summary.containers
    }
}

/// What one response key of a connection edge's value holds.
enum EdgePart<'a> {
    Typename,
    Cursor,
    Node(PodPlan<'a>),
}

/// The values of a connection's `edges`: written at once when the edge's and
/// its node's fields are all plain (the page's cursors made only when asked
/// for), else `None`: the generated resolvers write them.
pub(crate) fn write_edges<'a, E>(
    ctx: &ContextSelectionSet<'a>,
    edges: &[E],
    cursor: impl Fn(&E) -> String,
    node: impl Fn(&E) -> &Pod,
) -> ServerResult<Option<Value>> {
    let mut fields = Vec::new();
    flatten(ctx, ctx.item, "PodEdge", &mut fields)?;
    let mut parts: Vec<(Key, EdgePart)> = Vec::with_capacity(fields.len());
    for field in fields {
        let key = &field.node.response_key().node;
        let part = match field.node.name.node.as_str() {
            "__typename" => EdgePart::Typename,
            "cursor" => EdgePart::Cursor,
            // One `node` key with one selection: two would have to be merged.
            "node" if !parts.iter().any(|(_, p)| matches!(p, EdgePart::Node(_))) => {
                let plan = PodPlan::read_set(ctx, &field.node.selection_set)?;
                if !plan.plain() {
                    return Ok(None);
                }
                EdgePart::Node(plan)
            }
            _ => return Ok(None),
        };
        if parts.iter().any(|(k, _)| k.name == *key) {
            return Ok(None);
        }
        parts.push((Key::new(key), part));
    }
    if ctx.data_opt::<WrittenJson>().is_some() {
        let list = write_list(edges.iter(), |edge, out| {
            let mut object = ObjectWriter::open(out);
            for (key, part) in &parts {
                object.key(key, out);
                match part {
                    EdgePart::Typename => {
                        "PodEdge".serialize(&mut serde_json::Serializer::new(&mut *out))?;
                    }
                    EdgePart::Cursor => {
                        cursor(edge).serialize(&mut serde_json::Serializer::new(&mut *out))?;
                    }
                    EdgePart::Node(plan) => plan.write_json(node(edge), Vec::new(), out)?,
                }
            }
            object.close(out);
            Ok(())
        })?;
        return Ok(Some(list));
    }
    let template: IndexMap<Name, Value> = parts
        .iter()
        .map(|(key, _)| (key.name.clone(), Value::Null))
        .collect();
    let items = edges.iter().map(|edge| {
        let mut map = template.clone();
        for (slot, (_, part)) in map.values_mut().zip(&parts) {
            *slot = match part {
                EdgePart::Typename => Value::String("PodEdge".to_owned()),
                EdgePart::Cursor => Value::String(cursor(edge)),
                EdgePart::Node(plan) => object_or_null(plan.write(node(edge))),
            };
        }
        object_or_null(map)
    });
    Ok(Some(Value::List(items.collect())))
}

/// An object's value as async-graphql writes it: null when it has no field.
fn object_or_null(map: IndexMap<Name, Value>) -> Value {
    if map.is_empty() {
        Value::Null
    } else {
        Value::Object(map)
    }
}

/// The container fields of `set` added to `known`, each response key once.
fn container_fields(
    ctx: &ContextSelectionSet<'_>,
    set: &Positioned<SelectionSet>,
    known: &mut Vec<(Key, ContainerScalar)>,
) -> ServerResult<()> {
    let mut fields = Vec::new();
    flatten(ctx, set, "Container", &mut fields)?;
    for field in fields {
        let key = &field.node.response_key().node;
        if known.iter().any(|(k, _)| k.name == *key) {
            continue;
        }
        let scalar = ContainerScalar::of(&field.node.name.node).ok_or_else(|| {
            ServerError::new(
                format!(
                    r#"Cannot query field "{}" on type "Container"."#,
                    field.node.name.node
                ),
                Some(field.pos),
            )
        })?;
        known.push((Key::new(key), scalar));
    }
    Ok(())
}

/// The fields of `set` on an object of `type_name`, in order, with the
/// fragments that apply to it spread in (`@skip`/`@include` were applied to
/// the document before execution).
fn flatten<'a>(
    ctx: &ContextSelectionSet<'a>,
    set: &'a Positioned<SelectionSet>,
    type_name: &str,
    out: &mut Vec<&'a Positioned<Field>>,
) -> ServerResult<()> {
    for selection in &set.node.items {
        let (condition, inner) = match &selection.node {
            Selection::Field(field) => {
                out.push(field);
                continue;
            }
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                let fragment = ctx.query_env.fragments.get(name).ok_or_else(|| {
                    ServerError::new(format!(r#"Unknown fragment "{name}"."#), Some(spread.pos))
                })?;
                (
                    Some(&fragment.node.type_condition),
                    &fragment.node.selection_set,
                )
            }
            Selection::InlineFragment(fragment) => (
                fragment.node.type_condition.as_ref(),
                &fragment.node.selection_set,
            ),
        };
        // A pod is also a `Resource`.
        if condition.is_none_or(|c| {
            let on = c.node.on.node.as_str();
            on == type_name || on == "Resource"
        }) {
            flatten(ctx, inner, type_name, out)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_lists_are_spliced_into_the_answer_as_they_are() {
        let mut data = IndexMap::new();
        data.insert(Name::new("pods"), written(br#"[{"name":"a"}]"#.to_vec()));
        data.insert(Name::new("n"), Value::from(1));
        let response = Response::new(Value::Object(data));
        let text = response_json(&response).expect("serialised");
        assert_eq!(
            String::from_utf8(text).expect("UTF-8"),
            r#"{"data":{"pods":[{"name":"a"}],"n":1}}"#
        );
    }

    #[test]
    fn objects_without_members_are_null_as_async_graphql_writes_them() {
        let mut out = b"[".to_vec();
        ObjectWriter::open(&mut out).close(&mut out);
        out.push(b',');
        let mut object = ObjectWriter::open(&mut out);
        object.key(&Key::new(&Name::new("a b")), &mut out);
        out.push(b'1');
        object.close(&mut out);
        out.push(b']');
        assert_eq!(out, br#"[null,{"a b":1}]"#);
    }
}
