//! The object store: every object as a `serde_json::Value`, the global
//! resourceVersion counter, the bounded watch-event history and the live
//! event broadcast, plus synthesis of Namespaces/Nodes/ReplicaSets/Deployments
//! around the pods.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::Value;
use tokio::sync::broadcast;

use crate::model::{
    Key, ResourceKind, fnv64, meta_mut, name_of, name_suffix, namespace_of, now_rfc3339,
    stable_uid, str_at, with_type_meta,
};
use crate::synth;

/// The type of a watch event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Added => "ADDED",
            Self::Modified => "MODIFIED",
            Self::Deleted => "DELETED",
        }
    }
}

/// One mutation, as kept in the history and broadcast to watchers.
#[derive(Debug)]
pub(crate) struct Event {
    pub rv: u64,
    pub kind: ResourceKind,
    pub etype: EventType,
    /// The object after the change (for DELETED: its last state), with type meta.
    pub object: Value,
    /// `object` serialized once for all watchers.
    pub object_json: String,
    /// The object before a MODIFIED change (to turn it into ADDED/DELETED for
    /// watchers whose selector it enters or leaves).
    pub old: Option<Value>,
}

/// Where a watch starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WatchFrom {
    /// Synthetic ADDED events for the current state, then live events.
    Initial,
    /// Events with a resourceVersion greater than this one.
    After(u64),
}

/// What a new watch gets: initial objects or replayed history, and the live feed.
pub(crate) struct Subscription {
    pub initial: Vec<Value>,
    pub replay: Vec<Arc<Event>>,
    pub rx: broadcast::Receiver<Arc<Event>>,
    pub start_rv: u64,
}

/// One page of a list.
pub(crate) struct Page {
    /// The matching objects, serialized.
    pub items: Vec<Arc<str>>,
    pub rv: u64,
    /// Key of the last item served when more matching items follow.
    pub next: Option<Key>,
    pub remaining: usize,
}

/// A stored object and its serialization (kept so lists are cheap).
struct Entry {
    obj: Value,
    json: Arc<str>,
}

impl Entry {
    fn new(obj: Value) -> Self {
        let json = serde_json::to_string(&obj)
            .unwrap_or_else(|_| "{}".into())
            .into();
        Self { obj, json }
    }
}

struct Inner {
    rv: u64,
    objects: HashMap<ResourceKind, BTreeMap<Key, Entry>>,
    history: VecDeque<Arc<Event>>,
    /// Events with rv <= this are forgotten; watching from an older rv is 410.
    compacted_rv: u64,
    history_limit: usize,
}

/// Thread-safe object store shared by the HTTP server and the [`crate::Simulator`] handle.
pub(crate) struct Store {
    inner: Mutex<Inner>,
    tx: broadcast::Sender<Arc<Event>>,
}

fn key_of(kind: ResourceKind, obj: &Value) -> Key {
    let ns = if kind.namespaced() {
        namespace_of(obj).to_string()
    } else {
        String::new()
    };
    (ns, name_of(obj).to_string())
}

fn set_rv(obj: &mut Value, rv: u64) {
    meta_mut(obj).insert("resourceVersion".into(), Value::String(rv.to_string()));
}

impl Inner {
    fn map(&mut self, kind: ResourceKind) -> &mut BTreeMap<Key, Entry> {
        self.objects.entry(kind).or_default()
    }

    fn contains(&self, kind: ResourceKind, key: &Key) -> bool {
        self.objects.get(&kind).is_some_and(|m| m.contains_key(key))
    }

    /// Fills in namespace, name, uid and creationTimestamp when missing.
    fn normalize(&mut self, kind: ResourceKind, obj: &mut Value) -> Key {
        let next_rv = self.rv + 1;
        let meta = meta_mut(obj);
        if kind.namespaced() {
            let ns_missing = meta
                .get("namespace")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty);
            if ns_missing {
                meta.insert("namespace".into(), "default".into());
            }
        }
        let name_missing = meta
            .get("name")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty);
        if name_missing {
            let name = match meta.get("generateName").and_then(Value::as_str) {
                Some(prefix) => {
                    format!("{prefix}{}", name_suffix(fnv64(&next_rv.to_be_bytes()), 5))
                }
                None => format!("{}-{next_rv}", kind.singular()),
            };
            meta.insert("name".into(), name.into());
        }
        let key = key_of(kind, obj);
        let existing = self
            .objects
            .get(&kind)
            .and_then(|m| m.get(&key))
            .map(|e| &e.obj);
        let old_uid = existing
            .and_then(|e| str_at(e, "/metadata/uid"))
            .map(str::to_string);
        let old_created = existing
            .and_then(|e| str_at(e, "/metadata/creationTimestamp"))
            .map(str::to_string);
        let meta = meta_mut(obj);
        if meta
            .get("uid")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            let uid = old_uid
                .unwrap_or_else(|| stable_uid(&format!("{}/{}/{}", kind.plural(), key.0, key.1)));
            meta.insert("uid".into(), uid.into());
        }
        if !meta.get("creationTimestamp").is_some_and(Value::is_string) {
            meta.insert(
                "creationTimestamp".into(),
                old_created.unwrap_or_else(now_rfc3339).into(),
            );
        }
        key
    }

    fn emit(
        &mut self,
        tx: &broadcast::Sender<Arc<Event>>,
        kind: ResourceKind,
        etype: EventType,
        object: Value,
        old: Option<Value>,
    ) {
        let object = with_type_meta(object, kind);
        let object_json = serde_json::to_string(&object).unwrap_or_else(|_| "{}".into());
        let ev = Arc::new(Event {
            rv: self.rv,
            kind,
            etype,
            object,
            object_json,
            old,
        });
        self.history.push_back(ev.clone());
        while self.history.len() > self.history_limit {
            if let Some(dropped) = self.history.pop_front() {
                self.compacted_rv = dropped.rv;
            }
        }
        // No receivers is fine: nobody is watching.
        let _ = tx.send(ev);
    }

    /// Inserts or replaces an object, bumping the resourceVersion and emitting an event.
    fn put(
        &mut self,
        tx: &broadcast::Sender<Arc<Event>>,
        kind: ResourceKind,
        mut obj: Value,
    ) -> u64 {
        let key = self.normalize(kind, &mut obj);
        self.rv += 1;
        let rv = self.rv;
        set_rv(&mut obj, rv);
        let old = self
            .map(kind)
            .insert(key, Entry::new(obj.clone()))
            .map(|e| e.obj);
        let etype = if old.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        self.emit(tx, kind, etype, obj, old);
        rv
    }

    /// Creates the Namespace, Node, Deployment and ReplicaSet a pod implies, when missing.
    fn ensure_pod_context(&mut self, tx: &broadcast::Sender<Arc<Event>>, pod: &Value) {
        let ns = namespace_of(pod).to_string();
        if !self.contains(ResourceKind::Namespace, &(String::new(), ns.clone())) {
            self.put(tx, ResourceKind::Namespace, synth::namespace(&ns));
        }
        if let Some(node) = str_at(pod, "/spec/nodeName").filter(|n| !n.is_empty())
            && !self.contains(ResourceKind::Node, &(String::new(), node.to_string()))
        {
            self.put(
                tx,
                ResourceKind::Node,
                synth::node(node, str_at(pod, "/status/hostIP")),
            );
        }
        for (kind, owner) in synth::controller_owners(pod) {
            let name = str_at(owner, "/name").unwrap_or_default().to_string();
            if !self.contains(kind, &(ns.clone(), name)) {
                self.put(tx, kind, synth::controller(kind, &ns, owner, &[pod]));
            }
        }
        for owner in synth::replicaset_owners(pod) {
            let rs_name = str_at(owner, "/name").unwrap_or_default().to_string();
            if self.contains(ResourceKind::ReplicaSet, &(ns.clone(), rs_name.clone())) {
                continue;
            }
            let deploy = synth::deployment_name_for(&rs_name).to_string();
            if !self.contains(ResourceKind::Deployment, &(ns.clone(), deploy.clone())) {
                self.put(
                    tx,
                    ResourceKind::Deployment,
                    synth::deployment(&ns, &deploy, &[pod]),
                );
            }
            self.put(
                tx,
                ResourceKind::ReplicaSet,
                synth::replicaset(&ns, owner, &[pod]),
            );
        }
    }
}

impl Store {
    /// An empty store keeping at most `history_limit` events for watch resumption.
    pub(crate) fn new(history_limit: usize, broadcast_capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(broadcast_capacity.max(16));
        Self {
            inner: Mutex::new(Inner {
                rv: 0,
                objects: HashMap::new(),
                history: VecDeque::new(),
                compacted_rv: 0,
                history_limit: history_limit.max(1),
            }),
            tx,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Bulk-loads the initial state: explicit objects, the pods and everything
    /// synthesized around them (replica counts from all pods). No watch history
    /// is recorded for it: watching from before the load is 410 Gone, as for a
    /// real cluster whose history is compacted.
    pub(crate) fn load_initial(&self, pods: Vec<Value>, extra: Vec<(ResourceKind, Value)>) {
        let mut inner = self.lock();
        let mut staged: BTreeMap<ResourceKind, BTreeMap<Key, Value>> = BTreeMap::new();
        for (kind, mut obj) in extra {
            let key = inner.normalize(kind, &mut obj);
            staged.entry(kind).or_default().insert(key, obj);
        }
        let mut pod_map = BTreeMap::new();
        for mut pod in pods {
            let key = inner.normalize(ResourceKind::Pod, &mut pod);
            pod_map.insert(key, pod);
        }
        // Group the pods by what they imply.
        let mut namespaces: BTreeSet<String> = ["default", "kube-system"].map(String::from).into();
        let mut nodes: BTreeMap<String, Option<String>> = BTreeMap::new();
        let mut rs_groups: BTreeMap<Key, (Value, Vec<&Value>)> = BTreeMap::new();
        let mut deploy_groups: BTreeMap<Key, Vec<&Value>> = BTreeMap::new();
        let mut controller_groups: BTreeMap<(ResourceKind, Key), (&Value, Vec<&Value>)> =
            BTreeMap::new();
        for pod in pod_map.values() {
            let ns = namespace_of(pod).to_string();
            namespaces.insert(ns.clone());
            if let Some(node) = str_at(pod, "/spec/nodeName").filter(|n| !n.is_empty()) {
                let ip = str_at(pod, "/status/hostIP").map(str::to_string);
                let entry = nodes.entry(node.to_string()).or_default();
                if entry.is_none() {
                    *entry = ip;
                }
            }
            for (kind, owner) in synth::controller_owners(pod) {
                let name = str_at(owner, "/name").unwrap_or_default().to_string();
                controller_groups
                    .entry((kind, (ns.clone(), name)))
                    .or_insert_with(|| (owner, Vec::new()))
                    .1
                    .push(pod);
            }
            for owner in synth::replicaset_owners(pod) {
                let rs = str_at(owner, "/name").unwrap_or_default().to_string();
                let deploy = synth::deployment_name_for(&rs).to_string();
                rs_groups
                    .entry((ns.clone(), rs))
                    .or_insert_with(|| (owner.clone(), Vec::new()))
                    .1
                    .push(pod);
                deploy_groups
                    .entry((ns.clone(), deploy))
                    .or_default()
                    .push(pod);
            }
        }
        let staged_has =
            |kind: ResourceKind, key: &Key| staged.get(&kind).is_some_and(|m| m.contains_key(key));
        let mut synthesized: Vec<(ResourceKind, Value)> = Vec::new();
        for ns in &namespaces {
            if !staged_has(ResourceKind::Namespace, &(String::new(), ns.clone())) {
                synthesized.push((ResourceKind::Namespace, synth::namespace(ns)));
            }
        }
        for (node, ip) in &nodes {
            if !staged_has(ResourceKind::Node, &(String::new(), node.clone())) {
                synthesized.push((ResourceKind::Node, synth::node(node, ip.as_deref())));
            }
        }
        for ((ns, name), pods) in &deploy_groups {
            if !staged_has(ResourceKind::Deployment, &(ns.clone(), name.clone())) {
                synthesized.push((ResourceKind::Deployment, synth::deployment(ns, name, pods)));
            }
        }
        for ((ns, name), (owner, pods)) in &rs_groups {
            if !staged_has(ResourceKind::ReplicaSet, &(ns.clone(), name.clone())) {
                synthesized.push((ResourceKind::ReplicaSet, synth::replicaset(ns, owner, pods)));
            }
        }
        for ((kind, (ns, name)), (owner, pods)) in &controller_groups {
            if !staged_has(*kind, &(ns.clone(), name.clone())) {
                synthesized.push((*kind, synth::controller(*kind, ns, owner, pods)));
            }
        }
        for (kind, mut obj) in synthesized {
            let key = inner.normalize(kind, &mut obj);
            staged.entry(kind).or_default().insert(key, obj);
        }
        staged.insert(ResourceKind::Pod, pod_map);
        // Stamp resourceVersions in creation order: namespaces, nodes, deployments, RS, pods.
        for kind in ResourceKind::ALL {
            if let Some(objs) = staged.remove(&kind) {
                for (key, mut obj) in objs {
                    inner.rv += 1;
                    let rv = inner.rv;
                    set_rv(&mut obj, rv);
                    inner.map(kind).insert(key, Entry::new(obj));
                }
            }
        }
        inner.compacted_rv = inner.rv;
    }

    /// Inserts or replaces an object (pods also get their context synthesized).
    pub(crate) fn upsert(&self, kind: ResourceKind, mut obj: Value) -> u64 {
        let mut inner = self.lock();
        if kind == ResourceKind::Pod {
            // Normalize first so the context uses the final namespace.
            inner.normalize(kind, &mut obj);
            inner.ensure_pod_context(&self.tx, &obj);
        }
        inner.put(&self.tx, kind, obj)
    }

    /// Deletes an object, emitting DELETED; false if it did not exist.
    pub(crate) fn delete(&self, kind: ResourceKind, namespace: &str, name: &str) -> bool {
        let mut inner = self.lock();
        let ns = if kind.namespaced() {
            namespace.to_string()
        } else {
            String::new()
        };
        let Some(mut obj) = inner
            .map(kind)
            .remove(&(ns, name.to_string()))
            .map(|e| e.obj)
        else {
            return false;
        };
        inner.rv += 1;
        let rv = inner.rv;
        set_rv(&mut obj, rv);
        inner.emit(&self.tx, kind, EventType::Deleted, obj, None);
        true
    }

    /// One object, if present.
    pub(crate) fn get(&self, kind: ResourceKind, namespace: &str, name: &str) -> Option<Value> {
        let ns = if kind.namespaced() {
            namespace.to_string()
        } else {
            String::new()
        };
        self.lock()
            .objects
            .get(&kind)
            .and_then(|m| m.get(&(ns, name.to_string())).map(|e| e.obj.clone()))
    }

    /// All objects of a kind in namespace/name order.
    pub(crate) fn all(&self, kind: ResourceKind) -> Vec<Value> {
        self.lock()
            .objects
            .get(&kind)
            .map(|m| m.values().map(|e| e.obj.clone()).collect())
            .unwrap_or_default()
    }

    /// The current global resourceVersion.
    pub(crate) fn resource_version(&self) -> u64 {
        self.lock().rv
    }

    /// The oldest resourceVersion a watch can still start from.
    pub(crate) fn compacted_rv(&self) -> u64 {
        self.lock().compacted_rv
    }

    /// Forgets the watch history.
    pub(crate) fn compact(&self) {
        let mut inner = self.lock();
        inner.history.clear();
        inner.compacted_rv = inner.rv;
    }

    /// A page of matching objects after `after` (exclusive), in key order.
    pub(crate) fn list(
        &self,
        kind: ResourceKind,
        namespace: Option<&str>,
        after: Option<&Key>,
        limit: Option<usize>,
        filter: impl Fn(&Value) -> bool,
    ) -> Page {
        let inner = self.lock();
        let rv = inner.rv;
        let Some(map) = inner.objects.get(&kind) else {
            return Page {
                items: Vec::new(),
                rv,
                next: None,
                remaining: 0,
            };
        };
        let start = match (after, namespace) {
            (Some(k), _) => Bound::Excluded(k.clone()),
            (None, Some(ns)) if kind.namespaced() => {
                Bound::Included((ns.to_string(), String::new()))
            }
            (None, _) => Bound::Unbounded,
        };
        let mut items = Vec::new();
        let mut next = None;
        let mut remaining = 0;
        let iter = map
            .range((start, Bound::Unbounded))
            .take_while(|(k, _)| !kind.namespaced() || namespace.is_none_or(|ns| k.0 == ns))
            .filter(|(_, e)| filter(&e.obj));
        for (key, entry) in iter {
            if limit.is_some_and(|l| items.len() >= l) {
                remaining += 1;
                continue;
            }
            items.push(entry.json.clone());
            next = Some(key.clone());
        }
        if remaining == 0 {
            next = None;
        }
        Page {
            items,
            rv,
            next,
            remaining,
        }
    }

    /// Starts a watch on `kind` (optionally one namespace).
    /// `Err(oldest)` when `from` is older than the retained history.
    pub(crate) fn subscribe(
        &self,
        kind: ResourceKind,
        namespace: Option<&str>,
        from: WatchFrom,
    ) -> Result<Subscription, u64> {
        let inner = self.lock();
        let rx = self.tx.subscribe();
        let in_ns =
            |obj: &Value| !kind.namespaced() || namespace.is_none_or(|ns| namespace_of(obj) == ns);
        match from {
            WatchFrom::Initial => {
                let initial = inner
                    .objects
                    .get(&kind)
                    .map(|m| {
                        m.values()
                            .map(|e| &e.obj)
                            .filter(|o| in_ns(o))
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                Ok(Subscription {
                    initial,
                    replay: Vec::new(),
                    rx,
                    start_rv: inner.rv,
                })
            }
            WatchFrom::After(rv) => {
                if rv < inner.compacted_rv {
                    return Err(inner.compacted_rv + 1);
                }
                let replay = inner
                    .history
                    .iter()
                    .filter(|e| e.rv > rv && e.kind == kind)
                    .cloned()
                    .collect();
                Ok(Subscription {
                    initial: Vec::new(),
                    replay,
                    rx,
                    start_rv: inner.rv.max(rv),
                })
            }
        }
    }
}
