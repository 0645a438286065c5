//! Checks `summary::summarize` against the 27 real Pod documents in
//! `tests/fixtures/pods` (see SOURCES.md there). Every expected value below was derived
//! by hand from the document and upstream `printPod` / `ComputePodQOS`, i.e. it is what
//! `kubectl get pods` prints for that pod.

use std::path::PathBuf;

use k8s_openapi::api::core::v1::Pod;
use osp_gateway::k8s::summary::{self, ContainerState, PodSummary};

/// Fixture directory relative to `CARGO_MANIFEST_DIR` (the repository's own copy
/// of the captures, so a fresh clone tests with nothing beside it).
const FIXTURE_DIR: &str = "/tests/fixtures/pods";

const RUN: ContainerState = ContainerState::Running;
const WAIT: ContainerState = ContainerState::Waiting;
const TERM: ContainerState = ContainerState::Terminated;

/// (name, state, reason, ready)
type C = (&'static str, ContainerState, &'static str, bool);

struct Expect {
    file: &'static str,
    status: &'static str,
    ready: &'static str,
    restarts: i32,
    /// kubectl's "(… ago)" anchor: lastState.terminated.finishedAt of a counted container.
    last_restart: Option<&'static str>,
    controlled: &'static str,
    qos: &'static str,
    init: &'static [C],
    /// Init containers with restartPolicy: Always.
    sidecars: &'static [&'static str],
    containers: &'static [C],
}

#[rustfmt::skip]
const EXPECTED: &[Expect] = &[
    // Single running, ready container; status.qosClass Guaranteed.
    Expect { file: "01-running-deployment-gke-nginx.json", status: "Running", ready: "1/1", restarts: 0, last_restart: None,
             controlled: "ReplicaSet", qos: "Guaranteed", init: &[], sidecars: &[],
             containers: &[("nginx", RUN, "", true)] },
    // Both ready; cluster-autoscaler-operator restartCount 2 with lastState Error.
    Expect { file: "02-running-deployment-two-containers-restarted.json", status: "Running", ready: "2/2", restarts: 2,
             last_restart: Some("2021-07-07T11:31:45Z"), controlled: "ReplicaSet", qos: "Burstable", init: &[], sidecars: &[],
             containers: &[("kube-rbac-proxy", RUN, "", true), ("cluster-autoscaler-operator", RUN, "", true)] },
    // 7 ready containers, prometheus restarted once.
    Expect { file: "03-running-statefulset-prometheus-seven-containers.json", status: "Running", ready: "7/7", restarts: 1,
             last_restart: Some("2021-07-07T16:15:21Z"), controlled: "StatefulSet", qos: "Burstable", init: &[], sidecars: &[],
             containers: &[("prometheus", RUN, "", true), ("config-reloader", RUN, "", true), ("thanos-sidecar", RUN, "", true),
                           ("prometheus-proxy", RUN, "", true), ("kube-rbac-proxy", RUN, "", true),
                           ("prom-label-proxy", RUN, "", true), ("kube-rbac-proxy-thanos", RUN, "", true)] },
    Expect { file: "04-running-daemonset.json", status: "Running", ready: "1/1", restarts: 0, last_restart: None,
             controlled: "DaemonSet", qos: "BestEffort", init: &[], sidecars: &[],
             containers: &[("app", RUN, "", true)] },
    // Two init containers exited 0 (skipped); regular init containers are not in READY.
    Expect { file: "05-static-mirror-etcd-owner-node.json", status: "Running", ready: "3/3", restarts: 2,
             last_restart: Some("2021-07-07T11:27:46Z"), controlled: "Node", qos: "Burstable",
             init: &[("etcd-ensure-env-vars", TERM, "Completed", true), ("etcd-resources-copy", TERM, "Completed", true)], sidecars: &[],
             containers: &[("etcdctl", RUN, "", true), ("etcd", RUN, "", true), ("etcd-metrics", RUN, "", true)] },
    // 13 + 6 restarts; the latest lastState.finishedAt is kube-scheduler's.
    Expect { file: "06-static-mirror-kube-scheduler-restarts.json", status: "Running", ready: "3/3", restarts: 19,
             last_restart: Some("2021-07-09T09:19:25Z"), controlled: "Node", qos: "Burstable",
             init: &[("wait-for-host-port", TERM, "Completed", true)], sidecars: &[],
             containers: &[("kube-scheduler", RUN, "", true), ("kube-scheduler-cert-syncer", RUN, "", true),
                           ("kube-scheduler-recovery-controller", RUN, "", true)] },
    // Waiting reason wins over the phase Running.
    Expect { file: "07-crashloopbackoff-exit-1.json", status: "CrashLoopBackOff", ready: "0/1", restarts: 3,
             last_restart: Some("2018-12-02T09:20:25Z"), controlled: "", qos: "BestEffort", init: &[], sidecars: &[],
             containers: &[("main", WAIT, "CrashLoopBackOff", false)] },
    // restartCount 0, so no "(ago)" even though lastState.terminated exists.
    Expect { file: "08-crashloopbackoff-containercannotrun.json", status: "CrashLoopBackOff", ready: "0/1", restarts: 0,
             last_restart: None, controlled: "ReplicaSet", qos: "Burstable", init: &[], sidecars: &[],
             containers: &[("valla", WAIT, "CrashLoopBackOff", false)] },
    // Current state terminated OOMKilled; no lastState, so no restart time.
    Expect { file: "09-oomkilled-restart-46.json", status: "OOMKilled", ready: "0/1", restarts: 46, last_restart: None,
             controlled: "ReplicaSet", qos: "Burstable", init: &[], sidecars: &[],
             containers: &[("sauceconnect", TERM, "OOMKilled", false)] },
    Expect { file: "10-imagepullbackoff-replicaset.json", status: "ImagePullBackOff", ready: "0/1", restarts: 0, last_restart: None,
             controlled: "ReplicaSet", qos: "BestEffort", init: &[], sidecars: &[],
             containers: &[("errimagepullbackoff", WAIT, "ImagePullBackOff", false)] },
    Expect { file: "11-errimagepull.json", status: "ErrImagePull", ready: "0/1", restarts: 0, last_restart: None,
             controlled: "", qos: "Burstable", init: &[], sidecars: &[],
             containers: &[("workspace", WAIT, "ErrImagePull", false)] },
    // No container statuses: the phase; Unschedulable is not SchedulingGated.
    Expect { file: "12-pending-unschedulable.json", status: "Pending", ready: "0/1", restarts: 0, last_restart: None,
             controlled: "ReplicaSet", qos: "Burstable", init: &[], sidecars: &[],
             containers: &[("router", WAIT, "", false)] },
    // Init container running → default branch Init:0/1.
    Expect { file: "13-init-container-running.json", status: "Init:0/1", ready: "0/1", restarts: 0, last_restart: None,
             controlled: "", qos: "BestEffort", init: &[("init-myservice", RUN, "", false)], sidecars: &[],
             containers: &[("myapp-container", WAIT, "PodInitializing", false)] },
    // Init container waiting in PodInitializing → also Init:0/1.
    Expect { file: "14-init-container-podinitializing.json", status: "Init:0/1", ready: "0/2", restarts: 0, last_restart: None,
             controlled: "ReplicaSet", qos: "Burstable", init: &[("vsystem-iptables", WAIT, "PodInitializing", false)], sidecars: &[],
             containers: &[("flowagent-service", WAIT, "PodInitializing", false), ("vsystem-agent", WAIT, "PodInitializing", false)] },
    // Initializing: restarts are the init container's 7527.
    Expect { file: "15-init-container-crashloopbackoff.json", status: "Init:CrashLoopBackOff", ready: "0/2", restarts: 7527,
             last_restart: Some("2024-04-27T09:54:24Z"), controlled: "ReplicaSet", qos: "Burstable",
             init: &[("vsystem-hana-init", WAIT, "CrashLoopBackOff", false)], sidecars: &[],
             containers: &[("vsystem", WAIT, "PodInitializing", false), ("auth", WAIT, "PodInitializing", false)] },
    Expect { file: "16-init-container-completed.json", status: "Running", ready: "1/1", restarts: 0, last_restart: None,
             controlled: "", qos: "Guaranteed", init: &[("init-sleep", TERM, "Completed", true)], sidecars: &[],
             containers: &[("busy", RUN, "", true)] },
    // Native sidecar: counted in READY (2/2), regular init container is not.
    Expect { file: "17-native-sidecar-restartpolicy-always.json", status: "Running", ready: "2/2", restarts: 0, last_restart: None,
             controlled: "", qos: "Burstable", init: &[("init", TERM, "Completed", true), ("sidecar", RUN, "", true)],
             sidecars: &["sidecar"], containers: &[("sleep", RUN, "", true)] },
    Expect { file: "18-job-failed-error.json", status: "Error", ready: "0/1", restarts: 0, last_restart: None,
             controlled: "Job", qos: "Burstable", init: &[], sidecars: &[],
             containers: &[("auditlog-retention", TERM, "Error", false)] },
    Expect { file: "19-job-failed-starterror-fargate.json", status: "StartError", ready: "0/1", restarts: 0, last_restart: None,
             controlled: "Job", qos: "BestEffort", init: &[], sidecars: &[],
             containers: &[("migrations", TERM, "StartError", false)] },
    Expect { file: "20-succeeded-completed.json", status: "Completed", ready: "0/1", restarts: 0, last_restart: None,
             controlled: "", qos: "BestEffort", init: &[], sidecars: &[],
             containers: &[("main", TERM, "Completed", false)] },
    // status.reason Evicted; no qosClass in status → computed (requests < limits).
    Expect { file: "21-evicted-diskpressure.json", status: "Evicted", ready: "0/1", restarts: 0, last_restart: None,
             controlled: "", qos: "Burstable", init: &[], sidecars: &[],
             containers: &[("workspace", WAIT, "", false)] },
    Expect { file: "22-failed-matchnodeselector.json", status: "MatchNodeSelector", ready: "0/1", restarts: 0, last_restart: None,
             controlled: "", qos: "Burstable", init: &[], sidecars: &[],
             containers: &[("workspace", WAIT, "", false)] },
    // deletionTimestamp on a Running pod.
    Expect { file: "23-terminating-running.json", status: "Terminating", ready: "1/1", restarts: 0, last_restart: None,
             controlled: "ReplicaSet", qos: "Guaranteed", init: &[], sidecars: &[],
             containers: &[("container-0", RUN, "", true)] },
    // deletionTimestamp on a Pending pod overrides ImagePullBackOff.
    Expect { file: "24-terminating-imagepullbackoff.json", status: "Terminating", ready: "0/1", restarts: 0, last_restart: None,
             controlled: "", qos: "Burstable", init: &[], sidecars: &[],
             containers: &[("workspace", WAIT, "ImagePullBackOff", false)] },
    // Readiness gate False: READY still counts the ready container (gates are wide-only).
    Expect { file: "25-readiness-gate-not-ready.json", status: "Running", ready: "1/1", restarts: 0, last_restart: None,
             controlled: "ReplicaSet", qos: "BestEffort", init: &[], sidecars: &[],
             containers: &[("nginx", RUN, "", true)] },
    // Running but not ready: phase kept, 0/1.
    Expect { file: "26-running-not-ready-readiness-probe.json", status: "Running", ready: "0/1", restarts: 0, last_restart: None,
             controlled: "", qos: "BestEffort", init: &[], sidecars: &[],
             containers: &[("main", RUN, "", false)] },
    Expect { file: "27-pending-containercreating.json", status: "ContainerCreating", ready: "0/1", restarts: 0, last_restart: None,
             controlled: "", qos: "BestEffort", init: &[], sidecars: &[],
             containers: &[("liveness", WAIT, "ContainerCreating", false)] },
];

fn fixture_dir() -> PathBuf {
    PathBuf::from(format!("{}{}", env!("CARGO_MANIFEST_DIR"), FIXTURE_DIR))
}

fn load(file: &str) -> Pod {
    let path = fixture_dir().join(file);
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

fn containers(v: &[summary::ContainerSummary]) -> Vec<(String, ContainerState, String, bool)> {
    v.iter()
        .map(|c| (c.name.clone(), c.status, c.reason.clone(), c.ready))
        .collect()
}

fn expected_containers(v: &[C]) -> Vec<(String, ContainerState, String, bool)> {
    v.iter()
        .map(|(n, s, r, ready)| (n.to_string(), *s, r.to_string(), *ready))
        .collect()
}

fn check(e: &Expect, s: &PodSummary) -> Vec<String> {
    let mut diffs = Vec::new();
    let mut cmp = |what: &str, got: String, want: String| {
        if got != want {
            diffs.push(format!("{}: {what}: got {got:?}, want {want:?}", e.file));
        }
    };
    cmp("status", s.status.clone(), e.status.to_string());
    cmp("ready", s.ready.clone(), e.ready.to_string());
    cmp("restarts", s.restarts.to_string(), e.restarts.to_string());
    cmp(
        "last_restart",
        format!("{:?}", s.last_restart),
        format!("{:?}", e.last_restart.map(str::to_string)),
    );
    cmp("controlled", s.controlled.clone(), e.controlled.to_string());
    cmp("qos", s.qos.clone(), e.qos.to_string());
    cmp(
        "containers",
        format!("{:?}", containers(&s.containers)),
        format!("{:?}", expected_containers(e.containers)),
    );
    cmp(
        "init",
        format!("{:?}", containers(&s.init_containers)),
        format!("{:?}", expected_containers(e.init)),
    );
    let sidecars: Vec<&str> = s
        .init_containers
        .iter()
        .filter(|c| c.sidecar)
        .map(|c| c.name.as_str())
        .collect();
    cmp(
        "sidecars",
        format!("{sidecars:?}"),
        format!("{:?}", e.sidecars),
    );
    diffs
}

#[test]
fn fixtures_match_kubectl() {
    let mut diffs = Vec::new();
    for e in EXPECTED {
        diffs.extend(check(e, &summary::summarize(&load(e.file))));
    }
    assert!(
        diffs.is_empty(),
        "{} mismatches:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

#[test]
fn every_fixture_has_an_expectation() {
    let mut on_disk: Vec<String> = std::fs::read_dir(fixture_dir())
        .expect("fixture dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = EXPECTED.iter().map(|e| e.file.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
    assert_eq!(listed.len(), 27);
}

#[test]
fn computed_qos_agrees_with_recorded_qos_class() {
    // Where the API server recorded status.qosClass, recomputing it from the spec
    // must give the same answer.
    let mut checked = 0;
    for e in EXPECTED {
        let pod = load(e.file);
        if let Some(recorded) = pod.status.as_ref().and_then(|s| s.qos_class.clone()) {
            assert_eq!(summary::compute_qos_class(&pod), recorded, "{}", e.file);
            checked += 1;
        }
    }
    assert_eq!(checked, 25);
}

/// (file, name, namespace, node, pod IP, created, readiness gates, controller name)
type WideRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

#[test]
fn wide_columns_and_metadata() {
    // (file, name, namespace, node, pod IP, created, readiness gates, controller name)
    let rows: &[WideRow] = &[
        (
            "01-running-deployment-gke-nginx.json",
            "nginx-7fb78fb6d8-2w75j",
            "default",
            "gke-k9s-default-pool-0fa2fb89-lbtf",
            "10.44.0.229",
            "2019-12-31T19:27:22Z",
            "",
            "nginx-7fb78fb6d8",
        ),
        (
            "05-static-mirror-etcd-owner-node.json",
            "etcd-master-0.imeixner20210707.lab.upshift.rdu2.redhat.com",
            "openshift-etcd",
            "master-0.imeixner20210707.lab.upshift.rdu2.redhat.com",
            "10.0.88.27",
            "2021-07-07T11:27:06Z",
            "",
            "master-0.imeixner20210707.lab.upshift.rdu2.redhat.com",
        ),
        (
            "12-pending-unschedulable.json",
            "router-default-7bbdcfcf9b-7xdln",
            "openshift-ingress",
            "",
            "",
            "2021-07-07T16:14:55Z",
            "",
            "router-default-7bbdcfcf9b",
        ),
        (
            "22-failed-matchnodeselector.json",
            "ws-fb291b69-7bbc-4865-a432-33f558f20091",
            "staging-cw-scheduler",
            "gke-gitpod-dev-default-pool-b25aa276-3tl2",
            "",
            "2019-06-13T12:38:33Z",
            "",
            "",
        ),
        (
            "25-readiness-gate-not-ready.json",
            "nginx-6f876d7d7d-hvl99",
            "lb",
            "ip-192-168-113-123.ec2.internal",
            "192.168.123.3",
            "2023-06-26T17:45:58Z",
            "0/1",
            "nginx-6f876d7d7d",
        ),
        (
            "27-pending-containercreating.json",
            "bad",
            "test-namespace",
            "ip-192-168-116-36.ec2.internal",
            "",
            "2022-11-23T13:36:08Z",
            "",
            "",
        ),
    ];
    for (file, name, ns, node, ip, created, gates, controller) in rows {
        let s = summary::summarize(&load(file));
        assert_eq!(
            (
                s.name.as_str(),
                s.namespace.as_str(),
                s.node_name.as_str(),
                s.pod_ip.as_str(),
                s.created.as_deref(),
                s.readiness_gates.as_str(),
                s.controller_name.as_str()
            ),
            (*name, *ns, *node, *ip, Some(*created), *gates, *controller),
            "{file}"
        );
    }
}
