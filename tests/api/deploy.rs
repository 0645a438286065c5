//! The Kubernetes manifests in `deploy/`: every object parses into its
//! Kubernetes type with no field lost (a misspelt or misplaced field fails), and
//! the invariants that keep the deployment safe hold.

use std::{collections::BTreeMap, path::PathBuf};

use k8s_openapi::{
    api::{
        apps::v1::Deployment,
        core::v1::{Container, Namespace, Service, ServiceAccount},
        policy::v1::PodDisruptionBudget,
        rbac::v1::{ClusterRole, ClusterRoleBinding},
    },
    apimachinery::pkg::util::intstr::IntOrString,
};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;

/// Every object of every manifest, by kind.
struct Manifests {
    by_kind: BTreeMap<String, Vec<(String, Value)>>,
}

impl Manifests {
    fn load() -> Manifests {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("deploy");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("deploy/ exists")
            .map(|entry| entry.expect("entry").path())
            .filter(|path| {
                path.extension()
                    .is_some_and(|ext| ext == "yaml" || ext == "yml")
            })
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no manifests in {}", dir.display());
        let mut by_kind: BTreeMap<String, Vec<(String, Value)>> = BTreeMap::new();
        for file in files {
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = std::fs::read_to_string(&file).expect("readable manifest");
            let documents: Vec<Value> = serde_saphyr::from_str_multiple(&text)
                .unwrap_or_else(|e| panic!("{name} is not valid YAML: {e}"));
            for document in documents {
                let kind = document["kind"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{name}: an object without a kind"))
                    .to_owned();
                by_kind
                    .entry(kind)
                    .or_default()
                    .push((name.clone(), document));
            }
        }
        Manifests { by_kind }
    }

    /// The one object of `kind`, parsed.
    fn one<T: DeserializeOwned + Serialize>(&self, kind: &str) -> T {
        let objects = self.by_kind.get(kind).map(Vec::as_slice).unwrap_or(&[]);
        assert_eq!(objects.len(), 1, "expected exactly one {kind}");
        let (file, value) = &objects[0];
        typed(file, value)
    }
}

/// Parses `value` as `T`, then requires the typed object to serialize back to
/// the same JSON: a field the type does not know would be dropped and differ.
fn typed<T: DeserializeOwned + Serialize>(file: &str, value: &Value) -> T {
    let parsed: T = serde_json::from_value(value.clone())
        .unwrap_or_else(|e| panic!("{file}: does not parse as its kind: {e}"));
    let back = serde_json::to_value(&parsed).expect("serializes");
    assert_eq!(
        &back, value,
        "{file}: some fields are unknown to the Kubernetes type (misspelt or misplaced?)"
    );
    parsed
}

fn gateway_container(deployment: &Deployment) -> Container {
    let pod = deployment
        .spec
        .template
        .spec
        .as_ref()
        .expect("a pod template");
    assert_eq!(pod.containers.len(), 1, "one container");
    pod.containers[0].clone()
}

#[test]
fn every_manifest_parses_into_its_kubernetes_type_without_unknown_fields() {
    let manifests = Manifests::load();
    for (kind, objects) in &manifests.by_kind {
        for (file, value) in objects {
            match kind.as_str() {
                "Namespace" => drop(typed::<Namespace>(file, value)),
                "ServiceAccount" => drop(typed::<ServiceAccount>(file, value)),
                "ClusterRole" => drop(typed::<ClusterRole>(file, value)),
                "ClusterRoleBinding" => drop(typed::<ClusterRoleBinding>(file, value)),
                "Service" => drop(typed::<Service>(file, value)),
                "Deployment" => drop(typed::<Deployment>(file, value)),
                "PodDisruptionBudget" => drop(typed::<PodDisruptionBudget>(file, value)),
                other => panic!("{file}: no check for kind {other}; add one here"),
            }
        }
    }
    for kind in [
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Service",
        "Deployment",
        "PodDisruptionBudget",
    ] {
        assert!(manifests.by_kind.contains_key(kind), "no {kind} in deploy/");
    }
}

#[test]
fn the_typo_check_catches_a_misspelt_field() {
    let mut value: Value = serde_json::json!({
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "x"},
    });
    value["automountServiceAcountToken"] = Value::Bool(false);
    let caught = std::panic::catch_unwind(|| typed::<ServiceAccount>("test", &value));
    assert!(caught.is_err(), "a misspelt field must fail the round trip");
}

#[test]
fn the_cluster_role_only_reads_pods_nodes_and_replicasets() {
    let role: ClusterRole = Manifests::load().one("ClusterRole");

    let mut granted = Vec::new();
    for rule in role.rules.unwrap_or_default() {
        let mut verbs = rule.verbs.clone();
        verbs.sort();
        assert_eq!(verbs, ["get", "list", "watch"], "{rule:?}");
        assert!(rule.non_resource_urls.is_none() && rule.resource_names.is_none());
        for group in rule.api_groups.unwrap_or_default() {
            for resource in rule.resources.clone().unwrap_or_default() {
                granted.push(format!("{group}/{resource}"));
            }
        }
    }
    granted.sort();

    assert_eq!(granted, ["/nodes", "/pods", "apps/replicasets"]);
}

#[test]
fn the_binding_gives_the_role_to_the_gateway_service_account() {
    let manifests = Manifests::load();
    let binding: ClusterRoleBinding = manifests.one("ClusterRoleBinding");
    let role: ClusterRole = manifests.one("ClusterRole");
    let account: ServiceAccount = manifests.one("ServiceAccount");
    let deployment: Deployment = manifests.one("Deployment");

    assert_eq!(binding.role_ref.kind, "ClusterRole");
    assert_eq!(Some(&binding.role_ref.name), role.metadata.name.as_ref());
    let subjects = binding.subjects.unwrap_or_default();
    assert_eq!(subjects.len(), 1);
    assert_eq!(subjects[0].kind, "ServiceAccount");
    assert_eq!(Some(&subjects[0].name), account.metadata.name.as_ref());
    assert_eq!(subjects[0].namespace, account.metadata.namespace);
    let pod = deployment.spec.template.spec.expect("pod spec");
    assert_eq!(pod.service_account_name, account.metadata.name);
}

#[test]
fn the_deployment_runs_several_hardened_replicas_with_probes_and_secrets() {
    let manifests = Manifests::load();
    let deployment: Deployment = manifests.one("Deployment");
    let spec = deployment.spec.clone();
    let container = gateway_container(&deployment);

    assert!(spec.replicas.is_some_and(|n| n > 1), "several replicas");

    let probe_path = |probe: Option<&k8s_openapi::api::core::v1::Probe>| {
        probe
            .and_then(|p| p.http_get.as_ref())
            .and_then(|get| get.path.clone())
    };
    assert_eq!(
        probe_path(container.readiness_probe.as_ref()).as_deref(),
        Some("/readyz")
    );
    assert_eq!(
        probe_path(container.liveness_probe.as_ref()).as_deref(),
        Some("/healthz")
    );

    let env = container.env.clone().unwrap_or_default();
    for (name, key) in [
        ("DATABASE_URL", "database-url"),
        ("OSP_JWT_SECRET", "jwt-secret"),
        ("OSP_ADMIN_PASSWORD", "admin-password"),
    ] {
        let var = env
            .iter()
            .find(|var| var.name == name)
            .unwrap_or_else(|| panic!("{name} is set"));
        assert!(
            var.value.is_none(),
            "{name} must not be written in the manifest"
        );
        let secret = var
            .value_from
            .as_ref()
            .and_then(|from| from.secret_key_ref.as_ref())
            .unwrap_or_else(|| panic!("{name} comes from a Secret"));
        assert_eq!(secret.key, key);
    }
    let listen = env.iter().find(|var| var.name == "OSP_LISTEN");
    assert_eq!(
        listen.and_then(|var| var.value.as_deref()),
        Some("0.0.0.0:8080")
    );

    let pod_security = spec
        .template
        .spec
        .as_ref()
        .and_then(|pod| pod.security_context.clone())
        .expect("pod security context");
    assert_eq!(pod_security.run_as_non_root, Some(true));
    let security = container
        .security_context
        .clone()
        .expect("security context");
    assert_eq!(security.run_as_non_root, Some(true));
    assert_eq!(security.read_only_root_filesystem, Some(true));
    assert_eq!(security.allow_privilege_escalation, Some(false));
    let dropped = security
        .capabilities
        .and_then(|caps| caps.drop)
        .unwrap_or_default();
    assert_eq!(dropped, ["ALL"]);

    let resources = container.resources.clone().expect("resources");
    for (what, list) in [
        ("requests", &resources.requests),
        ("limits", &resources.limits),
    ] {
        let list = list.clone().unwrap_or_default();
        assert!(list.contains_key("memory"), "memory {what}");
        assert!(list.contains_key("cpu"), "cpu {what}");
    }
}

#[test]
fn the_service_and_budget_select_the_deployment_pods() {
    let manifests = Manifests::load();
    let deployment: Deployment = manifests.one("Deployment");
    let service: Service = manifests.one("Service");
    let budget: PodDisruptionBudget = manifests.one("PodDisruptionBudget");
    let spec = deployment.spec.clone();
    let pod_labels = spec
        .template
        .metadata
        .and_then(|m| m.labels)
        .expect("labels");
    let container = gateway_container(&deployment);

    let service_spec = service.spec.expect("service spec");
    for (key, value) in service_spec.selector.clone().expect("selector") {
        assert_eq!(pod_labels.get(&key), Some(&value), "service selector {key}");
    }
    let port_names: Vec<_> = container
        .ports
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| p.name)
        .collect();
    for port in service_spec.ports.unwrap_or_default() {
        if let Some(IntOrString::String(name)) = port.target_port {
            assert!(port_names.contains(&name), "target port {name}");
        }
    }

    let budget_spec = budget.spec.expect("budget spec");
    let selected = budget_spec
        .selector
        .and_then(|s| s.match_labels)
        .expect("budget selector");
    for (key, value) in selected {
        assert_eq!(pod_labels.get(&key), Some(&value), "budget selector {key}");
    }
    let replicas = spec.replicas.unwrap_or(1);
    match budget_spec.min_available {
        Some(IntOrString::Int(n)) => assert!(n < replicas, "a drain must be able to proceed"),
        other => panic!("minAvailable should be a count below the replicas: {other:?}"),
    }
}

#[test]
fn namespaced_objects_share_one_namespace() {
    let manifests = Manifests::load();
    let mut namespaces = Vec::new();
    for (kind, objects) in &manifests.by_kind {
        if ["Namespace", "ClusterRole", "ClusterRoleBinding"].contains(&kind.as_str()) {
            continue;
        }
        for (file, value) in objects {
            let namespace = value["metadata"]["namespace"]
                .as_str()
                .unwrap_or_else(|| panic!("{file}: {kind} names its namespace"));
            namespaces.push(namespace.to_owned());
        }
    }
    namespaces.sort();
    namespaces.dedup();
    assert_eq!(namespaces.len(), 1, "{namespaces:?}");
    if let Some(objects) = manifests.by_kind.get("Namespace") {
        assert_eq!(objects[0].1["metadata"]["name"], namespaces[0].as_str());
    }
}
