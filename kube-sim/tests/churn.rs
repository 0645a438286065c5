//! Pod churn seen through an unmodified kube-rs watch over real HTTP on
//! 127.0.0.1: the control endpoint starts it, the rate holds, 0 stops it.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, WatchEvent, WatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube_sim::{CHURN_PATH, Simulator};
use serde_json::Value;

async fn client_for(sim: &Simulator) -> kube::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let kubeconfig = Kubeconfig::from_yaml(&sim.kubeconfig_yaml("sim")).expect("kubeconfig parses");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("config from kubeconfig");
    kube::Client::try_from(config).expect("client")
}

async fn post_rate(sim: &Simulator, rate: u32) -> Value {
    let resp = reqwest::Client::new()
        .post(format!("{}{CHURN_PATH}?rate={rate}", sim.url()))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 200);
    resp.json().await.expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn churn_at_200_a_second_is_seen_by_a_watcher_and_0_stops_it() {
    let sim = Simulator::builder()
        .generated_pods(300)
        .build_and_start()
        .await
        .expect("simulator starts");
    let client = client_for(&sim).await;
    let pods: Api<Pod> = Api::all(client);
    let rv = sim.resource_version().to_string();
    let mut stream = pods
        .watch(&WatchParams::default().timeout(60).disable_bookmarks(), &rv)
        .await
        .expect("watch")
        .boxed();

    // Nothing changes before churn is asked for.
    let quiet = tokio::time::timeout(Duration::from_millis(300), stream.next()).await;
    assert!(quiet.is_err(), "no churn yet, but got {quiet:?}");

    assert_eq!(post_rate(&sim, 200).await["rate"], 200);
    assert_eq!(sim.churn_rate(), 200);
    let start = Instant::now();
    let (mut added, mut modified, mut deleted) = (0, 0, 0);
    loop {
        let left = Duration::from_secs(1).saturating_sub(start.elapsed());
        if left.is_zero() {
            break;
        }
        match tokio::time::timeout(left, stream.next()).await {
            Err(_) => break,
            Ok(Some(Ok(WatchEvent::Added(_)))) => added += 1,
            Ok(Some(Ok(WatchEvent::Modified(_)))) => modified += 1,
            Ok(Some(Ok(WatchEvent::Deleted(_)))) => deleted += 1,
            Ok(Some(Ok(other))) => panic!("unexpected watch event {other:?}"),
            Ok(Some(Err(e))) => panic!("watch failed: {e}"),
            Ok(None) => panic!("watch ended"),
        }
    }
    let total = added + modified + deleted;
    assert!(
        (150..=250).contains(&total),
        "{total} pod events in one second at rate 200 \
         ({added} added, {modified} modified, {deleted} deleted)"
    );
    assert!(modified > 100, "mostly readiness flips: {modified}");
    assert!(
        deleted >= 1 && added >= 1,
        "some pods are replaced: {added} added, {deleted} deleted"
    );

    // Rate 0 stops it: after the last batch drains, nothing more comes.
    sim.churn(0);
    assert_eq!(
        reqwest::get(format!("{}{CHURN_PATH}", sim.url()))
            .await
            .expect("get")
            .json::<Value>()
            .await
            .expect("json")["rate"],
        0
    );
    let drain_until = Instant::now() + Duration::from_millis(100);
    while let Ok(Some(_)) = tokio::time::timeout(
        drain_until.saturating_duration_since(Instant::now()),
        stream.next(),
    )
    .await
    {}
    let after = tokio::time::timeout(Duration::from_millis(500), stream.next()).await;
    assert!(after.is_err(), "churn stopped, but got {after:?}");
    // The pod count is unchanged: replacements delete one and add one.
    assert_eq!(sim.pods().len(), 300);
}

#[tokio::test]
async fn the_churn_endpoint_rejects_a_rate_that_is_not_a_number() {
    let sim = Simulator::builder()
        .build_and_start()
        .await
        .expect("simulator starts");
    let resp = reqwest::Client::new()
        .post(format!("{}{CHURN_PATH}?rate=fast", sim.url()))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(sim.churn_rate(), 0);
    let resp = reqwest::Client::new()
        .post(format!("{}{CHURN_PATH}?rate=5", sim.url()))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(sim.churn_rate(), 5);
    assert_eq!(
        sim.counters().total(),
        0,
        "control requests are not counted"
    );
}
