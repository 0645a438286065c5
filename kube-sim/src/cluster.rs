//! What a generated cluster has around its generated pods: every worker Node
//! (one cordoned, one tainted, one with an extra role, external addresses),
//! every Namespace (plus a Terminating one), the CronJobs and Jobs of Job
//! pods, Services selecting the pods (one of each type), and Events for pods,
//! workloads and nodes, in both the older (`firstTimestamp`, `count`) and the
//! newer (`eventTime`, `series`) shape. ReplicaSets, Deployments,
//! StatefulSets and DaemonSets are synthesized by the store from the pods'
//! owner references.

use serde_json::{Value, json};

use crate::generate::{
    GenerateOptions, Group, Workload, generate_groups, namespace_name, node_ip, node_name, ts,
};
use crate::model::{ResourceKind, fnv64, stable_uid, str_at};
use crate::synth;

/// Name of the Namespace a generated cluster is deleting.
pub const TERMINATING_NAMESPACE: &str = "decommissioned";

/// Event timestamps: `ts` for the old fields, micro-time for `eventTime`.
fn micro(secs: i64) -> String {
    let t = ts(secs);
    format!("{}.000000Z", t.trim_end_matches('Z'))
}

/// Generates `opts.pods` pods (exactly [`crate::generate_pods`]'s) and the
/// objects around them: Nodes, Namespaces, CronJobs and Jobs, Services and
/// Events (ReplicaSets, Deployments, StatefulSets and DaemonSets are
/// synthesized from the pods when they are served). Nothing when
/// `opts.pods` is 0.
pub fn generate_cluster(opts: &GenerateOptions) -> (Vec<Value>, Vec<(ResourceKind, Value)>) {
    if opts.pods == 0 {
        return (Vec::new(), Vec::new());
    }
    let (pods, groups) = generate_groups(opts);
    let objects = surroundings(
        opts.nodes.max(1),
        opts.namespaces.max(1),
        opts.seed,
        &pods,
        &groups,
    );
    (pods, objects)
}

/// The objects around the generated `pods` (see the module doc).
fn surroundings(
    nodes: usize,
    namespaces: usize,
    seed: u64,
    pods: &[Value],
    groups: &[Group],
) -> Vec<(ResourceKind, Value)> {
    let mut out = Vec::new();
    let mut events = Events {
        seed,
        out: Vec::new(),
    };
    for i in 0..nodes {
        out.push((ResourceKind::Node, worker_node(i, nodes, &mut events)));
    }
    for i in 0..namespaces {
        let mut ns = synth::namespace(&namespace_name(i));
        ns["metadata"]["creationTimestamp"] = json!(ts(-86_400));
        out.push((ResourceKind::Namespace, ns));
    }
    let mut gone = synth::namespace(TERMINATING_NAMESPACE);
    gone["metadata"]["creationTimestamp"] = json!(ts(-86_400));
    gone["metadata"]["deletionTimestamp"] = json!(ts(30 * 86_400));
    gone["spec"] = json!({"finalizers": ["kubernetes"]});
    gone["status"] = json!({"phase": "Terminating", "conditions": [
        {"type": "NamespaceDeletionDiscoveryFailure", "status": "False", "reason": "ResourcesDiscovered",
         "message": "All resources successfully discovered", "lastTransitionTime": ts(30 * 86_400)},
        {"type": "NamespaceContentRemaining", "status": "True", "reason": "SomeResourcesRemain",
         "message": "Some resources are remaining: persistentvolumeclaims. has 1 resource instances",
         "lastTransitionTime": ts(30 * 86_400)},
        {"type": "NamespaceFinalizersRemaining", "status": "True", "reason": "SomeFinalizersRemain",
         "message": "Some content in the namespace has finalizers remaining: kubernetes.io/pvc-protection in 1 resource instances",
         "lastTransitionTime": ts(30 * 86_400)}
    ]});
    out.push((ResourceKind::Namespace, gone));

    let mut services = Services::default();
    out.push((ResourceKind::Service, services.kubernetes()));
    if !groups.is_empty() {
        out.push((
            ResourceKind::Service,
            services.external_name(&namespace_name(0)),
        ));
    }
    let mut cronjobs = 0usize;
    for g in groups {
        let members: Vec<&Value> = pods[g.pods.clone()].iter().collect();
        match g.workload {
            Workload::Deployment => {
                out.push((ResourceKind::Service, services.for_group(g, false)));
                if g.index.is_multiple_of(16) {
                    events.deployment(g, &members);
                }
            }
            Workload::StatefulSet => {
                out.push((ResourceKind::Service, services.for_group(g, true)));
                if g.index.is_multiple_of(2) {
                    events.controller(g, "StatefulSet", "statefulset-controller", &members);
                }
            }
            Workload::DaemonSet => {
                if g.index.is_multiple_of(2) {
                    events.controller(g, "DaemonSet", "daemonset-controller", &members);
                }
            }
            Workload::CronJob => {
                out.extend(cron(g, &members, cronjobs, seed, &mut events));
                cronjobs += 1;
            }
        }
        for pod in &members {
            events.pod(pod);
        }
    }
    out.extend(events.out.into_iter().map(|e| (ResourceKind::Event, e)));
    out
}

/// A worker Node: `sim-worker-000` also has the `infra` role and an
/// ExternalIP; the second of three or more carries a `PreferNoSchedule`
/// taint; the last of two or more is cordoned (`SchedulingDisabled`).
fn worker_node(i: usize, nodes: usize, events: &mut Events) -> Value {
    let name = node_name(i);
    let mut node = synth::node(&name, Some(&node_ip(i)));
    let created = ts(-86_400 * 2);
    node["metadata"]["creationTimestamp"] = json!(created);
    for c in node["status"]["conditions"]
        .as_array_mut()
        .into_iter()
        .flatten()
    {
        c["lastTransitionTime"] = json!(created);
        c["lastHeartbeatTime"] = json!(ts(30 * 86_400));
    }
    if i.is_multiple_of(2)
        && let Some(addresses) = node["status"]["addresses"].as_array_mut()
    {
        addresses.insert(
            1,
            json!({"type": "ExternalIP", "address": format!("203.0.113.{}", 10 + i % 240)}),
        );
    }
    if i == 0 {
        node["metadata"]["labels"]["node-role.kubernetes.io/infra"] = json!("");
    }
    if i == 1 && nodes >= 3 {
        node["spec"]["taints"] =
            json!([{"key": "dedicated", "value": "batch", "effect": "PreferNoSchedule"}]);
    }
    if i + 1 == nodes && nodes >= 2 {
        node["spec"]["unschedulable"] = json!(true);
        node["spec"]["taints"] = json!([{"key": "node.kubernetes.io/unschedulable",
            "effect": "NoSchedule", "timeAdded": ts(29 * 86_400)}]);
        // The kubelet puts the node's name where its uid belongs.
        let involved = json!({"kind": "Node", "name": name, "uid": name, "apiVersion": "v1"});
        events.push(
            "default",
            involved,
            Kind::Normal,
            "NodeNotSchedulable",
            &format!("Node {name} status is now: NodeNotSchedulable"),
            Source::Old {
                component: "kubelet",
                host: Some(&name),
                first: 29 * 86_400,
                last: 29 * 86_400,
                count: 1,
            },
        );
    }
    node
}

#[derive(Default)]
struct Services {
    count: usize,
    /// Services made for groups that are not headless, to take turns in types.
    turns: usize,
    node_ports: usize,
}

impl Services {
    fn cluster_ip(&mut self) -> String {
        self.count += 1;
        let c = self.count + 10;
        format!("10.{}.{}.{}", 96 + c / 62_500, (c / 250) % 250, c % 250 + 2)
    }

    fn node_port(&mut self) -> u64 {
        self.node_ports += 1;
        30_000 + ((80 + self.node_ports - 1) % 2_768) as u64
    }

    /// `default/kubernetes`: ClusterIP, no selector.
    fn kubernetes(&mut self) -> Value {
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kubernetes", "namespace": "default",
                "uid": stable_uid("service/default/kubernetes"),
                "creationTimestamp": ts(-86_400 * 2),
                "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"],
                "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
                "sessionAffinity": "None", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                "internalTrafficPolicy": "Cluster"},
            "status": {"loadBalancer": {}}
        })
    }

    /// `<first namespace>/external-db`: ExternalName.
    fn external_name(&mut self, ns: &str) -> Value {
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "external-db", "namespace": ns,
                "uid": stable_uid(&format!("service/{ns}/external-db")),
                "creationTimestamp": ts(-86_400)},
            "spec": {"type": "ExternalName", "externalName": "db.example.com", "sessionAffinity": "None"},
            "status": {"loadBalancer": {}}
        })
    }

    /// The Service named after a group's app, selecting `app=<app>`:
    /// headless for StatefulSets, otherwise in turn ClusterIP, NodePort,
    /// LoadBalancer with an ingress, ClusterIP, LoadBalancer pending, ClusterIP.
    fn for_group(&mut self, g: &Group, headless: bool) -> Value {
        let turn = self.turns;
        let mut spec = json!({
            "selector": {"app": g.app},
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}],
            "sessionAffinity": "None", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
            "internalTrafficPolicy": "Cluster", "type": "ClusterIP"
        });
        let mut status = json!({"loadBalancer": {}});
        if headless {
            self.count += 1;
            spec["clusterIP"] = json!("None");
            spec["clusterIPs"] = json!(["None"]);
            spec["publishNotReadyAddresses"] = json!(true);
        } else {
            self.turns += 1;
            let ip = self.cluster_ip();
            spec["clusterIP"] = json!(ip);
            spec["clusterIPs"] = json!([ip]);
            match turn % 6 {
                1 => {
                    spec["type"] = json!("NodePort");
                    spec["ports"][0]["nodePort"] = json!(self.node_port());
                    spec["externalTrafficPolicy"] = json!("Cluster");
                }
                2 | 4 => {
                    spec["type"] = json!("LoadBalancer");
                    spec["ports"][0]["nodePort"] = json!(self.node_port());
                    let https = json!({"name": "https", "port": 443, "protocol": "TCP",
                        "targetPort": "http", "nodePort": self.node_port()});
                    if let Some(ports) = spec["ports"].as_array_mut() {
                        ports.push(https);
                    }
                    spec["externalTrafficPolicy"] = json!("Cluster");
                    spec["allocateLoadBalancerNodePorts"] = json!(true);
                    if turn % 6 == 2 {
                        status = json!({"loadBalancer": {"ingress": [
                            {"ip": format!("198.51.100.{}", 1 + turn % 250), "ipMode": "VIP"}
                        ]}});
                    }
                }
                _ => {}
            }
        }
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": g.app, "namespace": g.ns,
                "uid": stable_uid(&format!("service/{}/{}", g.ns, g.app)),
                "creationTimestamp": ts(g.created),
                "labels": {"app": g.app, "app.kubernetes.io/name": g.app}},
            "spec": spec,
            "status": status
        })
    }
}

/// The CronJob of a CronJob group, the Job owning its pods, and two earlier
/// completed Jobs (the first CronJob also has a failed one).
fn cron(
    g: &Group,
    pods: &[&Value],
    nth: usize,
    seed: u64,
    events: &mut Events,
) -> Vec<(ResourceKind, Value)> {
    let with_failed = nth == 0;
    let cron_uid = stable_uid(&format!("cronjob/{}/{}/{seed}", g.ns, g.app));
    let cron_ref = json!({"apiVersion": "batch/v1", "kind": "CronJob", "name": g.app,
        "uid": cron_uid, "controller": true, "blockOwnerDeletion": true});
    let job_ref = json!({"name": g.rs, "uid": g.owner_uid});
    let mut current = synth::job(&g.ns, &job_ref, pods);
    current["metadata"]["ownerReferences"] = json!([cron_ref]);
    let running = current["status"]["completionTime"].is_null();
    let mut jobs = Vec::new();
    let mut history = vec![(3, true), (2, true)];
    if with_failed {
        history.push((1, false));
    }
    for (hours_before, complete) in history {
        let start = g.created - hours_before * 3_600;
        let name = format!("{}-{}", g.app, (1_748_736_000 + start) / 60);
        let uid = stable_uid(&format!("job/{}/{name}/{seed}", g.ns));
        let mut job = current.clone();
        job["metadata"]["name"] = json!(name);
        job["metadata"]["uid"] = json!(uid);
        job["metadata"]["creationTimestamp"] = json!(ts(start));
        job["metadata"]["labels"]["job-name"] = json!(name);
        job["metadata"]["labels"]["batch.kubernetes.io/job-name"] = json!(name);
        job["spec"]["selector"] =
            json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}});
        let end = start + if complete { 95 } else { 410 };
        let cond = |t: &str, reason: &str, message: &str| {
            json!({"type": t, "status": "True", "reason": reason, "message": message,
                "lastProbeTime": ts(end), "lastTransitionTime": ts(end)})
        };
        job["status"] = if complete {
            json!({"startTime": ts(start), "completionTime": ts(end), "succeeded": 1, "ready": 0,
                "terminating": 0, "uncountedTerminatedPods": {},
                "conditions": [cond("SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods"),
                               cond("Complete", "CompletionsReached", "Reached expected number of succeeded pods")]})
        } else {
            json!({"startTime": ts(start), "failed": 7, "ready": 0, "terminating": 0,
                "uncountedTerminatedPods": {},
                "conditions": [cond("FailureTarget", "BackoffLimitExceeded", "Job has reached the specified backoff limit"),
                               cond("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit")]})
        };
        let involved = involved(&job, "Job", "batch/v1");
        if !with_failed {
            // Only the first CronJob's history tells its story, to keep
            // the number of Events near one for five pods.
        } else if complete {
            events.push(
                &g.ns,
                involved,
                Kind::Normal,
                "Completed",
                "Job completed",
                Source::old("job-controller", end, end, 1),
            );
        } else {
            events.push(
                &g.ns,
                involved,
                Kind::Warning,
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit",
                Source::old("job-controller", end, end, 1),
            );
        }
        jobs.push(job);
    }
    let last_schedule = g.created;
    let mut cron = json!({
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": g.app, "namespace": g.ns, "uid": cron_uid, "generation": 1,
            "creationTimestamp": ts(g.created - 5 * 3_600),
            "labels": {"app": g.app}},
        "spec": {
            "schedule": "0 * * * *",
            "concurrencyPolicy": "Forbid",
            "suspend": false,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 1,
            "jobTemplate": {"metadata": {}, "spec": {
                "backoffLimit": 6,
                "template": current["spec"]["template"].clone()
            }}
        },
        "status": {
            "lastScheduleTime": ts(last_schedule),
            "lastSuccessfulTime": ts(g.created - 2 * 3_600 + 95)
        }
    });
    if let Some(labels) =
        cron["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"].as_object_mut()
    {
        labels.retain(|k, _| !k.contains("controller-uid") && !k.contains("job-name"));
    }
    if running {
        cron["status"]["active"] = json!([{"apiVersion": "batch/v1", "kind": "Job",
            "name": g.rs, "namespace": g.ns, "uid": g.owner_uid,
            "resourceVersion": "1"}]);
    } else {
        cron["status"]["lastSuccessfulTime"] = current["status"]["completionTime"].clone();
    }
    let cron_involved = involved(&cron, "CronJob", "batch/v1");
    let told = nth.is_multiple_of(2);
    if told {
        events.push(
            &g.ns,
            cron_involved.clone(),
            Kind::Normal,
            "SuccessfulCreate",
            &format!("Created job {}", g.rs),
            Source::old("cronjob-controller", g.created, g.created, 1),
        );
    }
    if with_failed {
        events.push(
            &g.ns,
            cron_involved,
            Kind::Normal,
            "SawCompletedJob",
            &format!(
                "Saw completed job: {}, condition: Complete",
                jobs[0]["metadata"]["name"].as_str().unwrap_or_default()
            ),
            Source::old(
                "cronjob-controller",
                g.created - 3 * 3_600 + 96,
                g.created - 3 * 3_600 + 96,
                1,
            ),
        );
    }
    if let Some(first) = pods.first().filter(|_| told) {
        events.push(
            &g.ns,
            involved(&current, "Job", "batch/v1"),
            Kind::Normal,
            "SuccessfulCreate",
            &format!(
                "Created pod: {}",
                first["metadata"]["name"].as_str().unwrap_or_default()
            ),
            Source::old("job-controller", g.created + 1, g.created + 1, 1),
        );
    }
    let mut out = vec![(ResourceKind::CronJob, cron), (ResourceKind::Job, current)];
    out.extend(jobs.into_iter().map(|j| (ResourceKind::Job, j)));
    out
}

/// `involvedObject` for an object.
fn involved(obj: &Value, kind: &str, api_version: &str) -> Value {
    json!({"kind": kind, "namespace": obj["metadata"]["namespace"], "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"], "apiVersion": api_version})
}

#[derive(Clone, Copy)]
enum Kind {
    Normal,
    Warning,
}

/// Who wrote an event, in which shape.
enum Source<'a> {
    /// `source`, `firstTimestamp`, `lastTimestamp`, `count` (kubelet, most controllers).
    Old {
        component: &'a str,
        host: Option<&'a str>,
        first: i64,
        last: i64,
        count: u64,
    },
    /// `eventTime`, `reportingController`, an optional `series` (count, last
    /// time), no `count` or timestamps (the scheduler, newer controllers).
    New {
        controller: &'a str,
        action: &'a str,
        at: i64,
        series: Option<(u64, i64)>,
    },
}

impl<'a> Source<'a> {
    fn old(component: &'a str, first: i64, last: i64, count: u64) -> Self {
        Source::Old {
            component,
            host: None,
            first,
            last,
            count,
        }
    }
}

struct Events {
    seed: u64,
    out: Vec<Value>,
}

impl Events {
    fn push(
        &mut self,
        ns: &str,
        involved: Value,
        kind: Kind,
        reason: &str,
        message: &str,
        source: Source<'_>,
    ) {
        let target = involved["name"].as_str().unwrap_or_default();
        let h = fnv64(format!("{}/{ns}/{target}/{reason}/{message}", self.seed).as_bytes());
        let name = format!("{target}.{h:016x}");
        let uid = stable_uid(&format!("event/{ns}/{name}"));
        let mut ev = json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": ns, "uid": uid},
            "involvedObject": involved,
            "reason": reason,
            "message": message,
            "type": match kind { Kind::Normal => "Normal", Kind::Warning => "Warning" },
        });
        match source {
            Source::Old {
                component,
                host,
                first,
                last,
                count,
            } => {
                ev["metadata"]["creationTimestamp"] = json!(ts(first));
                ev["source"] = match host {
                    Some(h) => json!({"component": component, "host": h}),
                    None => json!({"component": component}),
                };
                ev["firstTimestamp"] = json!(ts(first));
                ev["lastTimestamp"] = json!(ts(last));
                ev["count"] = json!(count);
                ev["eventTime"] = Value::Null;
                ev["reportingComponent"] = json!(component);
                ev["reportingInstance"] = json!(host.unwrap_or_default());
            }
            Source::New {
                controller,
                action,
                at,
                series,
            } => {
                ev["metadata"]["creationTimestamp"] = json!(ts(at));
                ev["source"] = json!({});
                ev["firstTimestamp"] = Value::Null;
                ev["lastTimestamp"] = Value::Null;
                ev["eventTime"] = json!(micro(at));
                ev["action"] = json!(action);
                ev["reportingComponent"] = json!(controller);
                ev["reportingInstance"] = json!(format!("{controller}-sim-control-plane"));
                if let Some((count, last)) = series {
                    ev["series"] = json!({"count": count, "lastObservedTime": micro(last)});
                }
            }
        }
        self.out.push(ev);
    }

    /// ScalingReplicaSet on the Deployment, SuccessfulCreate on the ReplicaSet.
    fn deployment(&mut self, g: &Group, pods: &[&Value]) {
        let n = pods.len();
        let deploy = json!({"kind": "Deployment", "namespace": g.ns, "name": g.app,
            "uid": stable_uid(&format!("deployment/{}/{}", g.ns, g.app)), "apiVersion": "apps/v1"});
        self.push(
            &g.ns,
            deploy,
            Kind::Normal,
            "ScalingReplicaSet",
            &format!("Scaled up replica set {} from 0 to {n}", g.rs),
            Source::old("deployment-controller", g.created, g.created, 1),
        );
        let rs = json!({"kind": "ReplicaSet", "namespace": g.ns, "name": g.rs,
            "uid": g.owner_uid, "apiVersion": "apps/v1"});
        if let Some(first) = pods.first() {
            self.push(
                &g.ns,
                rs,
                Kind::Normal,
                "SuccessfulCreate",
                &format!(
                    "Created pod: {}",
                    first["metadata"]["name"].as_str().unwrap_or_default()
                ),
                Source::old("replicaset-controller", g.created, g.created, 1),
            );
        }
    }

    /// SuccessfulCreate on a StatefulSet or DaemonSet.
    fn controller(&mut self, g: &Group, kind: &str, component: &str, pods: &[&Value]) {
        let Some(first) = pods.first() else { return };
        let pod = first["metadata"]["name"].as_str().unwrap_or_default();
        let message = if kind == "StatefulSet" {
            format!("create Pod {pod} in StatefulSet {} successful", g.app)
        } else {
            format!("Created pod: {pod}")
        };
        let obj = json!({"kind": kind, "namespace": g.ns, "name": g.app,
            "uid": g.owner_uid, "apiVersion": "apps/v1"});
        self.push(
            &g.ns,
            obj,
            Kind::Normal,
            "SuccessfulCreate",
            &message,
            Source::old(component, g.created, g.created, pods.len() as u64),
        );
    }

    /// Events a pod in its state has: BackOff for crash loops, Unhealthy for
    /// failing readiness, FailedScheduling, image pull failures, Scheduled
    /// for containers being created, and the whole start-up sequence for one
    /// running pod in eighty.
    fn pod(&mut self, pod: &Value) {
        let ns = str_at(pod, "/metadata/namespace")
            .unwrap_or_default()
            .to_string();
        let name = str_at(pod, "/metadata/name")
            .unwrap_or_default()
            .to_string();
        let node = str_at(pod, "/spec/nodeName")
            .unwrap_or_default()
            .to_string();
        let container = str_at(pod, "/spec/containers/0/name")
            .unwrap_or_default()
            .to_string();
        let image = str_at(pod, "/spec/containers/0/image")
            .unwrap_or_default()
            .to_string();
        let created = chrono::DateTime::parse_from_rfc3339(
            str_at(pod, "/metadata/creationTimestamp").unwrap_or_default(),
        )
        .map_or(0, |t| t.timestamp() - 1_748_736_000);
        let waiting =
            str_at(pod, "/status/containerStatuses/0/state/waiting/reason").unwrap_or_default();
        let restarts = pod
            .pointer("/status/containerStatuses/0/restartCount")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let whole = json!({"kind": "Pod", "namespace": ns, "name": name,
            "uid": pod["metadata"]["uid"], "apiVersion": "v1"});
        let mut part = whole.clone();
        part["fieldPath"] = json!(format!("spec.containers{{{container}}}"));
        let kubelet = |first: i64, last: i64, count: u64| Source::Old {
            component: "kubelet",
            host: Some(node.as_str()),
            first,
            last,
            count,
        };
        let scheduled = |s: &mut Self| {
            s.push(
                &ns,
                whole.clone(),
                Kind::Normal,
                "Scheduled",
                &format!("Successfully assigned {ns}/{name} to {node}"),
                Source::New {
                    controller: "default-scheduler",
                    action: "Binding",
                    at: created,
                    series: None,
                },
            );
        };
        let unschedulable = pod
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "PodScheduled" && c["status"] == "False")
            });
        if unschedulable {
            let message = pod
                .pointer("/status/conditions/0/message")
                .and_then(Value::as_str)
                .unwrap_or("0/3 nodes are available")
                .to_string();
            self.push(
                &ns,
                whole,
                Kind::Warning,
                "FailedScheduling",
                &message,
                Source::New {
                    controller: "default-scheduler",
                    action: "Scheduling",
                    at: created,
                    series: Some((12, created + 3_000)),
                },
            );
            return;
        }
        match waiting {
            "CrashLoopBackOff" => {
                if fnv64(name.as_bytes()).is_multiple_of(4) {
                    self.push(
                        &ns,
                        part.clone(),
                        Kind::Normal,
                        "Pulled",
                        &format!("Container image \"{image}\" already present on machine"),
                        kubelet(created + 9, created + 600, restarts + 1),
                    );
                }
                self.push(
                    &ns,
                    part,
                    Kind::Warning,
                    "BackOff",
                    "Back-off restarting failed container",
                    kubelet(created + 60, created + 605, restarts * 4 + 1),
                );
            }
            "ImagePullBackOff" => {
                self.push(
                    &ns,
                    part,
                    Kind::Warning,
                    "Failed",
                    "Error: ImagePullBackOff",
                    kubelet(created + 5, created + 900, 37),
                );
            }
            "ContainerCreating" => scheduled(self),
            _ => {
                let ready = crate::model::pod_is_ready(pod);
                let running = str_at(pod, "/status/phase") == Some("Running");
                if running && !ready && waiting.is_empty() {
                    self.push(
                        &ns,
                        part,
                        Kind::Warning,
                        "Unhealthy",
                        "Readiness probe failed: HTTP probe failed with statuscode: 503",
                        kubelet(created + 30, created + 1_800, 181),
                    );
                } else if running && ready && fnv64(name.as_bytes()).is_multiple_of(80) {
                    scheduled(self);
                    self.push(
                        &ns,
                        part.clone(),
                        Kind::Normal,
                        "Pulled",
                        &format!("Container image \"{image}\" already present on machine"),
                        kubelet(created + 4, created + 4, 1),
                    );
                    self.push(
                        &ns,
                        part.clone(),
                        Kind::Normal,
                        "Created",
                        &format!("Created container {container}"),
                        kubelet(created + 5, created + 5, 1),
                    );
                    self.push(
                        &ns,
                        part,
                        Kind::Normal,
                        "Started",
                        &format!("Started container {container}"),
                        kubelet(created + 6, created + 6, 1),
                    );
                }
            }
        }
    }
}
