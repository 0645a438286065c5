//! Loading fixtures: a directory of JSON documents, each one object (or a
//! List whose items are), tolerant of missing `kind`/`apiVersion`, missing
//! namespaces and extra keys. A directory named after a kind's plural (e.g.
//! `deployments`) holds objects of that kind; a directory holding such
//! directories (e.g. `tests/fixtures`) holds every kind; any other directory
//! holds pods.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use anyhow::Context as _;
use serde_json::{Value, json};

use crate::model::{ResourceKind, meta_mut, name_of, namespace_of, stable_uid, str_at};

/// Annotation set on a fixture pod that was renamed because an earlier fixture
/// already had its namespace/name; the value is the original name.
pub const RENAMED_FROM_ANNOTATION: &str = "kube-sim/renamed-from";

/// One pod read from a fixture file.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// The file name (no directory) the pod came from.
    pub file: String,
    /// The pod as it will be served (namespace defaulted, duplicates renamed).
    pub pod: Value,
}

/// Reads every `*.json` file in `dir` (sorted by file name) as pods.
///
/// Pods without `metadata.namespace` are put in `default`. Two fixtures with the
/// same namespace/name (which a real cluster cannot hold at once) are both kept:
/// the later one is renamed `<name>-<n>`, where `<n>` is the file's leading
/// number (or its position), gets a fresh UID if its UID was taken, and carries
/// the [`RENAMED_FROM_ANNOTATION`] annotation.
pub fn load_fixtures(dir: &Path) -> anyhow::Result<Vec<Fixture>> {
    load_kind(dir, ResourceKind::Pod)
}

/// One object of any kind read from a fixture directory.
#[derive(Debug, Clone)]
pub struct KindFixture {
    /// The kind the object is served as.
    pub kind: ResourceKind,
    /// The file name (no directory) the object came from.
    pub file: String,
    /// The object as it will be served (namespace defaulted, duplicates renamed).
    pub object: Value,
}

/// Reads a fixture directory of any layout (see the module documentation):
/// `<dir>` named like a kind's plural (`.../deployments`) loads as that kind;
/// a directory with `<plural>/` subdirectories loads each of them as its
/// kind (and `*.json` files directly in it as pods); any other directory
/// loads as pods, as [`load_fixtures`] does. Within each kind, objects are
/// deduplicated and renamed as [`load_fixtures`] describes.
pub fn load_fixture_dir(dir: &Path) -> anyhow::Result<Vec<KindFixture>> {
    let tag = |kind: ResourceKind, fixtures: Vec<Fixture>| {
        fixtures.into_iter().map(move |f| KindFixture {
            kind,
            file: f.file,
            object: f.pod,
        })
    };
    if let Some(kind) = kind_of_dir(dir) {
        return Ok(tag(kind, load_kind(dir, kind)?).collect());
    }
    let mut subdirs: Vec<(ResourceKind, std::path::PathBuf)> = std::fs::read_dir(dir)
        .with_context(|| format!("reading fixture directory {}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .filter_map(|p| kind_of_dir(&p).map(|k| (k, p)))
        .collect();
    subdirs.sort();
    let mut out: Vec<KindFixture> =
        tag(ResourceKind::Pod, load_kind(dir, ResourceKind::Pod)?).collect();
    for (kind, sub) in subdirs {
        out.extend(tag(kind, load_kind(&sub, kind)?));
    }
    Ok(out)
}

/// The kind whose plural names `dir` (its last path component), if any.
fn kind_of_dir(dir: &Path) -> Option<ResourceKind> {
    let name = dir.file_name()?.to_str()?;
    ResourceKind::ALL.into_iter().find(|k| k.plural() == name)
}

fn load_kind(dir: &Path, kind: ResourceKind) -> anyhow::Result<Vec<Fixture>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading fixture directory {}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    let mut seen_keys: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut seen_uids: HashSet<String> = HashSet::new();
    for (index, path) in files.iter().enumerate() {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let doc: Value =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        let file = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let pods = match doc.get("items").and_then(Value::as_array) {
            Some(items) => items.clone(),
            None => vec![doc],
        };
        for mut pod in pods {
            if !pod.is_object() || name_of(&pod).is_empty() {
                anyhow::bail!(
                    "{}: not a {} (no metadata.name)",
                    path.display(),
                    kind.kind()
                );
            }
            if kind.namespaced() && namespace_of(&pod).is_empty() {
                meta_mut(&mut pod).insert("namespace".into(), "default".into());
            }
            let key = (namespace_of(&pod).to_string(), name_of(&pod).to_string());
            if seen_keys.contains_key(&key) {
                let digits: String = file.chars().take_while(char::is_ascii_digit).collect();
                let tag = if digits.is_empty() {
                    (index + 1).to_string()
                } else {
                    digits
                };
                let mut new_name = format!("{}-{tag}", key.1);
                while seen_keys.contains_key(&(key.0.clone(), new_name.clone())) {
                    new_name.push('x');
                }
                tracing::warn!(file, kind = kind.kind(), name = %key.1, renamed = %new_name, "duplicate fixture renamed");
                let meta = meta_mut(&mut pod);
                meta.insert("name".into(), new_name.clone().into());
                let annotations = meta.entry("annotations").or_insert_with(|| json!({}));
                if let Some(a) = annotations.as_object_mut() {
                    a.insert(RENAMED_FROM_ANNOTATION.into(), key.1.clone().into());
                }
                if meta.contains_key("selfLink") {
                    meta.insert("selfLink".into(), self_link(kind, &key.0, &new_name).into());
                }
            }
            let key = (namespace_of(&pod).to_string(), name_of(&pod).to_string());
            let uid = str_at(&pod, "/metadata/uid")
                .unwrap_or_default()
                .to_string();
            if uid.is_empty() || seen_uids.contains(&uid) {
                let seed = if kind == ResourceKind::Pod {
                    format!("fixture/{}/{}", key.0, key.1)
                } else {
                    format!("fixture/{}/{}/{}", kind.plural(), key.0, key.1)
                };
                let fresh = stable_uid(&seed);
                meta_mut(&mut pod).insert("uid".into(), fresh.clone().into());
                seen_uids.insert(fresh);
            } else {
                seen_uids.insert(uid);
            }
            seen_keys.insert(key, index);
            out.push(Fixture {
                file: file.clone(),
                pod,
            });
        }
    }
    Ok(out)
}

/// The `selfLink` the API server used to give an object.
fn self_link(kind: ResourceKind, namespace: &str, name: &str) -> String {
    let base = match kind.group() {
        "" => "/api/v1".to_string(),
        group => format!("/apis/{group}/v1"),
    };
    if kind.namespaced() {
        format!("{base}/namespaces/{namespace}/{}/{name}", kind.plural())
    } else {
        format!("{base}/{}/{name}", kind.plural())
    }
}
