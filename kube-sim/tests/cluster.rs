//! A generated cluster is consistent: owners exist with matching uids,
//! Services select pods, Events are about objects that exist; it is
//! deterministic, and every object deserializes as its k8s-openapi type
//! when read through kube-rs over HTTP.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Event, Namespace, Node, Pod, Service};
use kube::api::{Api, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube_sim::{GenerateOptions, ResourceKind, Simulator};
use serde_json::Value;

async fn generated(pods: usize, namespaces: usize, nodes: usize) -> Simulator {
    Simulator::builder()
        .generated_pods(pods)
        .namespaces(namespaces)
        .nodes(nodes)
        .build_and_start()
        .await
        .expect("start")
}

fn s<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// (namespace, name) -> uid of every object of a kind.
fn index(sim: &Simulator, kind: ResourceKind) -> BTreeMap<(String, String), String> {
    sim.objects(kind)
        .iter()
        .map(|o| {
            (
                (
                    s(o, "/metadata/namespace").to_string(),
                    s(o, "/metadata/name").to_string(),
                ),
                s(o, "/metadata/uid").to_string(),
            )
        })
        .collect()
}

fn kind_named(kind: &str) -> ResourceKind {
    ResourceKind::ALL
        .into_iter()
        .find(|k| k.kind() == kind)
        .unwrap_or_else(|| panic!("unserved kind {kind}"))
}

/// Every controller owner reference of every object of `kind` points at an
/// existing object with that uid; returns the owner kinds seen.
fn owners_exist(sim: &Simulator, kind: ResourceKind) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for obj in sim.objects(kind) {
        let ns = s(&obj, "/metadata/namespace");
        for owner in obj["metadata"]["ownerReferences"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let owner_kind = kind_named(s(owner, "/kind"));
            let owners = index(sim, owner_kind);
            let uid = owners
                .get(&(ns.to_string(), s(owner, "/name").to_string()))
                .unwrap_or_else(|| panic!("owner {owner} of {} exists", obj["metadata"]["name"]));
            assert_eq!(
                uid,
                s(owner, "/uid"),
                "owner uid of {}",
                obj["metadata"]["name"]
            );
            assert_eq!(owner["controller"], true);
            seen.insert(owner_kind.kind().to_string());
        }
    }
    seen
}

#[tokio::test]
async fn owners_services_and_events_of_a_generated_cluster_are_consistent() {
    let sim = generated(400, 4, 5).await;
    let pods = sim.pods();
    assert_eq!(pods.len(), 400);
    for pod in &pods {
        assert!(
            pod["metadata"]["ownerReferences"][0]["uid"].is_string(),
            "every generated pod has a controller"
        );
    }
    assert_eq!(
        owners_exist(&sim, ResourceKind::Pod),
        ["DaemonSet", "Job", "ReplicaSet", "StatefulSet"]
            .map(String::from)
            .into()
    );
    assert_eq!(
        owners_exist(&sim, ResourceKind::ReplicaSet),
        ["Deployment".to_string()].into()
    );
    assert_eq!(
        owners_exist(&sim, ResourceKind::Job),
        ["CronJob".to_string()].into()
    );

    // Services select pods of their namespace, and every type is there.
    let mut types = BTreeSet::new();
    for svc in sim.objects(ResourceKind::Service) {
        let ns = s(&svc, "/metadata/namespace");
        let ty = s(&svc, "/spec/type").to_string();
        let flavour = match (ty.as_str(), s(&svc, "/spec/clusterIP")) {
            ("ClusterIP", "None") => "headless".to_string(),
            ("LoadBalancer", _) if svc["status"]["loadBalancer"]["ingress"].is_array() => {
                "LoadBalancer with ingress".to_string()
            }
            ("LoadBalancer", _) => "LoadBalancer pending".to_string(),
            _ => ty.clone(),
        };
        types.insert(flavour);
        match svc["spec"]["selector"].as_object() {
            None => {
                types.insert("no selector".into());
            }
            Some(selector) => {
                let matching = pods
                    .iter()
                    .filter(|p| s(p, "/metadata/namespace") == ns)
                    .filter(|p| {
                        selector
                            .iter()
                            .all(|(k, v)| p["metadata"]["labels"].get(k) == Some(v))
                    })
                    .count();
                assert!(matching > 0, "{} selects pods", svc["metadata"]["name"]);
            }
        }
        if ty == "NodePort" {
            let port = svc["spec"]["ports"][0]["nodePort"]
                .as_u64()
                .expect("nodePort");
            assert!((30_000..32_768).contains(&port));
        }
    }
    for ty in [
        "ClusterIP",
        "NodePort",
        "LoadBalancer with ingress",
        "LoadBalancer pending",
        "headless",
        "ExternalName",
        "no selector",
    ] {
        assert!(types.contains(ty), "{ty} in {types:?}");
    }
    let first_nodeport = sim
        .objects(ResourceKind::Service)
        .into_iter()
        .filter(|s| s["spec"]["type"] == "NodePort")
        .map(|s| {
            s["spec"]["ports"][0]["nodePort"]
                .as_u64()
                .unwrap_or_default()
        })
        .min();
    assert_eq!(first_nodeport, Some(30_080));

    // Events are about objects that exist.
    let events = sim.objects(ResourceKind::Event);
    assert!(!events.is_empty());
    let mut reasons = BTreeSet::new();
    let mut new_style = 0;
    for ev in &events {
        let involved = &ev["involvedObject"];
        let kind = kind_named(s(involved, "/kind"));
        let ns = if kind.namespaced() {
            s(involved, "/namespace")
        } else {
            ""
        };
        if kind.namespaced() {
            assert_eq!(ns, s(ev, "/metadata/namespace"), "{ev}");
        }
        let uid = index(&sim, kind)
            .get(&(ns.to_string(), s(involved, "/name").to_string()))
            .cloned()
            .unwrap_or_else(|| panic!("involved object of {ev} exists"));
        // The kubelet names a Node by its name where the uid belongs.
        if s(involved, "/kind") == "Node" {
            assert_eq!(s(involved, "/uid"), s(involved, "/name"), "{ev}");
        } else {
            assert_eq!(uid, s(involved, "/uid"), "{ev}");
        }
        assert!(ev["reportingComponent"].is_string());
        if ev["eventTime"].is_string() {
            new_style += 1;
            assert!(ev["firstTimestamp"].is_null());
        } else {
            assert!(ev["count"].as_u64().is_some_and(|c| c >= 1));
            assert!(ev["source"]["component"].is_string());
            assert!(ev["lastTimestamp"].is_string());
        }
        if s(ev, "/reason") == "BackOff" {
            assert!(s(involved, "/fieldPath").starts_with("spec.containers{"));
        }
        reasons.insert(format!("{} {}", s(involved, "/kind"), s(ev, "/reason")));
    }
    assert!(new_style > 0);
    assert!(
        events
            .iter()
            .any(|e| e["series"]["count"].as_u64() > Some(1))
    );
    for reason in [
        "Pod Scheduled",
        "Pod Pulled",
        "Pod Created",
        "Pod Started",
        "Pod BackOff",
        "Pod Unhealthy",
        "Pod FailedScheduling",
        "Deployment ScalingReplicaSet",
        "ReplicaSet SuccessfulCreate",
        "Job SuccessfulCreate",
        "CronJob SuccessfulCreate",
        "StatefulSet SuccessfulCreate",
        "Node NodeNotSchedulable",
    ] {
        assert!(reasons.contains(reason), "{reason} in {reasons:?}");
    }
    let per_pod = events.len() as f64 / pods.len() as f64;
    assert!((0.1..0.45).contains(&per_pod), "{per_pod} events per pod");

    // Jobs in every state.
    let jobs = sim.objects(ResourceKind::Job);
    let has_condition = |j: &Value, t: &str| {
        j["status"]["conditions"]
            .as_array()
            .is_some_and(|cs| cs.iter().any(|c| c["type"] == t))
    };
    let complete: Vec<_> = jobs
        .iter()
        .filter(|j| has_condition(j, "Complete"))
        .collect();
    assert!(!complete.is_empty());
    assert!(
        complete
            .iter()
            .all(|j| j["status"]["startTime"].is_string()
                && j["status"]["completionTime"].is_string())
    );
    assert_eq!(
        jobs.iter().filter(|j| has_condition(j, "Failed")).count(),
        1
    );
    assert!(
        jobs.iter()
            .any(|j| j["status"]["active"].as_u64() > Some(0))
    );

    // Nodes: every worker, Ready, one cordoned, addresses and node info.
    let nodes = sim.objects(ResourceKind::Node);
    assert_eq!(nodes.len(), 5);
    for node in &nodes {
        let ready = node["status"]["conditions"]
            .as_array()
            .expect("conditions")
            .iter()
            .find(|c| c["type"] == "Ready")
            .expect("Ready condition");
        assert_eq!(ready["status"], "True");
        for field in [
            "osImage",
            "kernelVersion",
            "containerRuntimeVersion",
            "kubeletVersion",
        ] {
            assert!(node["status"]["nodeInfo"][field].is_string());
        }
        assert_eq!(node["status"]["addresses"][0]["type"], "InternalIP");
    }
    let cordoned: Vec<_> = nodes
        .iter()
        .filter(|n| n["spec"]["unschedulable"] == true)
        .map(|n| s(n, "/metadata/name"))
        .collect();
    assert_eq!(cordoned, ["sim-worker-004"]);
    assert!(nodes.iter().any(|n| {
        n["status"]["addresses"]
            .as_array()
            .is_some_and(|a| a.iter().any(|a| a["type"] == "ExternalIP"))
    }));
    assert!(nodes.iter().any(|n| {
        n["spec"]["taints"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["key"] == "dedicated"))
    }));

    // Namespaces: the generated ones are Active, one is Terminating.
    let phases: BTreeMap<String, String> = sim
        .objects(ResourceKind::Namespace)
        .iter()
        .map(|n| {
            (
                s(n, "/metadata/name").to_string(),
                s(n, "/status/phase").to_string(),
            )
        })
        .collect();
    for ns in ["payments", "checkout", "catalog", "search", "default"] {
        assert_eq!(phases.get(ns).map(String::as_str), Some("Active"), "{ns}");
    }
    assert_eq!(
        phases.get("decommissioned").map(String::as_str),
        Some("Terminating")
    );
}

#[tokio::test]
async fn generated_clusters_are_deterministic_and_keep_the_generated_pods() {
    let a = generated(120, 3, 4).await;
    let b = generated(120, 3, 4).await;
    assert_eq!(a.pods(), b.pods());
    for kind in ResourceKind::ALL {
        let names = |sim: &Simulator| -> Vec<(String, String, String)> {
            sim.objects(kind)
                .iter()
                .map(|o| {
                    (
                        s(o, "/metadata/namespace").to_string(),
                        s(o, "/metadata/name").to_string(),
                        s(o, "/metadata/uid").to_string(),
                    )
                })
                .collect()
        };
        assert_eq!(names(&a), names(&b), "{kind:?}");
    }
    assert_eq!(
        a.objects(ResourceKind::Event),
        b.objects(ResourceKind::Event)
    );
    // The pods served are the generated ones.
    let opts = GenerateOptions {
        pods: 120,
        namespaces: 3,
        nodes: 4,
        seed: 42,
    };
    let mut expected = kube_sim::generate_pods(&opts);
    expected.sort_by(|x, y| {
        (s(x, "/metadata/namespace"), s(x, "/metadata/name"))
            .cmp(&(s(y, "/metadata/namespace"), s(y, "/metadata/name")))
    });
    let served: Vec<_> = a
        .pods()
        .into_iter()
        .map(|mut p| {
            p["metadata"]
                .as_object_mut()
                .expect("metadata")
                .remove("resourceVersion");
            p
        })
        .collect();
    assert_eq!(served, expected);
    // Without generated pods there is no generated cluster.
    let empty = generated(0, 3, 4).await;
    assert!(empty.objects(ResourceKind::Event).is_empty());
    assert!(empty.objects(ResourceKind::Service).is_empty());
}

#[tokio::test]
async fn a_large_cluster_is_generated_quickly() {
    let started = Instant::now();
    let (pods, objects) = kube_sim::generate_cluster(&GenerateOptions {
        pods: 20_000,
        namespaces: 20,
        nodes: 50,
        seed: 1,
    });
    assert_eq!(pods.len(), 20_000);
    let count = |k: ResourceKind| objects.iter().filter(|(kind, _)| *kind == k).count();
    let deployments = pods
        .iter()
        .filter(|p| p["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet")
        .count();
    assert!(deployments > 10_000);
    assert!(count(ResourceKind::Event) > 2_000);
    assert!(count(ResourceKind::Service) > 4_000);
    // Debug builds are several times slower than release ones.
    eprintln!("generated in {:?}", started.elapsed());
    assert!(started.elapsed().as_secs() < 30, "{:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_generated_object_reads_as_its_kube_type() {
    let sim = generated(300, 4, 4).await;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let kubeconfig = Kubeconfig::from_yaml(&sim.kubeconfig_yaml("sim")).expect("kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("config");
    let client = kube::Client::try_from(config).expect("client");
    let lp = ListParams::default();
    macro_rules! count {
        ($t:ty) => {
            Api::<$t>::all(client.clone())
                .list(&lp)
                .await
                .expect(stringify!($t))
                .items
                .len()
        };
    }
    assert_eq!(count!(Pod), 300);
    assert_eq!(count!(Node), 4);
    assert_eq!(
        count!(Namespace),
        sim.objects(ResourceKind::Namespace).len()
    );
    assert!(count!(Deployment) > 0);
    assert!(count!(ReplicaSet) > 0);
    assert!(count!(StatefulSet) > 0);
    assert!(count!(DaemonSet) > 0);
    assert!(count!(Job) > 0);
    assert!(count!(CronJob) > 0);
    assert!(count!(Service) > 0);
    assert_eq!(count!(Event), sim.objects(ResourceKind::Event).len());
    let pod_events = Api::<Event>::all(client.clone())
        .list(&ListParams::default().fields("involvedObject.kind=Pod,type=Warning"))
        .await
        .expect("events");
    assert!(!pod_events.items.is_empty());
    let scheduled = Api::<Event>::all(client)
        .list(&ListParams::default().fields("reason=FailedScheduling"))
        .await
        .expect("events");
    assert!(
        scheduled
            .items
            .iter()
            .all(|e| e.event_time.is_some() && e.series.is_some())
    );
    assert!(!scheduled.items.is_empty(), "some pods are unschedulable");
}
