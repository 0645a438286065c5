//! Resource kinds the simulator serves and small helpers for poking at objects
//! stored as `serde_json::Value` (metadata access, stable UIDs, timestamps).

use serde_json::{Map, Value, json};

/// A kind of Kubernetes object the simulator stores and serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceKind {
    /// `v1` Pod (namespaced).
    Pod,
    /// `v1` Node (cluster-scoped).
    Node,
    /// `v1` Namespace (cluster-scoped).
    Namespace,
    /// `apps/v1` ReplicaSet (namespaced).
    ReplicaSet,
    /// `apps/v1` Deployment (namespaced).
    Deployment,
    /// `apps/v1` StatefulSet (namespaced).
    StatefulSet,
    /// `apps/v1` DaemonSet (namespaced).
    DaemonSet,
    /// `batch/v1` Job (namespaced).
    Job,
    /// `batch/v1` CronJob (namespaced).
    CronJob,
    /// `v1` Service (namespaced).
    Service,
    /// `v1` Event (namespaced; the core `events` resource, not `events.k8s.io`).
    Event,
}

/// Static facts about one kind: one row per kind, so everything else stays
/// generic over the kind.
struct KindInfo {
    kind: &'static str,
    group: &'static str,
    plural: &'static str,
    singular: &'static str,
    namespaced: bool,
    short_names: &'static [&'static str],
    /// Whether the kind is in the `all` category (`kubectl get all`).
    in_all: bool,
}

const fn row(
    kind: &'static str,
    group: &'static str,
    plural: &'static str,
    singular: &'static str,
    namespaced: bool,
    short_names: &'static [&'static str],
    in_all: bool,
) -> KindInfo {
    KindInfo {
        kind,
        group,
        plural,
        singular,
        namespaced,
        short_names,
        in_all,
    }
}

const fn info(kind: ResourceKind) -> KindInfo {
    match kind {
        ResourceKind::Pod => row("Pod", "", "pods", "pod", true, &["po"], true),
        ResourceKind::Node => row("Node", "", "nodes", "node", false, &["no"], false),
        ResourceKind::Namespace => row(
            "Namespace",
            "",
            "namespaces",
            "namespace",
            false,
            &["ns"],
            false,
        ),
        ResourceKind::ReplicaSet => row(
            "ReplicaSet",
            "apps",
            "replicasets",
            "replicaset",
            true,
            &["rs"],
            true,
        ),
        ResourceKind::Deployment => row(
            "Deployment",
            "apps",
            "deployments",
            "deployment",
            true,
            &["deploy"],
            true,
        ),
        ResourceKind::StatefulSet => row(
            "StatefulSet",
            "apps",
            "statefulsets",
            "statefulset",
            true,
            &["sts"],
            true,
        ),
        ResourceKind::DaemonSet => row(
            "DaemonSet",
            "apps",
            "daemonsets",
            "daemonset",
            true,
            &["ds"],
            true,
        ),
        ResourceKind::Job => row("Job", "batch", "jobs", "job", true, &[], true),
        ResourceKind::CronJob => row(
            "CronJob",
            "batch",
            "cronjobs",
            "cronjob",
            true,
            &["cj"],
            true,
        ),
        ResourceKind::Service => row("Service", "", "services", "service", true, &["svc"], true),
        ResourceKind::Event => row("Event", "", "events", "event", true, &["ev"], false),
    }
}

/// The API groups served besides the core group, in discovery order.
pub(crate) const GROUPS: [&str; 2] = ["apps", "batch"];

impl ResourceKind {
    /// Every kind, in the order the simulator creates synthesized objects
    /// (owners before what they own, Events last).
    pub const ALL: [ResourceKind; 11] = [
        ResourceKind::Namespace,
        ResourceKind::Node,
        ResourceKind::Deployment,
        ResourceKind::StatefulSet,
        ResourceKind::DaemonSet,
        ResourceKind::CronJob,
        ResourceKind::Job,
        ResourceKind::ReplicaSet,
        ResourceKind::Pod,
        ResourceKind::Service,
        ResourceKind::Event,
    ];

    /// The kind served under `group` (`""` for core) as `plural`, if any.
    pub fn from_plural(group: &str, plural: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.group() == group && k.plural() == plural)
    }

    /// The `kind` field value, e.g. `Pod`.
    pub fn kind(self) -> &'static str {
        info(self).kind
    }

    /// The `apiVersion` field value, e.g. `v1` or `apps/v1`.
    pub fn api_version(self) -> &'static str {
        match self.group() {
            "" => "v1",
            "apps" => "apps/v1",
            _ => "batch/v1",
        }
    }

    /// The API group (`""` for the core group).
    pub fn group(self) -> &'static str {
        info(self).group
    }

    /// The plural resource name used in URLs, e.g. `pods`.
    pub fn plural(self) -> &'static str {
        info(self).plural
    }

    /// The singular resource name, e.g. `pod` (used in counter names).
    pub fn singular(self) -> &'static str {
        info(self).singular
    }

    /// Whether objects of this kind live in a namespace.
    pub fn namespaced(self) -> bool {
        info(self).namespaced
    }

    /// kubectl's short names, e.g. `["deploy"]`.
    pub(crate) fn short_names(self) -> &'static [&'static str] {
        info(self).short_names
    }

    /// Whether the kind is in the `all` category.
    pub(crate) fn in_all_category(self) -> bool {
        info(self).in_all
    }

    /// The `kind` of the list type, e.g. `PodList`.
    pub fn list_kind(self) -> String {
        format!("{}List", self.kind())
    }

    /// The resource name as used in NotFound messages: `pods`, `replicasets.apps`.
    pub(crate) fn qualified_plural(self) -> String {
        if self.group().is_empty() {
            self.plural().to_string()
        } else {
            format!("{}.{}", self.plural(), self.group())
        }
    }
}

/// Storage key of an object: (namespace, name); the namespace is `""` for
/// cluster-scoped kinds. Ordering gives the stable namespace/name list order.
pub(crate) type Key = (String, String);

/// `obj.metadata` as a mutable map, created if missing or not an object.
pub(crate) fn meta_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.is_object() {
        *obj = json!({});
    }
    let map = obj.as_object_mut().expect("just made an object");
    let meta = map.entry("metadata").or_insert_with(|| json!({}));
    if !meta.is_object() {
        *meta = json!({});
    }
    meta.as_object_mut().expect("just made an object")
}

/// A string at a JSON pointer, if present.
pub(crate) fn str_at<'a>(obj: &'a Value, pointer: &str) -> Option<&'a str> {
    obj.pointer(pointer).and_then(Value::as_str)
}

/// `metadata.name` (empty if absent).
pub(crate) fn name_of(obj: &Value) -> &str {
    str_at(obj, "/metadata/name").unwrap_or_default()
}

/// `metadata.namespace` (empty if absent).
pub(crate) fn namespace_of(obj: &Value) -> &str {
    str_at(obj, "/metadata/namespace").unwrap_or_default()
}

/// Sets `apiVersion`/`kind` when missing, as the API server does for single
/// objects and watch events.
pub(crate) fn with_type_meta(mut obj: Value, kind: ResourceKind) -> Value {
    if let Some(map) = obj.as_object_mut() {
        if !map.get("apiVersion").is_some_and(Value::is_string) {
            map.insert("apiVersion".into(), kind.api_version().into());
        }
        if !map.get("kind").is_some_and(Value::is_string) {
            map.insert("kind".into(), kind.kind().into());
        }
    }
    obj
}

/// 64-bit FNV-1a, used to derive stable identifiers from names.
pub(crate) fn fnv64(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// SplitMix64 step: a tiny deterministic PRNG.
pub(crate) fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A stable, UUID-shaped (version 4 layout) UID derived from `seed`.
pub(crate) fn stable_uid(seed: &str) -> String {
    let mut s = fnv64(seed.as_bytes());
    let a = splitmix64(&mut s);
    let b = splitmix64(&mut s);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0x0fff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

/// The current time as an RFC 3339 timestamp with second precision (`...Z`).
pub(crate) fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Whether a pod's `Ready` condition is `True`.
pub(crate) fn pod_is_ready(pod: &Value) -> bool {
    pod.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|conds| {
            conds.iter().any(|c| {
                c.get("type").and_then(Value::as_str) == Some("Ready")
                    && c.get("status").and_then(Value::as_str) == Some("True")
            })
        })
}

/// Characters Kubernetes uses for generated name suffixes (no vowels, no
/// look-alikes).
const SUFFIX_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// A `len`-character generated-name suffix derived from `seed`.
pub(crate) fn name_suffix(seed: u64, len: usize) -> String {
    let mut s = seed;
    (0..len)
        .map(|_| {
            let r = splitmix64(&mut s);
            SUFFIX_ALPHABET[(r % SUFFIX_ALPHABET.len() as u64) as usize] as char
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_is_stable_and_uuid_shaped() {
        let a = stable_uid("default/x");
        assert_eq!(a, stable_uid("default/x"));
        assert_ne!(a, stable_uid("default/y"));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
    }
}
