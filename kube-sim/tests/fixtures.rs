//! The captures under `tests/fixtures/<plural>/` are real objects: each file
//! reads as the k8s-openapi type of the kind its directory names, and every
//! directory of a served kind has a `SOURCES.md` naming where each file came
//! from.

use std::path::{Path, PathBuf};

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Event, Namespace, Node, Pod, Service};
use k8s_openapi::serde::de::DeserializeOwned;
use kube_sim::ResourceKind;
use serde_json::Value;

fn fixtures_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures"))
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

/// Reads `path` as `K`. Some pod captures have no top-level
/// `kind`/`apiVersion` (their sources omit them); the API server would add
/// them, so they are filled in before reading, as the simulator serves them.
fn read_as<K: DeserializeOwned + k8s_openapi::Resource>(path: &Path) -> Result<K, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut doc: Value = serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
    let map = doc.as_object_mut().ok_or("not a JSON object")?;
    map.entry("apiVersion")
        .or_insert_with(|| K::API_VERSION.into());
    map.entry("kind").or_insert_with(|| K::KIND.into());
    serde_json::from_value(doc).map_err(|e| e.to_string())
}

fn check_dir<K: DeserializeOwned + k8s_openapi::Resource>(
    kind: ResourceKind,
    min: usize,
) -> Vec<String> {
    let dir = fixtures_root().join(kind.plural());
    let files = json_files(&dir);
    let mut failures = Vec::new();
    if files.len() < min {
        failures.push(format!(
            "{}: {} fixtures, want at least {min}",
            kind.plural(),
            files.len()
        ));
    }
    for file in &files {
        if let Err(e) = read_as::<K>(file) {
            failures.push(format!("{}: {e}", file.display()));
        }
    }
    if !dir.join("SOURCES.md").is_file() {
        failures.push(format!("{}: no SOURCES.md", dir.display()));
    } else {
        let sources = std::fs::read_to_string(dir.join("SOURCES.md")).expect("SOURCES.md");
        for file in &files {
            let name = file.file_name().expect("file name").to_string_lossy();
            if !sources.contains(name.as_ref()) {
                failures.push(format!("{}: not named in SOURCES.md", file.display()));
            }
        }
    }
    failures
}

#[test]
fn every_fixture_reads_as_its_kubernetes_type() {
    let mut failures = Vec::new();
    failures.extend(check_dir::<Pod>(ResourceKind::Pod, 27));
    failures.extend(check_dir::<Deployment>(ResourceKind::Deployment, 2));
    failures.extend(check_dir::<ReplicaSet>(ResourceKind::ReplicaSet, 2));
    failures.extend(check_dir::<StatefulSet>(ResourceKind::StatefulSet, 2));
    failures.extend(check_dir::<DaemonSet>(ResourceKind::DaemonSet, 2));
    failures.extend(check_dir::<Job>(ResourceKind::Job, 3));
    failures.extend(check_dir::<CronJob>(ResourceKind::CronJob, 1));
    failures.extend(check_dir::<Service>(ResourceKind::Service, 3));
    failures.extend(check_dir::<Node>(ResourceKind::Node, 3));
    failures.extend(check_dir::<Namespace>(ResourceKind::Namespace, 2));
    failures.extend(check_dir::<Event>(ResourceKind::Event, 3));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_fixture_directory_is_a_served_kind() {
    for entry in std::fs::read_dir(fixtures_root()).expect("fixtures root") {
        let path = entry.expect("entry").path();
        if !path.is_dir() {
            continue;
        }
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        assert!(
            ResourceKind::ALL.iter().any(|k| k.plural() == name),
            "{name} is not the plural of a served kind"
        );
    }
}

#[test]
fn the_captures_cover_the_states_tests_need() {
    let root = fixtures_root();
    let read = |plural: &str| -> Vec<Value> {
        json_files(&root.join(plural))
            .iter()
            .map(|p| {
                serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("json")
            })
            .collect()
    };
    let services = read("services");
    for ty in ["ClusterIP", "NodePort", "LoadBalancer"] {
        assert!(
            services.iter().any(|s| s["spec"]["type"] == ty),
            "no {ty} Service"
        );
    }
    assert!(
        services
            .iter()
            .any(|s| s["status"]["loadBalancer"]["ingress"].is_array()),
        "no LoadBalancer Service with an ingress"
    );
    let jobs = read("jobs");
    let has_condition = |j: &Value, ty: &str| {
        j["status"]["conditions"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["type"] == ty && c["status"] == "True"))
    };
    assert!(jobs.iter().any(|j| has_condition(j, "Complete")));
    assert!(jobs.iter().any(|j| has_condition(j, "Failed")));
    assert!(
        jobs.iter()
            .any(|j| j["status"]["active"].as_i64().unwrap_or(0) > 0)
    );
    let events = read("events");
    assert!(events.iter().any(|e| e["type"] == "Normal"));
    assert!(events.iter().any(|e| e["type"] == "Warning"));
    assert!(events.iter().any(|e| e["eventTime"].is_string()));
    let nodes = read("nodes");
    let ready = |n: &Value| {
        n["status"]["conditions"].as_array().is_some_and(|c| {
            c.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
    };
    assert!(nodes.iter().any(ready));
    assert!(nodes.iter().any(|n| !ready(n)));
}
