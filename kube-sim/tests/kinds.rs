//! Every kind besides pods, over real HTTP on 127.0.0.1, with a plain HTTP
//! client and with an unmodified kube-rs client: discovery, list with
//! selectors and paging, get, watch (bookmarks, resume, 410 Gone) and the
//! `kube::runtime::watcher`.

use std::fmt::Debug;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Event, Namespace, Node, Service};
use k8s_openapi::serde::de::DeserializeOwned;
use kube::Resource;
use kube::api::{Api, ListParams, WatchEvent, WatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube_sim::{ResourceKind, Simulator};
use serde_json::{Value, json};

async fn client_for(sim: &Simulator) -> kube::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let kubeconfig = Kubeconfig::from_yaml(&sim.kubeconfig_yaml("sim")).expect("kubeconfig parses");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("config from kubeconfig");
    kube::Client::try_from(config).expect("client")
}

async fn get_json(sim: &Simulator, path: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .get(format!("{}{path}", sim.url()))
        .send()
        .await
        .expect("request");
    let code = resp.status().as_u16();
    (code, resp.json().await.expect("json body"))
}

fn template(app: &str) -> Value {
    json!({
        "metadata": {"labels": {"app": app}},
        "spec": {"containers": [{"name": app, "image": format!("example.com/{app}:1")}]}
    })
}

/// Two objects of `kind` in namespace `shop` (named `<singular>-a`, `<singular>-b`),
/// labelled `tier=<a|b>`.
fn sample(kind: ResourceKind, suffix: &str) -> Value {
    let name = format!("{}-{suffix}", kind.singular());
    let mut obj = json!({
        "metadata": {"name": name, "namespace": "shop", "labels": {"tier": suffix}}
    });
    let app = format!("app-{suffix}");
    let selector = json!({"matchLabels": {"app": app}});
    match kind {
        ResourceKind::StatefulSet => {
            obj["spec"] = json!({"serviceName": name, "replicas": 1, "selector": selector, "template": template(&app)});
            obj["status"] = json!({"replicas": 1, "readyReplicas": 1, "availableReplicas": 1, "currentReplicas": 1, "updatedReplicas": 1});
        }
        ResourceKind::DaemonSet => {
            obj["spec"] = json!({"selector": selector, "template": template(&app)});
            obj["status"] = json!({"currentNumberScheduled": 2, "desiredNumberScheduled": 2, "numberMisscheduled": 0, "numberReady": 2});
        }
        ResourceKind::Deployment | ResourceKind::ReplicaSet => {
            obj["spec"] = json!({"replicas": 1, "selector": selector, "template": template(&app)});
        }
        ResourceKind::Job => {
            let mut t = template(&app);
            t["spec"]["restartPolicy"] = json!("Never");
            obj["spec"] = json!({"template": t});
            obj["status"] = json!({"active": 1, "startTime": "2025-06-01T00:00:00Z"});
        }
        ResourceKind::CronJob => {
            let mut t = template(&app);
            t["spec"]["restartPolicy"] = json!("OnFailure");
            obj["spec"] =
                json!({"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": t}}});
        }
        ResourceKind::Service => {
            obj["spec"] = json!({"type": "ClusterIP", "clusterIP": "10.96.0.10", "selector": {"app": app},
                "ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}]});
        }
        ResourceKind::Event => {
            obj["involvedObject"] = json!({"kind": "Pod", "namespace": "shop", "name": format!("pod-{suffix}"),
                "uid": format!("uid-{suffix}"), "apiVersion": "v1"});
            obj["reason"] = json!(if suffix == "a" { "Pulled" } else { "BackOff" });
            obj["type"] = json!(if suffix == "a" { "Normal" } else { "Warning" });
            obj["message"] = json!("something happened");
            obj["source"] = json!({"component": "kubelet", "host": "n1"});
            obj["count"] = json!(1);
        }
        ResourceKind::Node | ResourceKind::Namespace => {
            obj["metadata"]
                .as_object_mut()
                .expect("metadata")
                .remove("namespace");
        }
        ResourceKind::Pod => {}
    }
    obj
}

const NEW_KINDS: [ResourceKind; 6] = [
    ResourceKind::StatefulSet,
    ResourceKind::DaemonSet,
    ResourceKind::Job,
    ResourceKind::CronJob,
    ResourceKind::Service,
    ResourceKind::Event,
];

async fn sim_with_samples() -> Simulator {
    let mut builder = Simulator::builder().bookmark_interval(Duration::from_millis(100));
    for kind in NEW_KINDS {
        for suffix in ["a", "b"] {
            builder = builder.object(kind, sample(kind, suffix));
        }
    }
    builder.build_and_start().await.expect("start")
}

#[tokio::test]
async fn discovery_lists_every_served_resource() {
    let sim = Simulator::builder().build_and_start().await.expect("start");
    let names = |doc: &Value| -> Vec<String> {
        doc["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .map(|r| r["name"].as_str().expect("name").to_string())
            .collect()
    };
    let (_, core) = get_json(&sim, "/api/v1").await;
    assert_eq!(
        names(&core),
        ["events", "namespaces", "nodes", "pods", "services"]
    );
    let (_, apps) = get_json(&sim, "/apis/apps/v1").await;
    assert_eq!(
        names(&apps),
        ["daemonsets", "deployments", "replicasets", "statefulsets"]
    );
    let (_, batch) = get_json(&sim, "/apis/batch/v1").await;
    assert_eq!(batch["groupVersion"], "batch/v1");
    assert_eq!(names(&batch), ["cronjobs", "jobs"]);
    let (_, groups) = get_json(&sim, "/apis").await;
    let group_names: Vec<_> = groups["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| g["name"].clone())
        .collect();
    assert_eq!(group_names, [json!("apps"), json!("batch")]);
    let (code, group) = get_json(&sim, "/apis/batch").await;
    assert_eq!(code, 200);
    assert_eq!(group["preferredVersion"]["groupVersion"], "batch/v1");
    let event = core["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["name"] == "events")
        .expect("events");
    assert_eq!(event["kind"], "Event");
    assert_eq!(event["namespaced"], true);
    assert_eq!(event["shortNames"], json!(["ev"]));

    // kube's own discovery finds them all.
    let client = client_for(&sim).await;
    let discovery = kube::discovery::Discovery::new(client)
        .run()
        .await
        .expect("discovery");
    for kind in ResourceKind::ALL {
        let gvk = kube::api::GroupVersionKind::gvk(kind.group(), "v1", kind.kind());
        let (resource, caps) = discovery.resolve_gvk(&gvk).expect("kind discovered");
        assert_eq!(resource.plural, kind.plural());
        assert_eq!(
            caps.scope == kube::discovery::Scope::Namespaced,
            kind.namespaced()
        );
    }
    // An unknown group is 404, as is a kind under the wrong group.
    assert_eq!(get_json(&sim, "/apis/extensions/v1beta1").await.0, 404);
    assert_eq!(get_json(&sim, "/apis/batch/v1/deployments").await.0, 404);
    assert_eq!(get_json(&sim, "/api/v1/jobs").await.0, 404);
}

/// List, get, selectors, paging, watch and a watcher over one kind, through kube-rs.
async fn exercise<K>(sim: &Simulator, client: &kube::Client, kind: ResourceKind)
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Debug
        + Send
        + Sync
        + 'static,
{
    let what = kind.kind();
    let all: Api<K> = Api::all(client.clone());
    let list = all.list(&ListParams::default()).await.expect(what);
    let names: Vec<_> = list
        .items
        .iter()
        .map(|o| o.meta().name.clone().expect("name"))
        .collect();
    let a = format!("{}-a", kind.singular());
    let b = format!("{}-b", kind.singular());
    assert_eq!(names, [a.clone(), b.clone()], "{what}");
    let rv = list.metadata.resource_version.clone().expect("list rv");

    let api: Api<K> = Api::namespaced(client.clone(), "shop");
    let got = api.get(&a).await.expect(what);
    assert_eq!(got.meta().namespace.as_deref(), Some("shop"));
    assert!(got.meta().uid.is_some(), "{what} has a uid");
    match api.get(&format!("{a}-missing")).await {
        Err(kube::Error::Api(s)) => assert_eq!(s.code, 404, "{what}"),
        other => panic!("{what}: {other:?}"),
    }
    let other_ns: Api<K> = Api::namespaced(client.clone(), "elsewhere");
    assert!(
        other_ns
            .list(&ListParams::default())
            .await
            .expect(what)
            .items
            .is_empty()
    );

    // Selectors and paging.
    let by_label = api
        .list(&ListParams::default().labels("tier=b"))
        .await
        .expect(what);
    assert_eq!(by_label.items.len(), 1, "{what}");
    assert_eq!(by_label.items[0].meta().name.as_deref(), Some(b.as_str()));
    let by_field = all
        .list(&ListParams::default().fields(&format!("metadata.name={a},metadata.namespace=shop")))
        .await
        .expect(what);
    assert_eq!(by_field.items.len(), 1, "{what}");
    let page = all.list(&ListParams::default().limit(1)).await.expect(what);
    assert_eq!(page.items.len(), 1);
    let token = page.metadata.continue_.clone().expect("continue token");
    let rest = all
        .list(&ListParams::default().limit(1).continue_token(&token))
        .await
        .expect(what);
    assert_eq!(rest.items[0].meta().name.as_deref(), Some(b.as_str()));
    assert!(rest.metadata.continue_.is_none());

    // Watch from the list's version: a change, a bookmark, a deletion.
    let mut changed = sample(kind, "a");
    changed["metadata"]["labels"]["changed"] = json!("yes");
    sim.upsert(kind, changed);
    sim.upsert(kind, sample(kind, "c"));
    assert!(sim.delete(kind, "shop", &format!("{}-c", kind.singular())));
    let stream = api
        .watch(
            &WatchParams {
                bookmarks: true,
                ..WatchParams::default()
            }
            .timeout(2),
            &rv,
        )
        .await
        .expect(what);
    futures_util::pin_mut!(stream);
    let mut seen = Vec::new();
    let mut bookmark = false;
    while let Some(ev) = stream.next().await {
        match ev.expect(what) {
            WatchEvent::Added(o) => seen.push(format!(
                "ADDED {}",
                o.meta().name.clone().unwrap_or_default()
            )),
            WatchEvent::Modified(o) => {
                assert_eq!(
                    o.meta()
                        .labels
                        .as_ref()
                        .and_then(|l| l.get("changed"))
                        .map(String::as_str),
                    Some("yes")
                );
                seen.push(format!(
                    "MODIFIED {}",
                    o.meta().name.clone().unwrap_or_default()
                ));
            }
            WatchEvent::Deleted(o) => seen.push(format!(
                "DELETED {}",
                o.meta().name.clone().unwrap_or_default()
            )),
            WatchEvent::Bookmark(_) => bookmark = true,
            WatchEvent::Error(e) => panic!("{what}: {e:?}"),
        }
    }
    let c = format!("{}-c", kind.singular());
    assert_eq!(
        seen,
        [
            format!("MODIFIED {a}"),
            format!("ADDED {c}"),
            format!("DELETED {c}")
        ],
        "{what}"
    );
    assert!(bookmark, "{what}: bookmarks sent");

    // A watcher with a reflector converges and follows changes.
    let (reader, writer) = reflector::store::<K>();
    let stream = reflector(writer, watcher(api.clone(), watcher::Config::default()))
        .default_backoff()
        .applied_objects();
    let task = tokio::spawn(async move {
        futures_util::pin_mut!(stream);
        while stream.next().await.is_some() {}
    });
    tokio::time::timeout(Duration::from_secs(20), reader.wait_until_ready())
        .await
        .expect("synced in time")
        .expect("ready");
    assert_eq!(reader.state().len(), 2, "{what}");
    sim.upsert(kind, sample(kind, "d"));
    let d = format!("{}-d", kind.singular());
    let deadline = Instant::now() + Duration::from_secs(10);
    while !reader
        .state()
        .iter()
        .any(|o| o.meta().name.as_deref() == Some(d.as_str()))
    {
        assert!(Instant::now() < deadline, "{what}: watcher saw the upsert");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    task.abort();
    let _ = sim.delete(kind, "shop", &d);

    // History compacted past a version: 410 Gone.
    sim.compact_history();
    let stream = api
        .watch(&WatchParams::default().timeout(1), &rv)
        .await
        .expect(what);
    futures_util::pin_mut!(stream);
    match stream.next().await {
        Some(Ok(WatchEvent::Error(e))) => assert_eq!(e.code, 410, "{what}"),
        other => panic!("{what}: expected 410, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_new_kind_is_listed_got_and_watched_through_kube() {
    let sim = sim_with_samples().await;
    let client = client_for(&sim).await;
    exercise::<StatefulSet>(&sim, &client, ResourceKind::StatefulSet).await;
    exercise::<DaemonSet>(&sim, &client, ResourceKind::DaemonSet).await;
    exercise::<Job>(&sim, &client, ResourceKind::Job).await;
    exercise::<CronJob>(&sim, &client, ResourceKind::CronJob).await;
    exercise::<Service>(&sim, &client, ResourceKind::Service).await;
    exercise::<Event>(&sim, &client, ResourceKind::Event).await;
    let counters = sim.counters();
    for name in [
        "list statefulsets",
        "get daemonset",
        "watch jobs",
        "list cronjobs",
        "get service",
        "watch events",
    ] {
        assert!(counters.get(name) > 0, "{name}: {counters}");
    }
}

#[tokio::test]
async fn events_are_selected_by_involved_object_type_and_reason() {
    let sim = sim_with_samples().await;
    let count = |q: &str| {
        let sim = &sim;
        let q = q.to_string();
        async move {
            let (code, list) = get_json(sim, &format!("/api/v1/events?fieldSelector={q}")).await;
            assert_eq!(code, 200, "{q}: {list}");
            assert_eq!(list["kind"], "EventList");
            list["items"].as_array().expect("items").len()
        }
    };
    assert_eq!(count("involvedObject.kind%3DPod").await, 2);
    assert_eq!(count("involvedObject.name%3Dpod-a").await, 1);
    assert_eq!(
        count("involvedObject.namespace%3Dshop,involvedObject.uid%3Duid-b").await,
        1
    );
    assert_eq!(count("type%3DWarning").await, 1);
    assert_eq!(count("reason%3DPulled,type%3DNormal").await, 1);
    assert_eq!(count("reason%21%3DPulled").await, 1);
    assert_eq!(count("involvedObject.kind%3DNode").await, 0);
    let (code, status) = get_json(&sim, "/api/v1/pods?fieldSelector=reason%3DPulled").await;
    assert_eq!(code, 400);
    assert_eq!(status["kind"], "Status");

    let client = client_for(&sim).await;
    let events: Api<Event> = Api::namespaced(client, "shop");
    let warnings = events
        .list(&ListParams::default().fields("type=Warning,involvedObject.kind=Pod"))
        .await
        .expect("events");
    assert_eq!(warnings.items.len(), 1);
    assert_eq!(warnings.items[0].reason.as_deref(), Some("BackOff"));
}

#[tokio::test]
async fn other_kinds_keep_working_next_to_the_new_ones() {
    let sim = Simulator::builder()
        .object(ResourceKind::Node, sample(ResourceKind::Node, "a"))
        .object(
            ResourceKind::Namespace,
            sample(ResourceKind::Namespace, "a"),
        )
        .object(
            ResourceKind::Deployment,
            sample(ResourceKind::Deployment, "a"),
        )
        .object(
            ResourceKind::ReplicaSet,
            sample(ResourceKind::ReplicaSet, "a"),
        )
        .build_and_start()
        .await
        .expect("start");
    let client = client_for(&sim).await;
    Api::<Node>::all(client.clone())
        .get("node-a")
        .await
        .expect("node");
    Api::<Namespace>::all(client.clone())
        .get("namespace-a")
        .await
        .expect("namespace");
    Api::<Deployment>::namespaced(client.clone(), "shop")
        .get("deployment-a")
        .await
        .expect("deployment");
    Api::<ReplicaSet>::namespaced(client, "shop")
        .get("replicaset-a")
        .await
        .expect("replicaset");
}
