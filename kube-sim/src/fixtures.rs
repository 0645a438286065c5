//! Loading pod fixtures: a directory of JSON documents, each one Pod (or a
//! PodList/List whose items are pods), tolerant of missing `kind`/`apiVersion`,
//! missing namespaces and extra keys.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use anyhow::Context as _;
use serde_json::{Value, json};

use crate::model::{meta_mut, name_of, namespace_of, stable_uid, str_at};

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

/// Reads every `*.json` file in `dir` (sorted by file name).
///
/// Pods without `metadata.namespace` are put in `default`. Two fixtures with the
/// same namespace/name (which a real cluster cannot hold at once) are both kept:
/// the later one is renamed `<name>-<n>`, where `<n>` is the file's leading
/// number (or its position), gets a fresh UID if its UID was taken, and carries
/// the [`RENAMED_FROM_ANNOTATION`] annotation.
pub fn load_fixtures(dir: &Path) -> anyhow::Result<Vec<Fixture>> {
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
                anyhow::bail!("{}: not a pod (no metadata.name)", path.display());
            }
            if namespace_of(&pod).is_empty() {
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
                tracing::warn!(file, pod = %key.1, renamed = %new_name, "duplicate fixture pod renamed");
                let meta = meta_mut(&mut pod);
                meta.insert("name".into(), new_name.clone().into());
                let annotations = meta.entry("annotations").or_insert_with(|| json!({}));
                if let Some(a) = annotations.as_object_mut() {
                    a.insert(RENAMED_FROM_ANNOTATION.into(), key.1.clone().into());
                }
                if meta.contains_key("selfLink") {
                    meta.insert(
                        "selfLink".into(),
                        format!("/api/v1/namespaces/{}/pods/{new_name}", key.0).into(),
                    );
                }
            }
            let key = (namespace_of(&pod).to_string(), name_of(&pod).to_string());
            let uid = str_at(&pod, "/metadata/uid")
                .unwrap_or_default()
                .to_string();
            if uid.is_empty() || seen_uids.contains(&uid) {
                let fresh = stable_uid(&format!("fixture/{}/{}", key.0, key.1));
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
