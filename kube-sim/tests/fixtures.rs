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

async fn client_for(sim: &kube_sim::Simulator) -> kube::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&sim.kubeconfig_yaml("sim"))
        .expect("kubeconfig parses");
    let config = kube::Config::from_custom_kubeconfig(
        kubeconfig,
        &kube::config::KubeConfigOptions::default(),
    )
    .await
    .expect("config from kubeconfig");
    kube::Client::try_from(config).expect("client")
}

type Keys = std::collections::BTreeSet<(String, String)>;

/// (namespace, name) of every fixture file of `kind`.
fn fixture_keys(kind: ResourceKind) -> Keys {
    json_files(&fixtures_root().join(kind.plural()))
        .iter()
        .map(|p| {
            let v: Value =
                serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("json");
            let ns = v["metadata"]["namespace"].as_str().unwrap_or_default();
            let ns = if kind.namespaced() && ns.is_empty() {
                "default"
            } else {
                ns
            };
            let name = v["metadata"]["name"].as_str().expect("name");
            (ns.to_string(), name.to_string())
        })
        .collect()
}

/// (namespace, name) of every object a kube-rs client lists for `K`.
async fn listed<K>(client: &kube::Client) -> Keys
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    let api: kube::Api<K> = kube::Api::all(client.clone());
    let list = api
        .list(&kube::api::ListParams::default())
        .await
        .expect("list");
    list.items
        .iter()
        .map(|o| {
            let m = o.meta();
            (
                m.namespace.clone().unwrap_or_default(),
                m.name.clone().unwrap_or_default(),
            )
        })
        .collect()
}

async fn listed_cluster<K>(client: &kube::Client) -> Keys
where
    K: kube::Resource<Scope = k8s_openapi::ClusterResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    let api: kube::Api<K> = kube::Api::all(client.clone());
    let list = api
        .list(&kube::api::ListParams::default())
        .await
        .expect("list");
    list.items
        .iter()
        .map(|o| (String::new(), o.meta().name.clone().unwrap_or_default()))
        .collect()
}

fn assert_all_listed(kind: ResourceKind, listed: &Keys) {
    let want = fixture_keys(kind);
    let missing: Vec<_> = want.difference(listed).collect();
    assert!(
        missing.is_empty(),
        "{}: fixtures not listed: {missing:?}",
        kind.plural()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fixtures_root_serves_every_fixture_of_every_kind_through_kube() {
    let sim = kube_sim::Simulator::builder()
        .fixtures_dir(fixtures_root())
        .build_and_start()
        .await
        .expect("simulator starts");
    let client = client_for(&sim).await;
    assert_all_listed(ResourceKind::Pod, &listed::<Pod>(&client).await);
    assert_eq!(sim.pods().len(), 27, "pods are loaded once, as before");
    assert_all_listed(
        ResourceKind::Deployment,
        &listed::<Deployment>(&client).await,
    );
    assert_all_listed(
        ResourceKind::ReplicaSet,
        &listed::<ReplicaSet>(&client).await,
    );
    assert_all_listed(
        ResourceKind::StatefulSet,
        &listed::<StatefulSet>(&client).await,
    );
    assert_all_listed(ResourceKind::DaemonSet, &listed::<DaemonSet>(&client).await);
    assert_all_listed(ResourceKind::Job, &listed::<Job>(&client).await);
    assert_all_listed(ResourceKind::CronJob, &listed::<CronJob>(&client).await);
    assert_all_listed(ResourceKind::Service, &listed::<Service>(&client).await);
    assert_all_listed(ResourceKind::Event, &listed::<Event>(&client).await);
    assert_all_listed(ResourceKind::Node, &listed_cluster::<Node>(&client).await);
    assert_all_listed(
        ResourceKind::Namespace,
        &listed_cluster::<Namespace>(&client).await,
    );
    // A capture is served as captured (not replaced by a synthesized object).
    let node: kube::Api<Node> = kube::Api::all(client.clone());
    let minikube = node.get("minikube").await.expect("get node");
    assert_eq!(
        minikube
            .status
            .and_then(|s| s.node_info)
            .map(|i| i.kubelet_version),
        Some("v1.15.2".to_string())
    );
}

#[tokio::test]
async fn a_directory_named_after_a_kind_loads_as_that_kind() {
    let sim = kube_sim::Simulator::builder()
        .fixtures_dir(fixtures_root().join("deployments"))
        .build_and_start()
        .await
        .expect("simulator starts");
    let client = client_for(&sim).await;
    assert_all_listed(
        ResourceKind::Deployment,
        &listed::<Deployment>(&client).await,
    );
    assert!(
        sim.pods().is_empty(),
        "no pods from a deployments directory"
    );
    let loaded = kube_sim::load_fixture_dir(&fixtures_root().join("nodes")).expect("load");
    assert!(loaded.iter().all(|f| f.kind == ResourceKind::Node));
    assert_eq!(loaded.len(), fixture_keys(ResourceKind::Node).len());
}

#[tokio::test]
async fn a_plain_directory_of_pod_files_still_loads_as_pods() {
    let sim = kube_sim::Simulator::builder()
        .fixtures_dir(fixtures_root().join("pods"))
        .build_and_start()
        .await
        .expect("simulator starts");
    assert_eq!(sim.pods().len(), 27);
    assert!(sim.objects(ResourceKind::Event).is_empty());
    let dir = std::env::temp_dir().join(format!("kube-sim-plain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::copy(
        fixtures_root().join("pods/01-running-deployment-gke-nginx.json"),
        dir.join("a.json"),
    )
    .expect("copy");
    let loaded = kube_sim::load_fixture_dir(&dir).expect("load");
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[0].kind, ResourceKind::Pod);
}
