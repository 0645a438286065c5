//! Synthesis of the objects a real cluster would have around its pods:
//! Nodes for every `spec.nodeName`, ReplicaSets (and their Deployments) for
//! every ReplicaSet owner reference, StatefulSets, DaemonSets and Jobs for
//! those owner references, and Namespaces.

use serde_json::{Value, json};

use crate::model::{ResourceKind, fnv64, now_rfc3339, pod_is_ready, stable_uid, str_at};

/// The Kubernetes version the simulator claims to be (`/version`, kubelets).
pub const KUBERNETES_VERSION: &str = "v1.31.4";

/// A realistic Namespace object.
pub(crate) fn namespace(name: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "uid": stable_uid(&format!("namespace/{name}")),
            "creationTimestamp": now_rfc3339(),
            "labels": {"kubernetes.io/metadata.name": name}
        },
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"}
    })
}

/// A realistic Node object; `host_ip` is the InternalIP (taken from a pod's
/// `status.hostIP` when known, otherwise derived from the name).
pub(crate) fn node(name: &str, host_ip: Option<&str>) -> Value {
    let h = fnv64(name.as_bytes());
    let ip = host_ip.map(str::to_string).unwrap_or_else(|| {
        format!(
            "10.{}.{}.{}",
            (h >> 8) & 0xff,
            (h >> 16) & 0xff,
            2 + (h >> 24) % 250
        )
    });
    let control_plane = name.contains("master") || name.contains("control-plane");
    let mut labels = json!({
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "node.kubernetes.io/instance-type": if control_plane { "m5.xlarge" } else { "m5.2xlarge" },
        "topology.kubernetes.io/region": "sim-region-1",
        "topology.kubernetes.io/zone": format!("sim-region-1{}", ["a", "b", "c"][(h % 3) as usize]),
    });
    let mut taints = json!([]);
    if control_plane {
        labels["node-role.kubernetes.io/control-plane"] = json!("");
        labels["node-role.kubernetes.io/master"] = json!("");
        taints = json!([{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]);
    } else {
        labels["node-role.kubernetes.io/worker"] = json!("");
    }
    let (cpu, mem_ki) = if control_plane {
        ("4", 16_082_420u64)
    } else {
        ("8", 32_567_740u64)
    };
    let alloc_mem = mem_ki - 1_048_576;
    let now = now_rfc3339();
    let cond = |t: &str, status: &str, reason: &str, message: &str| {
        json!({
            "type": t, "status": status, "reason": reason, "message": message,
            "lastHeartbeatTime": now, "lastTransitionTime": now
        })
    };
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "uid": stable_uid(&format!("node/{name}")),
            "creationTimestamp": now,
            "labels": labels,
            "annotations": {
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true"
            }
        },
        "spec": {
            "podCIDR": format!("10.244.{}.0/24", h % 250),
            "podCIDRs": [format!("10.244.{}.0/24", h % 250)],
            "providerID": format!("sim://{name}"),
            "taints": taints
        },
        "status": {
            "capacity": {"cpu": cpu, "ephemeral-storage": "104845292Ki", "hugepages-2Mi": "0", "memory": format!("{mem_ki}Ki"), "pods": "110"},
            "allocatable": {"cpu": cpu, "ephemeral-storage": "96625420948", "hugepages-2Mi": "0", "memory": format!("{alloc_mem}Ki"), "pods": "110"},
            "conditions": [
                cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                cond("Ready", "True", "KubeletReady", "kubelet is posting ready status")
            ],
            "addresses": [
                {"type": "InternalIP", "address": ip},
                {"type": "Hostname", "address": name}
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": format!("{h:016x}{:016x}", h.rotate_left(17)),
                "systemUUID": stable_uid(&format!("system/{name}")),
                "bootID": stable_uid(&format!("boot/{name}")),
                "kernelVersion": "6.1.0-28-cloud-amd64",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "containerRuntimeVersion": "containerd://1.7.24",
                "kubeletVersion": KUBERNETES_VERSION,
                "kubeProxyVersion": KUBERNETES_VERSION,
                "operatingSystem": "linux",
                "architecture": "amd64"
            }
        }
    })
}

/// The Deployment name a ReplicaSet name implies: everything before the last `-`.
pub(crate) fn deployment_name_for(rs_name: &str) -> &str {
    rs_name.rsplit_once('-').map_or(rs_name, |(d, _)| d)
}

/// Labels of the pod template: the pod's labels (minus `pod-template-hash`
/// when `drop_hash`).
fn template_labels(pod: &Value, drop_hash: bool) -> Value {
    let mut labels = pod
        .pointer("/metadata/labels")
        .cloned()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    if drop_hash && let Some(map) = labels.as_object_mut() {
        map.remove("pod-template-hash");
    }
    labels
}

/// The pod template both synthesized owners carry: labels and containers.
fn template(pod: &Value, labels: &Value) -> Value {
    let containers: Vec<Value> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    json!({
                        "name": c.get("name").cloned().unwrap_or(Value::Null),
                        "image": c.get("image").cloned().unwrap_or(Value::Null),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    json!({"metadata": {"labels": labels}, "spec": {"containers": containers, "restartPolicy": "Always"}})
}

/// A ReplicaSet for a pod's ReplicaSet owner reference `owner`, owned by its
/// Deployment; `pods` are all pods it owns (for replica counts).
pub(crate) fn replicaset(namespace: &str, owner: &Value, pods: &[&Value]) -> Value {
    let name = str_at(owner, "/name").unwrap_or_default();
    let uid = str_at(owner, "/uid")
        .map(str::to_string)
        .unwrap_or_else(|| stable_uid(&format!("replicaset/{namespace}/{name}")));
    let deploy = deployment_name_for(name);
    let first = pods.first().copied().cloned().unwrap_or_else(|| json!({}));
    let labels = template_labels(&first, false);
    let replicas = pods.len();
    let ready = pods.iter().filter(|p| pod_is_ready(p)).count();
    let created = str_at(&first, "/metadata/creationTimestamp")
        .map(str::to_string)
        .unwrap_or_else(now_rfc3339);
    json!({
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": uid,
            "generation": 1,
            "creationTimestamp": created,
            "labels": labels,
            "annotations": {
                "deployment.kubernetes.io/desired-replicas": replicas.to_string(),
                "deployment.kubernetes.io/max-replicas": (replicas + replicas.div_ceil(4)).to_string(),
                "deployment.kubernetes.io/revision": "1"
            },
            "ownerReferences": [{
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": deploy,
                "uid": stable_uid(&format!("deployment/{namespace}/{deploy}")),
                "controller": true,
                "blockOwnerDeletion": true
            }]
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": template(&first, &labels)
        },
        "status": {
            "replicas": replicas,
            "fullyLabeledReplicas": replicas,
            "readyReplicas": ready,
            "availableReplicas": ready,
            "observedGeneration": 1
        }
    })
}

/// A Deployment named `name` in `namespace` whose pods are `pods`.
pub(crate) fn deployment(namespace: &str, name: &str, pods: &[&Value]) -> Value {
    let first = pods.first().copied().cloned().unwrap_or_else(|| json!({}));
    let labels = template_labels(&first, true);
    let replicas = pods.len();
    let ready = pods.iter().filter(|p| pod_is_ready(p)).count();
    let created = str_at(&first, "/metadata/creationTimestamp")
        .map(str::to_string)
        .unwrap_or_else(now_rfc3339);
    let available = if ready == replicas { "True" } else { "False" };
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": stable_uid(&format!("deployment/{namespace}/{name}")),
            "generation": 1,
            "creationTimestamp": created,
            "labels": labels,
            "annotations": {"deployment.kubernetes.io/revision": "1"}
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": template(&first, &labels),
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600
        },
        "status": {
            "observedGeneration": 1,
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": ready,
            "availableReplicas": ready,
            "unavailableReplicas": replicas - ready,
            "conditions": [
                {"type": "Available", "status": available,
                 "reason": if ready == replicas { "MinimumReplicasAvailable" } else { "MinimumReplicasUnavailable" },
                 "message": if ready == replicas { "Deployment has minimum availability." } else { "Deployment does not have minimum availability." },
                 "lastUpdateTime": created, "lastTransitionTime": created},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                 "message": format!("Deployment \"{name}\" has successfully progressed."),
                 "lastUpdateTime": created, "lastTransitionTime": created}
            ]
        }
    })
}

/// A pod's phase (`""` if absent).
fn phase(pod: &Value) -> &str {
    str_at(pod, "/status/phase").unwrap_or_default()
}

/// The template a synthesized controller carries: the pod's labels and containers.
fn controller_template(pod: &Value, restart_policy: &str) -> (Value, Value) {
    let mut labels = template_labels(pod, true);
    if let Some(map) = labels.as_object_mut() {
        for generated in [
            "controller-revision-hash",
            "statefulset.kubernetes.io/pod-name",
            "apps.kubernetes.io/pod-index",
            "pod-template-generation",
        ] {
            map.remove(generated);
        }
    }
    let mut t = template(pod, &labels);
    t["spec"]["restartPolicy"] = json!(restart_policy);
    (labels, t)
}

fn owner_meta(kind: &str, namespace: &str, owner: &Value, created: &str, labels: &Value) -> Value {
    let name = str_at(owner, "/name").unwrap_or_default();
    let uid = str_at(owner, "/uid")
        .map(str::to_string)
        .unwrap_or_else(|| stable_uid(&format!("{}/{namespace}/{name}", kind.to_lowercase())));
    json!({
        "name": name,
        "namespace": namespace,
        "uid": uid,
        "generation": 1,
        "creationTimestamp": created,
        "labels": labels
    })
}

fn first_created(pods: &[&Value]) -> String {
    pods.iter()
        .filter_map(|p| str_at(p, "/metadata/creationTimestamp"))
        .min()
        .map(str::to_string)
        .unwrap_or_else(now_rfc3339)
}

/// A StatefulSet for a pod's StatefulSet owner reference; `pods` are all it owns.
pub(crate) fn statefulset(namespace: &str, owner: &Value, pods: &[&Value]) -> Value {
    let first = pods.first().copied().cloned().unwrap_or_else(|| json!({}));
    let (labels, t) = controller_template(&first, "Always");
    let n = pods.len();
    let ready = pods.iter().filter(|p| pod_is_ready(p)).count();
    let name = str_at(owner, "/name").unwrap_or_default();
    let revision = format!("{name}-{:x}", fnv64(name.as_bytes()) % 0xff_ffff_ffff);
    json!({
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": owner_meta("StatefulSet", namespace, owner, &first_created(pods), &labels),
        "spec": {
            "replicas": n,
            "selector": {"matchLabels": labels},
            "serviceName": name,
            "template": t,
            "podManagementPolicy": "OrderedReady",
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
            "revisionHistoryLimit": 10,
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"}
        },
        "status": {
            "observedGeneration": 1,
            "replicas": n,
            "readyReplicas": ready,
            "currentReplicas": n,
            "updatedReplicas": n,
            "availableReplicas": ready,
            "currentRevision": revision,
            "updateRevision": revision,
            "collisionCount": 0
        }
    })
}

/// A DaemonSet for a pod's DaemonSet owner reference; `pods` are all it owns.
pub(crate) fn daemonset(namespace: &str, owner: &Value, pods: &[&Value]) -> Value {
    let first = pods.first().copied().cloned().unwrap_or_else(|| json!({}));
    let (labels, t) = controller_template(&first, "Always");
    let n = pods.len();
    let ready = pods.iter().filter(|p| pod_is_ready(p)).count();
    json!({
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": owner_meta("DaemonSet", namespace, owner, &first_created(pods), &labels),
        "spec": {
            "selector": {"matchLabels": labels},
            "template": t,
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
            "revisionHistoryLimit": 10
        },
        "status": {
            "currentNumberScheduled": n,
            "desiredNumberScheduled": n,
            "numberMisscheduled": 0,
            "numberReady": ready,
            "numberAvailable": ready,
            "numberUnavailable": n - ready,
            "updatedNumberScheduled": n,
            "observedGeneration": 1
        }
    })
}

/// A Job for a pod's Job owner reference; `pods` are all it owns. Complete
/// when every pod succeeded, Failed when one failed, otherwise running.
pub(crate) fn job(namespace: &str, owner: &Value, pods: &[&Value]) -> Value {
    let first = pods.first().copied().cloned().unwrap_or_else(|| json!({}));
    let restart = str_at(&first, "/spec/restartPolicy")
        .filter(|r| *r != "Always")
        .unwrap_or("Never");
    let (mut labels, t) = controller_template(&first, restart);
    let uid = str_at(owner, "/uid").unwrap_or_default().to_string();
    let name = str_at(owner, "/name").unwrap_or_default();
    if let Some(map) = labels.as_object_mut() {
        for key in [
            "controller-uid",
            "batch.kubernetes.io/controller-uid",
            "job-name",
            "batch.kubernetes.io/job-name",
        ] {
            map.remove(key);
        }
    }
    let n = pods.len();
    let succeeded = pods.iter().filter(|p| phase(p) == "Succeeded").count();
    let failed = pods.iter().filter(|p| phase(p) == "Failed").count();
    let active = n - succeeded - failed;
    let created = first_created(pods);
    let started = pods
        .iter()
        .filter_map(|p| str_at(p, "/status/startTime"))
        .min()
        .map_or_else(|| created.clone(), str::to_string);
    let mut meta = owner_meta("Job", namespace, owner, &created, &labels);
    meta["labels"]["batch.kubernetes.io/job-name"] = json!(name);
    meta["labels"]["job-name"] = json!(name);
    let mut status = json!({"startTime": started, "ready": 0, "terminating": 0,
        "uncountedTerminatedPods": {}});
    if active > 0 {
        status["active"] = json!(active);
    }
    if succeeded > 0 {
        status["succeeded"] = json!(succeeded);
    }
    if failed > 0 {
        status["failed"] = json!(failed);
    }
    let finished = pods
        .iter()
        .filter_map(|p| {
            p.pointer("/status/containerStatuses/0/state/terminated/finishedAt")
                .and_then(Value::as_str)
        })
        .max()
        .map_or_else(|| started.clone(), str::to_string);
    let cond = |t: &str, reason: &str, message: &str| {
        json!({"type": t, "status": "True", "reason": reason, "message": message,
            "lastProbeTime": finished, "lastTransitionTime": finished})
    };
    if failed > 0 && active == 0 {
        status["conditions"] = json!([
            cond(
                "FailureTarget",
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit"
            ),
            cond(
                "Failed",
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit"
            )
        ]);
    } else if n > 0 && succeeded == n {
        status["completionTime"] = json!(finished);
        status["conditions"] = json!([
            cond(
                "SuccessCriteriaMet",
                "CompletionsReached",
                "Reached expected number of succeeded pods"
            ),
            cond(
                "Complete",
                "CompletionsReached",
                "Reached expected number of succeeded pods"
            )
        ]);
    }
    let selector = json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}});
    let mut t = t;
    t["metadata"]["labels"]["batch.kubernetes.io/controller-uid"] = json!(uid);
    t["metadata"]["labels"]["batch.kubernetes.io/job-name"] = json!(name);
    t["metadata"]["labels"]["controller-uid"] = json!(uid);
    t["metadata"]["labels"]["job-name"] = json!(name);
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": meta,
        "spec": {
            "parallelism": n.max(1),
            "completions": n.max(1),
            "backoffLimit": 6,
            "completionMode": "NonIndexed",
            "suspend": false,
            "manualSelector": false,
            "podReplacementPolicy": "TerminatingOrFailed",
            "selector": selector,
            "template": t
        },
        "status": status
    })
}

/// Controller owner references (kind, reference) of a pod whose kind the
/// simulator synthesizes from the pods: StatefulSet, DaemonSet, Job.
pub(crate) fn controller_owners(pod: &Value) -> Vec<(ResourceKind, &Value)> {
    pod.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map(|refs| {
            refs.iter()
                .filter(|r| {
                    r.get("name")
                        .and_then(Value::as_str)
                        .is_some_and(|n| !n.is_empty())
                })
                .filter_map(|r| {
                    let kind = match r.get("kind").and_then(Value::as_str)? {
                        "StatefulSet" => ResourceKind::StatefulSet,
                        "DaemonSet" => ResourceKind::DaemonSet,
                        "Job" => ResourceKind::Job,
                        _ => return None,
                    };
                    Some((kind, r))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The object of `kind` (StatefulSet, DaemonSet or Job) for an owner reference.
pub(crate) fn controller(
    kind: ResourceKind,
    namespace: &str,
    owner: &Value,
    pods: &[&Value],
) -> Value {
    match kind {
        ResourceKind::StatefulSet => statefulset(namespace, owner, pods),
        ResourceKind::DaemonSet => daemonset(namespace, owner, pods),
        _ => job(namespace, owner, pods),
    }
}

/// The ReplicaSet owner references of a pod.
pub(crate) fn replicaset_owners(pod: &Value) -> Vec<&Value> {
    pod.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map(|refs| {
            refs.iter()
                .filter(|r| r.get("kind").and_then(Value::as_str) == Some("ReplicaSet"))
                .filter(|r| {
                    r.get("name")
                        .and_then(Value::as_str)
                        .is_some_and(|n| !n.is_empty())
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_name_strips_hash() {
        assert_eq!(deployment_name_for("nginx-7fb78fb6d8"), "nginx");
        assert_eq!(deployment_name_for("a-b-c"), "a-b");
        assert_eq!(deployment_name_for("plain"), "plain");
    }

    #[test]
    fn control_plane_nodes_are_labelled() {
        let n = node("master-0", None);
        assert!(
            n.pointer("/metadata/labels/node-role.kubernetes.io~1control-plane")
                .is_some()
        );
        let w = node("worker-1", Some("10.0.0.7"));
        assert!(
            w.pointer("/metadata/labels/node-role.kubernetes.io~1control-plane")
                .is_none()
        );
        assert_eq!(
            w.pointer("/status/addresses/0/address"),
            Some(&json!("10.0.0.7"))
        );
    }
}
