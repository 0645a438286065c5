//! Every kind besides Pod through one machinery: a [`Kind`] says which
//! Kubernetes type it watches and what it keeps of an object for its kubectl
//! columns ([`Kind::columns`]); the watch cache, the reads (from the cache once
//! synced and fresh, else from the API server) and the change feed are the same
//! for every kind.
//!
//! What is kept of an object is an [`Entry`]: the metadata every kind shares
//! ([`Meta`]: namespace, name, uid, creation time, labels, controller), the
//! kind's columns, and the object as clients get it, as compact JSON text
//! (managedFields dropped as kubectl does). Typed objects are dropped once
//! read: they take several times the memory of their JSON.
//!
//! Names are checked before anything is sent.

use std::{fmt::Debug, sync::Arc};

use k8s_openapi::{
    ClusterResourceScope, NamespaceResourceScope, apimachinery::pkg::apis::meta::v1::ObjectMeta,
};
use kube::{Api, Client, Resource};
use serde::{Serialize, de::DeserializeOwned};

use super::{
    Cluster,
    cache::{CacheVersion, Cached, ObjectCache, ObjectKey},
    compact::CompactJson,
    names::{validate_namespace, validate_pod_name},
    pods::list_all,
};
use crate::error::AppError;

/// A kind the gateway serves: what it watches and what it keeps. One
/// implementation per kind (see `src/kinds/`); everything else is generic.
pub trait Kind: Send + Sync + Sized + 'static {
    /// The Kubernetes type.
    type Object: Resource<DynamicType = (), Scope: Scope>
        + Clone
        + DeserializeOwned
        + Serialize
        + Debug
        + Send
        + Sync
        + 'static;
    /// What the kind keeps for its kubectl columns.
    type Columns: Debug + Send + Sync + 'static;
    /// The kind's name, e.g. `Deployment`.
    const KIND: &'static str;
    /// Its kubectl columns, computed once per change of the object.
    fn columns(object: &Self::Object) -> Self::Columns;
    /// The time of the LAST SEEN column, for kinds that have one (RFC 3339).
    fn last_seen(_columns: &Self::Columns) -> Option<&str> {
        None
    }
}

/// Whether a kind's objects live in namespaces: their API paths differ.
pub trait Scope {
    /// Objects live in a namespace.
    const NAMESPACED: bool;
    /// The API of kind `O` (of one namespace, when it has namespaces and one
    /// is given).
    fn api<O: Resource<DynamicType = (), Scope = Self>>(
        client: Client,
        namespace: Option<&str>,
    ) -> Api<O>;
}

impl Scope for NamespaceResourceScope {
    const NAMESPACED: bool = true;
    fn api<O: Resource<DynamicType = (), Scope = Self>>(
        client: Client,
        namespace: Option<&str>,
    ) -> Api<O> {
        match namespace {
            Some(namespace) => Api::namespaced(client, namespace),
            None => Api::all(client),
        }
    }
}

impl Scope for ClusterResourceScope {
    const NAMESPACED: bool = false;
    fn api<O: Resource<DynamicType = (), Scope = Self>>(client: Client, _: Option<&str>) -> Api<O> {
        Api::all(client)
    }
}

/// Whether objects of `K` live in namespaces.
pub const fn namespaced<K: Kind>() -> bool {
    <<K::Object as Resource>::Scope as Scope>::NAMESPACED
}

fn api<K: Kind>(client: Client, namespace: Option<&str>) -> Api<K::Object> {
    <<K::Object as Resource>::Scope as Scope>::api(client, namespace)
}

/// The object that controls another (its ownerReference with
/// `controller: true`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// Its kind, e.g. ReplicaSet.
    pub kind: String,
    /// Its name (in the same namespace).
    pub name: String,
    /// Its uid.
    pub uid: String,
}

/// What every kind keeps of an object's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// Namespace (empty for cluster-scoped kinds).
    pub namespace: String,
    /// Name.
    pub name: String,
    /// uid.
    pub uid: Option<String>,
    /// resourceVersion.
    pub resource_version: Option<String>,
    /// Creation time (RFC 3339).
    pub created: Option<String>,
    /// Labels, sorted by key.
    pub labels: Box<[(Box<str>, Box<str>)]>,
    /// The controlling owner.
    pub controller: Option<Owner>,
}

impl Meta {
    fn of(meta: &ObjectMeta) -> Self {
        Meta {
            namespace: meta.namespace.clone().unwrap_or_default(),
            name: meta.name.clone().unwrap_or_default(),
            uid: meta.uid.clone(),
            resource_version: meta.resource_version.clone(),
            created: meta
                .creation_timestamp
                .as_ref()
                .and_then(super::summary::to_chrono)
                .map(super::summary::rfc3339),
            labels: meta
                .labels
                .iter()
                .flatten()
                .map(|(k, v)| (k.as_str().into(), v.as_str().into()))
                .collect(),
            controller: meta
                .owner_references
                .iter()
                .flatten()
                .find(|owner| owner.controller == Some(true))
                .map(|owner| Owner {
                    kind: owner.kind.clone(),
                    name: owner.name.clone(),
                    uid: owner.uid.clone(),
                }),
        }
    }

    /// The value of the label `key`, if the object has it.
    pub fn label(&self, key: &str) -> Option<&str> {
        // Labels come from a BTreeMap: sorted by key.
        self.labels
            .binary_search_by(|(k, _)| k.as_ref().cmp(key))
            .ok()
            .map(|i| self.labels[i].1.as_ref())
    }
}

/// One object of kind `K`, ready to be listed or sent.
pub struct Entry<K: Kind> {
    /// Its metadata.
    pub meta: Meta,
    /// Its kubectl columns.
    pub columns: K::Columns,
    /// The object as clients get it: apiVersion and kind set, managedFields
    /// dropped; compressed.
    json: CompactJson,
}

impl<K: Kind> Debug for Entry<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("kind", &K::KIND)
            .field("meta", &self.meta)
            .field("columns", &self.columns)
            .finish_non_exhaustive()
    }
}

impl<K: Kind> Entry<K> {
    /// What the gateway keeps of `object`.
    pub fn new(mut object: K::Object) -> Self {
        object.meta_mut().managed_fields = None;
        let columns = K::columns(&object);
        let meta = Meta::of(object.meta());
        // k8s-openapi writes apiVersion and kind for every object it serialises.
        let json = CompactJson::new(K::KIND, &serde_json::to_vec(&object).unwrap_or_default());
        Entry {
            meta,
            columns,
            json,
        }
    }

    /// The object as JSON.
    pub fn object(&self) -> Result<serde_json::Value, AppError> {
        self.json.value()
    }

    /// The length of the object's JSON text, in bytes.
    pub fn json_len(&self) -> usize {
        self.json.len()
    }
}

impl<K: Kind> Cached for Entry<K> {
    fn key(&self) -> ObjectKey {
        (self.meta.namespace.clone(), self.meta.name.clone())
    }

    fn namespace(&self) -> &str {
        &self.meta.namespace
    }

    fn uid(&self) -> Option<&str> {
        self.meta.uid.as_deref()
    }

    fn resource_version(&self) -> Option<&str> {
        self.meta.resource_version.as_deref()
    }
}

/// The cluster's cache of kind `K` once it may answer: `None` when the cache
/// is off, stale, or its first list failed (read the API server instead). A
/// first list under way is waited for, within the cluster timeout.
pub async fn ready<K: Kind>(
    cluster: &Cluster,
) -> Result<Option<Arc<ObjectCache<Entry<K>>>>, AppError> {
    let Some(cache) = cluster.cache() else {
        return Ok(None);
    };
    let objects = cache.of::<K>();
    if !objects.first_list_pending() {
        return Ok(objects.fresh().then_some(objects));
    }
    if objects.wait_for_first_list(cluster.timeout()).await {
        Ok(Some(objects))
    } else if !objects.first_list_pending() {
        Ok(None)
    } else {
        Err(AppError::ClusterUnavailable {
            cluster: cluster.name.clone(),
            reason: crate::error::TIMED_OUT,
        })
    }
}

/// Objects of a kind, and the cache version they reflect (`None` when they
/// were read from the API server).
pub struct Listed<K: Kind> {
    /// Cache version of the namespaces asked for, when served from the cache.
    pub version: Option<CacheVersion>,
    /// The objects, ordered by namespace and name.
    pub items: Vec<Arc<Entry<K>>>,
}

/// Every object of kind `K` of the cluster (of one namespace, when given and
/// the kind has namespaces), and the version of `versioned` (`None`: of the
/// whole cluster) they reflect.
pub async fn list<K: Kind>(
    cluster: &Cluster,
    namespace: Option<&str>,
    versioned: Option<&[String]>,
) -> Result<Listed<K>, AppError> {
    if let Some(namespace) = namespace {
        validate_namespace("namespace", namespace)?;
    }
    let namespace = namespace.filter(|_| namespaced::<K>());
    if let Some(cache) = ready::<K>(cluster).await?
        && let Some(snapshot) = cache.snapshot(versioned, |(ns, _), _| {
            namespace.is_none_or(|wanted| wanted == ns)
        })
    {
        return Ok(Listed {
            version: Some(snapshot.namespaces_version),
            items: snapshot.objects,
        });
    }
    let mut items = list_all(cluster, &api::<K>(cluster.client(), namespace), |object| {
        Some(Arc::new(Entry::<K>::new(object)))
    })
    .await?;
    items.sort_by(|a, b| (&a.meta.namespace, &a.meta.name).cmp(&(&b.meta.namespace, &b.meta.name)));
    Ok(Listed {
        version: None,
        items,
    })
}

/// One object of kind `K` (`namespace` is ignored for cluster-scoped kinds).
pub async fn get<K: Kind>(
    cluster: &Cluster,
    namespace: Option<&str>,
    name: &str,
) -> Result<Arc<Entry<K>>, AppError> {
    let namespace = namespace.filter(|_| namespaced::<K>());
    if let Some(namespace) = namespace {
        validate_namespace("namespace", namespace)?;
    }
    validate_pod_name("name", name)?;
    let not_found = || AppError::ResourceNotFound {
        kind: K::KIND,
        cluster: cluster.name.clone(),
        namespace: namespace.map(str::to_owned),
        name: name.to_owned(),
    };
    if let Some(cached) = ready::<K>(cluster)
        .await?
        .and_then(|cache| cache.get(namespace.unwrap_or_default(), name))
    {
        return cached.ok_or_else(not_found);
    }
    let object = cluster
        .call(api::<K>(cluster.client(), namespace).get_opt(name))
        .await?
        .ok_or_else(not_found)?;
    Ok(Arc::new(Entry::new(object)))
}

/// The version a list of kind `K` would reflect now, when it would be served
/// from the cache.
pub async fn version<K: Kind>(
    cluster: &Cluster,
    versioned: Option<&[String]>,
) -> Option<CacheVersion> {
    ready::<K>(cluster)
        .await
        .ok()
        .flatten()
        .and_then(|cache| cache.namespaces_version(versioned))
}
