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

use async_graphql::{
    ContainerType, ContextSelectionSet, Name, Positioned, ServerError, ServerResult, Value,
    indexmap::IndexMap,
    parser::types::{Field, Selection, SelectionSet},
    resolver_utils::{enum_value, resolve_container},
};
use futures_util::future::{join_all, try_join_all};

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

    fn value(self, pod: &Pod) -> Value {
        let summary: &PodSummary = &pod.entry().summary;
        let text = |s: &str| Value::String(s.to_owned());
        match self {
            PodScalar::Typename => text("Pod"),
            PodScalar::Cluster => text(pod.cluster()),
            PodScalar::Name => text(&summary.name),
            PodScalar::Namespace => text(&summary.namespace),
            PodScalar::Restarts => Value::from(summary.restarts),
            PodScalar::LastRestart => summary.last_restart.as_deref().map_or(Value::Null, text),
            PodScalar::Ready => text(&summary.ready),
            PodScalar::Controlled => text(&summary.controlled),
            PodScalar::Qos => text(&summary.qos),
            PodScalar::Created => summary.created.as_deref().map_or(Value::Null, text),
            PodScalar::Status => text(&summary.status),
            PodScalar::NodeName => text(&summary.node_name),
            PodScalar::PodIp => text(&summary.pod_ip),
            PodScalar::ReadinessGates => text(&summary.readiness_gates),
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

    fn value(self, container: &ContainerSummary) -> Value {
        match self {
            ContainerScalar::Typename => Value::String("Container".to_owned()),
            ContainerScalar::Name => Value::String(container.name.clone()),
            ContainerScalar::Image => Value::String(container.image.clone()),
            ContainerScalar::Status => enum_value(container.status),
            ContainerScalar::Reason => Value::String(container.reason.clone()),
            ContainerScalar::Ready => Value::Boolean(container.ready),
            ContainerScalar::Restarts => Value::from(container.restarts),
            ContainerScalar::Sidecar => Value::Boolean(container.sidecar),
        }
    }
}

/// What one response key of a pod's value holds.
enum PodPart<'a> {
    Plain(PodScalar),
    /// `containers` (`init: false`) or `initContainers`, with the fields of
    /// each container.
    Containers {
        init: bool,
        fields: Vec<(Name, ContainerScalar)>,
        /// The keys of a container's value, with null values.
        template: IndexMap<Name, Value>,
    },
    /// Resolved by the generated resolver, with the operation's context.
    Resolved(&'a Positioned<Field>),
}

/// How the pods of one selection set are written: the response keys in
/// order, each with what it holds.
pub(crate) struct PodPlan<'a> {
    parts: Vec<(Name, PodPart<'a>)>,
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
        let mut keys: Vec<&Name> = Vec::with_capacity(fields.len());
        for field in fields {
            let key = &field.node.response_key().node;
            let name = field.node.name.node.as_str();
            let seen = keys.iter().position(|k| *k == key);
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
                    keys.push(key);
                    plan.parts.push((
                        key.clone(),
                        PodPart::Containers {
                            init,
                            fields: known,
                            template: IndexMap::new(),
                        },
                    ));
                }
                (None, None) => {
                    keys.push(key);
                    let part = PodScalar::of(name).map_or(PodPart::Resolved(field), PodPart::Plain);
                    plan.parts.push((key.clone(), part));
                }
            }
        }
        for (key, part) in &mut plan.parts {
            plan.template.insert(key.clone(), Value::Null);
            if let PodPart::Containers {
                fields, template, ..
            } = part
            {
                template.extend(fields.iter().map(|(key, _)| (key.clone(), Value::Null)));
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
                PodPart::Plain(scalar) => scalar.value(pod),
                PodPart::Containers {
                    init,
                    fields,
                    template,
                } => {
                    let summary = &pod.entry().summary;
                    let containers = if *init {
                        &summary.init_containers
                    } else {
                        &summary.containers
                    };
                    let objects = containers.iter().map(|container| {
                        let mut object = template.clone();
                        for (slot, (_, field)) in object.values_mut().zip(fields) {
                            *slot = field.value(container);
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
        let object = &PodObject::from(pod.clone());
        let resolved = self.parts.iter().filter_map(|(key, part)| match part {
            PodPart::Resolved(field) => Some(async move {
                let ctx_field = ctx.with_field(field);
                (key, object.resolve_field(&ctx_field).await)
            }),
            _ => None,
        });
        for (key, result) in join_all(resolved).await {
            match result {
                Ok(value) => {
                    map.insert(key.clone(), value.unwrap_or_default());
                }
                // As async-graphql does: the error is the answer's, the key
                // is left out.
                Err(err) => {
                    map.shift_remove(key);
                    ctx.add_error(err);
                }
            }
        }
        Ok(object_or_null(map))
    }

    /// The values of `pods` under this plan: at once when every field is
    /// plain, else each pod with its resolved fields, concurrently (so the
    /// DataLoaders batch them).
    pub(crate) async fn resolve_all(
        &self,
        ctx: &ContextSelectionSet<'_>,
        pods: &[Pod],
    ) -> ServerResult<Value> {
        if self.plain() {
            let items = pods.iter().map(|pod| object_or_null(self.write(pod)));
            return Ok(Value::List(items.collect()));
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

/// What one response key of a connection edge's value holds.
enum EdgePart {
    Typename,
    Cursor,
    Node,
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
    let mut parts: Vec<(Name, EdgePart)> = Vec::with_capacity(fields.len());
    let mut node_plan = None;
    for field in fields {
        let key = &field.node.response_key().node;
        let part = match field.node.name.node.as_str() {
            "__typename" => EdgePart::Typename,
            "cursor" => EdgePart::Cursor,
            // One `node` key with one selection: two would have to be merged.
            "node" if node_plan.is_none() => {
                let plan = PodPlan::read_set(ctx, &field.node.selection_set)?;
                if !plan.plain() {
                    return Ok(None);
                }
                node_plan = Some(plan);
                EdgePart::Node
            }
            _ => return Ok(None),
        };
        if parts.iter().any(|(k, _)| k == key) {
            return Ok(None);
        }
        parts.push((key.clone(), part));
    }
    let template: IndexMap<Name, Value> = parts
        .iter()
        .map(|(key, _)| (key.clone(), Value::Null))
        .collect();
    let items = edges.iter().map(|edge| {
        let mut map = template.clone();
        for (slot, (_, part)) in map.values_mut().zip(&parts) {
            *slot = match part {
                EdgePart::Typename => Value::String("PodEdge".to_owned()),
                EdgePart::Cursor => Value::String(cursor(edge)),
                EdgePart::Node => node_plan
                    .as_ref()
                    .map_or(Value::Null, |plan| object_or_null(plan.write(node(edge)))),
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
    known: &mut Vec<(Name, ContainerScalar)>,
) -> ServerResult<()> {
    let mut fields = Vec::new();
    flatten(ctx, set, "Container", &mut fields)?;
    for field in fields {
        let key = &field.node.response_key().node;
        if known.iter().any(|(k, _)| k == key) {
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
        known.push((key.clone(), scalar));
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
        if condition.is_none_or(|c| c.node.on.node.as_str() == type_name) {
            flatten(ctx, inner, type_name, out)?;
        }
    }
    Ok(())
}
