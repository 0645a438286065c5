//! Deterministic generation of realistic synthetic pods: Deployment-owned
//! pods (each with a ReplicaSet owner reference) spread over namespaces and
//! nodes, in a realistic mix of states.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::model::{fnv64, name_suffix, splitmix64, stable_uid};

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerateOptions {
    /// Number of pods.
    pub pods: usize,
    /// Number of namespaces to spread them over (at least 1).
    pub namespaces: usize,
    /// Number of worker nodes to schedule them on (at least 1).
    pub nodes: usize,
    /// Seed: the same options always give the same pods.
    pub seed: u64,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        Self {
            pods: 0,
            namespaces: 4,
            nodes: 3,
            seed: 42,
        }
    }
}

/// The state a generated pod is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Running,
    NotReady,
    CrashLoop,
    Unschedulable,
    ContainerCreating,
    InitRunning,
    Completed,
    ImagePullBackOff,
}

fn pick_state(r: u64) -> State {
    match r % 100 {
        0..80 => State::Running,
        80..85 => State::CrashLoop,
        85..88 => State::Unschedulable,
        88..91 => State::ContainerCreating,
        91..94 => State::InitRunning,
        94..96 => State::Completed,
        96..99 => State::ImagePullBackOff,
        _ => State::NotReady,
    }
}

const NAMESPACES: &[&str] = &[
    "payments",
    "checkout",
    "catalog",
    "search",
    "identity",
    "notifications",
    "analytics",
    "platform",
    "observability",
    "ingress",
];
const APPS: &[&str] = &[
    "api",
    "web",
    "worker",
    "cache",
    "gateway",
    "scheduler",
    "auth",
    "billing",
    "frontend",
    "indexer",
    "exporter",
    "consumer",
];

/// Namespace `i` of the generated set.
pub(crate) fn namespace_name(i: usize) -> String {
    match NAMESPACES.get(i) {
        Some(n) => (*n).to_string(),
        None => format!("team-{i:03}"),
    }
}

/// Worker node `i` of the generated set.
pub(crate) fn node_name(i: usize) -> String {
    format!("sim-worker-{i:03}")
}

pub(crate) fn node_ip(i: usize) -> String {
    format!("10.0.{}.{}", i / 200, 10 + i % 200)
}

/// Base of generated timestamps (fixed, so output is deterministic).
const EPOCH: i64 = 1_748_736_000; // 2025-06-01T00:00:00Z

pub(crate) fn ts(secs: i64) -> String {
    DateTime::<Utc>::from_timestamp(EPOCH + secs, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The controller generated pods of one group belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Workload {
    /// A Deployment's ReplicaSet (most groups).
    Deployment,
    /// A StatefulSet named after the app.
    StatefulSet,
    /// A DaemonSet named after the app.
    DaemonSet,
    /// A Job (named like the ReplicaSet would be) of a CronJob named after the app.
    CronJob,
}

/// Which controller the `d`-th group of pods gets (about 70% Deployments,
/// 10% each StatefulSets, DaemonSets and CronJobs), spread over namespaces.
fn workload_of(d: usize, namespaces: usize) -> Workload {
    match (d + d / namespaces) % 10 {
        2 => Workload::StatefulSet,
        5 => Workload::DaemonSet,
        7 => Workload::CronJob,
        _ => Workload::Deployment,
    }
}

/// One group of generated pods and what owns them.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub index: usize,
    pub workload: Workload,
    pub ns: String,
    pub app: String,
    /// The ReplicaSet name (`<app>-<hash>`); the Job's name for CronJob groups.
    pub rs: String,
    /// UID of the pods' controller (ReplicaSet, StatefulSet, DaemonSet or Job).
    pub owner_uid: String,
    /// Indices of its pods in the generated list.
    pub pods: std::ops::Range<usize>,
    /// Creation time, seconds after the generation epoch.
    pub created: i64,
}

/// Generates `opts.pods` pods.
pub fn generate_pods(opts: &GenerateOptions) -> Vec<Value> {
    generate_groups(opts).0
}

/// The generated pods and the groups they come in.
pub(crate) fn generate_groups(opts: &GenerateOptions) -> (Vec<Value>, Vec<Group>) {
    let namespaces = opts.namespaces.max(1);
    let nodes = opts.nodes.max(1);
    let mut rng = opts.seed ^ 0x6b75_6265_2d73_696d;
    let mut pods = Vec::with_capacity(opts.pods);
    let mut groups = Vec::new();
    let mut deployment = 0usize;
    while pods.len() < opts.pods {
        let ns = namespace_name(deployment % namespaces);
        let round = deployment / namespaces;
        let app = match round / APPS.len() {
            0 => APPS[round % APPS.len()].to_string(),
            n => format!("{}-{n}", APPS[round % APPS.len()]),
        };
        let hash_seed = fnv64(format!("{}/{ns}/{app}", opts.seed).as_bytes());
        let rs = format!("{app}-{}", name_suffix(hash_seed, 10));
        let rs_uid = stable_uid(&format!("replicaset/{ns}/{rs}/{}", opts.seed));
        let replicas = 1 + (splitmix64(&mut rng) % 4) as usize;
        let image = format!(
            "registry.example.com/{ns}/{app}:v1.{}.{}",
            hash_seed % 9,
            (hash_seed >> 8) % 20
        );
        let created = (splitmix64(&mut rng) % (30 * 86_400)) as i64;
        let workload = workload_of(deployment, namespaces);
        let owner = owner_of(workload, &ns, &app, &rs, &rs_uid, opts.seed);
        let start = pods.len();
        for _ in 0..replicas {
            if pods.len() >= opts.pods {
                break;
            }
            let r = splitmix64(&mut rng);
            let node = (r >> 20) as usize % nodes;
            let pod_name = format!("{rs}-{}", name_suffix(r, 5));
            let ctx = PodCtx {
                ns: &ns,
                app: &app,
                rs: &rs,
                rs_uid: &rs_uid,
                name: &pod_name,
                image: &image,
                node,
                pod_index: pods.len(),
                created: created + (r >> 40) as i64 % 3600,
                restarts: (r >> 8) % 40,
                seed: opts.seed,
            };
            let mut pod = ctx.build(pick_state(r));
            if workload != Workload::Deployment {
                reown(&mut pod, workload, &owner);
            }
            pods.push(pod);
        }
        groups.push(Group {
            index: deployment,
            workload,
            owner_uid: owner["uid"].as_str().unwrap_or_default().to_string(),
            ns,
            app,
            rs,
            pods: start..pods.len(),
            created,
        });
        deployment += 1;
    }
    (pods, groups)
}

/// The controller owner reference pods of a group carry.
fn owner_of(workload: Workload, ns: &str, app: &str, rs: &str, rs_uid: &str, seed: u64) -> Value {
    let (api, kind, name, uid) = match workload {
        Workload::Deployment => ("apps/v1", "ReplicaSet", rs, rs_uid.to_string()),
        Workload::StatefulSet => (
            "apps/v1",
            "StatefulSet",
            app,
            stable_uid(&format!("statefulset/{ns}/{app}/{seed}")),
        ),
        Workload::DaemonSet => (
            "apps/v1",
            "DaemonSet",
            app,
            stable_uid(&format!("daemonset/{ns}/{app}/{seed}")),
        ),
        Workload::CronJob => (
            "batch/v1",
            "Job",
            rs,
            stable_uid(&format!("job/{ns}/{rs}/{seed}")),
        ),
    };
    json!({"apiVersion": api, "kind": kind, "name": name, "uid": uid,
        "controller": true, "blockOwnerDeletion": true})
}

/// Gives a generated pod another controller, with the labels that controller
/// puts on its pods (names, namespaces and states stay).
fn reown(pod: &mut Value, workload: Workload, owner: &Value) {
    let name = pod["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let owner_name = owner["name"].as_str().unwrap_or_default().to_string();
    let owner_uid = owner["uid"].as_str().unwrap_or_default().to_string();
    pod["metadata"]["ownerReferences"] = json!([owner]);
    let Some(labels) = pod["metadata"]["labels"].as_object_mut() else {
        return;
    };
    labels.remove("pod-template-hash");
    let revision = format!(
        "{owner_name}-{}",
        name_suffix(fnv64(owner_name.as_bytes()), 10)
    );
    match workload {
        Workload::StatefulSet => {
            labels.insert("controller-revision-hash".into(), revision.into());
            labels.insert("statefulset.kubernetes.io/pod-name".into(), name.into());
        }
        Workload::DaemonSet => {
            labels.insert("controller-revision-hash".into(), revision.into());
            labels.insert("pod-template-generation".into(), "1".into());
        }
        Workload::CronJob => {
            for key in ["batch.kubernetes.io/controller-uid", "controller-uid"] {
                labels.insert(key.into(), owner_uid.clone().into());
            }
            for key in ["batch.kubernetes.io/job-name", "job-name"] {
                labels.insert(key.into(), owner_name.clone().into());
            }
            pod["spec"]["restartPolicy"] = json!("OnFailure");
        }
        Workload::Deployment => {}
    }
}

struct PodCtx<'a> {
    ns: &'a str,
    app: &'a str,
    rs: &'a str,
    rs_uid: &'a str,
    name: &'a str,
    image: &'a str,
    node: usize,
    pod_index: usize,
    created: i64,
    restarts: u64,
    seed: u64,
}

fn cond(t: &str, status: &str, at: &str) -> Value {
    json!({"type": t, "status": status, "lastProbeTime": null, "lastTransitionTime": at})
}

fn cond_reason(t: &str, status: &str, at: &str, reason: &str, message: Option<&str>) -> Value {
    let mut c = cond(t, status, at);
    c["reason"] = json!(reason);
    if let Some(m) = message {
        c["message"] = json!(m);
    }
    c
}

impl PodCtx<'_> {
    /// A Ready or ContainersReady condition that is False because the app
    /// container is not ready, as the kubelet writes it.
    fn not_ready(&self, condition: &str, at: &str) -> Value {
        cond_reason(
            condition,
            "False",
            at,
            "ContainersNotReady",
            Some(&format!("containers with unready status: [{}]", self.app)),
        )
    }

    fn build(&self, state: State) -> Value {
        let created = ts(self.created);
        let started = ts(self.created + 3);
        let running_since = ts(self.created + 9);
        let hash = self.rs.rsplit_once('-').map_or("", |(_, h)| h);
        let node_name = crate::generate::node_name(self.node);
        let pod_ip = format!("10.244.{}.{}", self.node % 250, 2 + self.pod_index % 250);
        let container_id = format!(
            "containerd://{:016x}{:016x}",
            fnv64(self.name.as_bytes()),
            self.seed
        );
        let image_id = format!(
            "{}@sha256:{:016x}{:016x}",
            self.image.split(':').next().unwrap_or(self.image),
            fnv64(self.image.as_bytes()),
            self.seed
        );
        let mut pod = json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": self.name,
                "generateName": format!("{}-", self.rs),
                "namespace": self.ns,
                "uid": stable_uid(&format!("pod/{}/{}/{}", self.ns, self.name, self.seed)),
                "creationTimestamp": created,
                "labels": {
                    "app": self.app,
                    "app.kubernetes.io/name": self.app,
                    "app.kubernetes.io/part-of": self.ns,
                    "pod-template-hash": hash
                },
                "ownerReferences": [{
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": self.rs,
                    "uid": self.rs_uid,
                    "controller": true,
                    "blockOwnerDeletion": true
                }]
            },
            "spec": {
                "containers": [{
                    "name": self.app,
                    "image": self.image,
                    "imagePullPolicy": "IfNotPresent",
                    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                    "resources": {
                        "requests": {"cpu": "100m", "memory": "128Mi"},
                        "limits": {"memory": "256Mi"}
                    },
                    "readinessProbe": {
                        "httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"},
                        "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3
                    },
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File"
                }],
                "restartPolicy": "Always",
                "terminationGracePeriodSeconds": 30,
                "dnsPolicy": "ClusterFirst",
                "serviceAccountName": "default",
                "serviceAccount": "default",
                "nodeName": node_name,
                "securityContext": {},
                "schedulerName": "default-scheduler",
                "tolerations": [
                    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
                ],
                "priority": 0,
                "enableServiceLinks": true,
                "preemptionPolicy": "PreemptLowerPriority"
            },
            "status": {
                "phase": "Running",
                "hostIP": node_ip(self.node),
                "hostIPs": [{"ip": node_ip(self.node)}],
                "podIP": pod_ip,
                "podIPs": [{"ip": pod_ip}],
                "startTime": started,
                "qosClass": "Burstable"
            }
        });
        let base_status = |ready: bool, state: Value, restarts: u64, last: Value| {
            json!({
                "name": self.app,
                "state": state,
                "lastState": last,
                "ready": ready,
                "restartCount": restarts,
                "image": self.image,
                "imageID": image_id,
                "containerID": container_id,
                "started": ready
            })
        };
        let all_true = |ready: &str| {
            json!([
                cond("PodReadyToStartContainers", "True", &running_since),
                cond("Initialized", "True", &started),
                cond("Ready", ready, &running_since),
                cond("ContainersReady", ready, &running_since),
                cond("PodScheduled", "True", &created)
            ])
        };
        let status = &mut pod["status"];
        match state {
            State::Running => {
                status["conditions"] = all_true("True");
                status["containerStatuses"] = json!([base_status(
                    true,
                    json!({"running": {"startedAt": running_since}}),
                    0,
                    json!({})
                )]);
            }
            State::NotReady => {
                let mut conds = all_true("False");
                conds[2]["reason"] = json!("ContainersNotReady");
                conds[2]["message"] =
                    json!(format!("containers with unready status: [{}]", self.app));
                conds[3] = conds[2].clone();
                conds[3]["type"] = json!("ContainersReady");
                status["conditions"] = conds;
                let mut cs = base_status(
                    false,
                    json!({"running": {"startedAt": running_since}}),
                    0,
                    json!({}),
                );
                cs["started"] = json!(true);
                status["containerStatuses"] = json!([cs]);
            }
            State::CrashLoop => {
                let restarts = 1 + self.restarts;
                let msg = format!(
                    "back-off 5m0s restarting failed container={} pod={}_{}({})",
                    self.app,
                    self.name,
                    self.ns,
                    stable_uid(self.name)
                );
                let mut conds = all_true("False");
                conds[2] = self.not_ready("Ready", &running_since);
                conds[3] = self.not_ready("ContainersReady", &running_since);
                status["conditions"] = conds;
                status["containerStatuses"] = json!([base_status(
                    false,
                    json!({"waiting": {"reason": "CrashLoopBackOff", "message": msg}}),
                    restarts,
                    json!({"terminated": {"exitCode": 1, "reason": "Error", "startedAt": ts(self.created + 600), "finishedAt": ts(self.created + 605), "containerID": container_id}})
                )]);
            }
            State::Unschedulable => {
                if let Some(spec) = pod["spec"].as_object_mut() {
                    spec.remove("nodeName");
                }
                let status = &mut pod["status"];
                *status = json!({
                    "phase": "Pending",
                    "conditions": [cond_reason("PodScheduled", "False", &created, "Unschedulable",
                        Some("0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient memory. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod."))],
                    "qosClass": "Burstable"
                });
            }
            State::ContainerCreating => {
                if let Some(s) = status.as_object_mut() {
                    s.remove("podIP");
                    s.remove("podIPs");
                }
                status["phase"] = json!("Pending");
                status["conditions"] = json!([
                    cond("PodReadyToStartContainers", "False", &started),
                    cond("Initialized", "True", &started),
                    self.not_ready("Ready", &started),
                    self.not_ready("ContainersReady", &started),
                    cond("PodScheduled", "True", &created)
                ]);
                let mut cs = base_status(
                    false,
                    json!({"waiting": {"reason": "ContainerCreating"}}),
                    0,
                    json!({}),
                );
                if let Some(m) = cs.as_object_mut() {
                    m.remove("imageID");
                    m.remove("containerID");
                    m["image"] = json!(self.image);
                }
                cs["imageID"] = json!("");
                status["containerStatuses"] = json!([cs]);
            }
            State::InitRunning => {
                status["phase"] = json!("Pending");
                status["conditions"] = json!([
                    cond("PodReadyToStartContainers", "True", &running_since),
                    cond_reason(
                        "Initialized",
                        "False",
                        &started,
                        "ContainersNotInitialized",
                        Some("containers with incomplete status: [wait-for-db]")
                    ),
                    self.not_ready("Ready", &started),
                    self.not_ready("ContainersReady", &started),
                    cond("PodScheduled", "True", &created)
                ]);
                status["initContainerStatuses"] = json!([{
                    "name": "wait-for-db",
                    "state": {"running": {"startedAt": running_since}},
                    "lastState": {},
                    "ready": false,
                    "restartCount": 0,
                    "image": "busybox:1.36",
                    "imageID": "docker.io/library/busybox@sha256:9ae97d36d26566ff84e8893c64a6dc4fe8ca6d1144bf5b87b2b85a32def253c7",
                    "containerID": format!("{container_id}-init"),
                    "started": true
                }]);
                let mut cs = base_status(
                    false,
                    json!({"waiting": {"reason": "PodInitializing"}}),
                    0,
                    json!({}),
                );
                cs["imageID"] = json!("");
                if let Some(m) = cs.as_object_mut() {
                    m.remove("containerID");
                }
                status["containerStatuses"] = json!([cs]);
                pod["spec"]["initContainers"] = json!([{
                    "name": "wait-for-db",
                    "image": "busybox:1.36",
                    "command": ["sh", "-c", "until nc -z db 5432; do sleep 2; done"],
                    "imagePullPolicy": "IfNotPresent",
                    "resources": {},
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File"
                }]);
            }
            State::Completed => {
                status["phase"] = json!("Succeeded");
                let mut conds = all_true("False");
                conds[0]["status"] = json!("False");
                for i in [1usize, 2, 3] {
                    conds[i]["reason"] = json!("PodCompleted");
                }
                conds[1]["status"] = json!("True");
                status["conditions"] = conds;
                let mut cs = base_status(
                    false,
                    json!({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": running_since, "finishedAt": ts(self.created + 120), "containerID": container_id}}),
                    0,
                    json!({}),
                );
                cs["started"] = json!(false);
                status["containerStatuses"] = json!([cs]);
            }
            State::ImagePullBackOff => {
                if let Some(s) = status.as_object_mut() {
                    s.remove("podIP");
                    s.remove("podIPs");
                }
                status["phase"] = json!("Pending");
                status["conditions"] = json!([
                    cond("PodReadyToStartContainers", "True", &started),
                    cond("Initialized", "True", &started),
                    self.not_ready("Ready", &started),
                    self.not_ready("ContainersReady", &started),
                    cond("PodScheduled", "True", &created)
                ]);
                let mut cs = base_status(
                    false,
                    json!({"waiting": {"reason": "ImagePullBackOff", "message": format!("Back-off pulling image \"{}\"", self.image)}}),
                    0,
                    json!({}),
                );
                cs["imageID"] = json!("");
                if let Some(m) = cs.as_object_mut() {
                    m.remove("containerID");
                }
                status["containerStatuses"] = json!([cs]);
            }
        }
        pod
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_mixed() {
        let opts = GenerateOptions {
            pods: 300,
            namespaces: 3,
            nodes: 5,
            seed: 7,
        };
        let a = generate_pods(&opts);
        assert_eq!(a.len(), 300);
        assert_eq!(a, generate_pods(&opts));
        let phases: std::collections::BTreeSet<_> = a
            .iter()
            .filter_map(|p| p.pointer("/status/phase").and_then(Value::as_str))
            .collect();
        assert!(
            phases.contains("Running")
                && phases.contains("Pending")
                && phases.contains("Succeeded")
        );
        let names: std::collections::BTreeSet<_> = a
            .iter()
            .map(|p| format!("{}/{}", p["metadata"]["namespace"], p["metadata"]["name"]))
            .collect();
        assert_eq!(names.len(), 300, "names are unique");
        // Most pods belong to Deployments' ReplicaSets, some to StatefulSets,
        // DaemonSets and CronJobs' Jobs.
        let owners: std::collections::BTreeMap<_, usize> =
            a.iter().fold(Default::default(), |mut m, p| {
                *m.entry(
                    p["metadata"]["ownerReferences"][0]["kind"]
                        .as_str()
                        .unwrap_or_default(),
                )
                .or_default() += 1;
                m
            });
        assert!(owners["ReplicaSet"] > 200, "{owners:?}");
        for kind in ["StatefulSet", "DaemonSet", "Job"] {
            assert!(owners.contains_key(kind), "{owners:?}");
        }
    }
}
