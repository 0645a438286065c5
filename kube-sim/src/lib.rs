//! Kubernetes API simulator: a small HTTP(S) server on 127.0.0.1 that speaks
//! the real Kubernetes REST wire format well enough for an unmodified kube-rs
//! client (`Api::list/get/watch`, `kube::runtime::watcher`/`reflector`).
//!
//! It serves pods (from JSON fixture captures and/or generated), and the
//! Nodes, Namespaces, ReplicaSets and Deployments a cluster would have around
//! them, as well as StatefulSets, DaemonSets (`apps/v1`), Jobs, CronJobs
//! (`batch/v1`), Services and Events (core `v1`) — every kind of
//! [`ResourceKind`], with discovery (`/api/v1`, `/apis`, `/apis/<group>/v1`)
//! listing each; lists with label/field selectors and `limit`/`continue` paging; watch
//! streams with resourceVersion resumption, bookmarks, streaming lists and 410
//! Gone; optional bearer-token auth and HTTPS; injectable faults (on requests,
//! and on open watch streams: closed, dropped mid-body, or ended by an ERROR
//! event); and request counters by verb and resource (also served read-only
//! as JSON at [`COUNTERS_PATH`], `GET /_sim/counters`, for clients of the
//! binary); and pod churn ([`Simulator::churn`], or `POST /_sim/churn?rate=N`
//! at [`CHURN_PATH`], or the binary's `--churn N`): a background task that
//! changes N pods per second, spread evenly (a batch every 10 ms), by
//! flipping a container's readiness (a container that stops being ready has
//! restarted, so its restart count goes up) and now and then replacing a pod
//! (deleted, then back under a new generated name with the same controller),
//! all seen by watchers as ordinary watch events; and container logs
//! (`.../pods/{name}/log` with every option of `kubectl logs`, follows
//! included, and [`LOGS_PATH`] to append lines, end and drop streams). This file owns the public handle: [`Simulator`] and its
//! [`SimulatorBuilder`].
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let sim = kube_sim::Simulator::builder()
//!     .generated_pods(100)
//!     .bearer_token(Some("secret"))
//!     .build_and_start()
//!     .await?;
//! println!("{}", sim.kubeconfig_yaml("sim"));
//! # Ok(()) }
//! ```

mod api;
mod churn;
mod cluster;
mod control;
mod fixtures;
mod generate;
mod kubeconfig;
mod logs;
mod model;
mod selectors;
mod server;
mod store;
mod synth;
mod tls;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use cluster::TERMINATING_NAMESPACE;
pub use cluster::generate_cluster;
pub use control::{Counters, Fault, FaultRule};
pub use fixtures::{
    Fixture, KindFixture, RENAMED_FROM_ANNOTATION, load_fixture_dir, load_fixtures,
};
pub use generate::{GenerateOptions, generate_pods};
pub use model::ResourceKind;
pub use synth::KUBERNETES_VERSION;

pub use logs::LOGS_PATH;
pub use server::{CHURN_PATH, COUNTERS_PATH};
use server::{Shared, WatchCut, lock};
use store::Store;

/// Configures and starts a [`Simulator`]. Get one from [`Simulator::builder`].
#[derive(Debug, Clone)]
pub struct SimulatorBuilder {
    fixture_dirs: Vec<PathBuf>,
    pods: Vec<Value>,
    objects: Vec<(ResourceKind, Value)>,
    generate: GenerateOptions,
    token: Option<String>,
    tls: bool,
    history_limit: usize,
    bookmark_interval: Duration,
    listen: SocketAddr,
    log_lines: usize,
}

impl Default for SimulatorBuilder {
    fn default() -> Self {
        Self {
            fixture_dirs: Vec::new(),
            pods: Vec::new(),
            objects: Vec::new(),
            generate: GenerateOptions::default(),
            token: None,
            tls: false,
            history_limit: 10_000,
            bookmark_interval: Duration::from_secs(1),
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            log_lines: 50,
        }
    }
}

impl SimulatorBuilder {
    /// Loads the fixtures in `dir` (see [`load_fixture_dir`]): a directory
    /// named after a kind's plural (`.../deployments`) as that kind, a
    /// directory of `<plural>/` subdirectories (`tests/fixtures`) as every
    /// kind, any other directory of `*.json` files as pods. Objects of other
    /// kinds are given explicitly, as [`Self::object`] gives them. May be
    /// called more than once.
    pub fn fixtures_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.fixture_dirs.push(dir.into());
        self
    }

    /// Adds one pod to the initial state.
    pub fn pod(mut self, pod: Value) -> Self {
        self.pods.push(pod);
        self
    }

    /// Adds pods to the initial state.
    pub fn pods(mut self, pods: impl IntoIterator<Item = Value>) -> Self {
        self.pods.extend(pods);
        self
    }

    /// Adds an explicit object of another kind (e.g. a Node), which then is
    /// not synthesized.
    pub fn object(mut self, kind: ResourceKind, object: Value) -> Self {
        self.objects.push((kind, object));
        self
    }

    /// Generates `n` synthetic pods (default 0) and the cluster around them
    /// (see [`generate_cluster`]): Deployments/ReplicaSets, StatefulSets,
    /// DaemonSets, CronJobs/Jobs owning them, every worker Node, Namespaces,
    /// Services and Events.
    pub fn generated_pods(mut self, n: usize) -> Self {
        self.generate.pods = n;
        self
    }

    /// Spreads generated pods over `k` namespaces (default 4).
    pub fn namespaces(mut self, k: usize) -> Self {
        self.generate.namespaces = k.max(1);
        self
    }

    /// Schedules generated pods on `m` worker nodes (default 3).
    pub fn nodes(mut self, m: usize) -> Self {
        self.generate.nodes = m.max(1);
        self
    }

    /// Seed for generated pods (default 42).
    pub fn seed(mut self, seed: u64) -> Self {
        self.generate.seed = seed;
        self
    }

    /// Requires `Authorization: Bearer <token>` on every request when `Some`.
    pub fn bearer_token(mut self, token: Option<&str>) -> Self {
        self.token = token.map(str::to_string);
        self
    }

    /// Serves HTTPS with a freshly made CA (put in the kubeconfig) when true.
    pub fn tls(mut self, tls: bool) -> Self {
        self.tls = tls;
        self
    }

    /// How many watch events to keep for resuming watches (default 10 000);
    /// older resourceVersions get 410 Gone.
    pub fn history_limit(mut self, n: usize) -> Self {
        self.history_limit = n.max(1);
        self
    }

    /// How often watches with `allowWatchBookmarks=true` get a BOOKMARK (default 1 s).
    pub fn bookmark_interval(mut self, every: Duration) -> Self {
        self.bookmark_interval = every.max(Duration::from_millis(10));
        self
    }

    /// Lines each container instance's log starts with (default 50), one a
    /// second from the instance's start; see [`LOGS_PATH`].
    pub fn log_lines(mut self, n: usize) -> Self {
        self.log_lines = n;
        self
    }

    /// Address to listen on (default 127.0.0.1:0). Must be a loopback address.
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// Loads the content, binds the listener and starts serving in the background.
    pub async fn build_and_start(self) -> anyhow::Result<Simulator> {
        anyhow::ensure!(
            self.listen.ip().is_loopback(),
            "refusing to listen on non-loopback address {}",
            self.listen
        );
        let mut pods = Vec::new();
        let mut fixture_objects = Vec::new();
        for dir in &self.fixture_dirs {
            for f in load_fixture_dir(dir)? {
                if f.kind == ResourceKind::Pod {
                    pods.push(f.object);
                } else {
                    fixture_objects.push((f.kind, f.object));
                }
            }
        }
        pods.extend(self.pods);
        let (generated, mut objects) = generate_cluster(&self.generate);
        pods.extend(generated);
        // Objects given explicitly (fixtures, then `object`) win over
        // generated ones of the same name.
        objects.extend(fixture_objects);
        objects.extend(self.objects);
        let store = Store::new(self.history_limit, 65_536);
        store.load_initial(pods, objects);

        let listener = tokio::net::TcpListener::bind(self.listen)
            .await
            .with_context(|| format!("binding {}", self.listen))?;
        let addr = listener.local_addr().context("local address")?;
        let tls = if self.tls {
            Some(tls::make_tls()?)
        } else {
            None
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let (watch_cuts, _) = watch::channel(WatchCut::None);
        let shared = Arc::new(Shared {
            store,
            token: self.token.clone(),
            faults: Mutex::new(Vec::new()),
            counters: Mutex::new(BTreeMap::new()),
            bookmark_interval: self.bookmark_interval,
            watch_cuts,
            server_address: addr.to_string(),
            churn: watch::channel(0).0,
            logs: logs::Logs::new(self.log_lines),
        });
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let acceptor = tls.as_ref().map(|t| t.acceptor.clone());
        let task = tokio::spawn(server::serve(
            listener,
            shared.clone(),
            acceptor,
            shutdown_rx,
        ));
        let churn_task = tokio::spawn(churn::run(
            shared.clone(),
            shared.churn.subscribe(),
            shutdown_tx.subscribe(),
        ));
        tracing::info!(%addr, scheme, "kube-sim listening");
        Ok(Simulator {
            shared,
            addr,
            url: format!("{scheme}://{addr}"),
            ca_pem: tls.map(|t| t.ca_pem),
            token: self.token,
            shutdown_tx,
            task,
            churn_task,
        })
    }
}

/// A running simulator. Dropping it stops the server (in-flight connections
/// and watch streams are closed).
pub struct Simulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    url: String,
    ca_pem: Option<String>,
    token: Option<String>,
    shutdown_tx: watch::Sender<bool>,
    task: JoinHandle<()>,
    churn_task: JoinHandle<()>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// A builder with defaults: no pods, HTTP, no auth, 127.0.0.1:0.
    pub fn builder() -> SimulatorBuilder {
        SimulatorBuilder::default()
    }

    /// The base URL, e.g. `http://127.0.0.1:PORT` (or `https://...`).
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The bound socket address.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// The CA certificate (PEM) clients must trust, when serving HTTPS.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// The bearer token required, if any.
    pub fn bearer_token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    fn endpoint(&self) -> kubeconfig::Endpoint<'_> {
        kubeconfig::Endpoint {
            url: &self.url,
            token: self.token.as_deref(),
            ca_pem: self.ca_pem.as_deref(),
        }
    }

    /// A kubeconfig with one cluster, user and context named `context`
    /// (token and CA data included when configured), set as current-context.
    pub fn kubeconfig_yaml(&self, context: &str) -> String {
        kubeconfig::render(&[(context, self.endpoint())])
    }

    /// Writes one kubeconfig with a context per named simulator; the first is
    /// the current-context.
    pub fn write_kubeconfig(path: &Path, sims: &[(&str, &Simulator)]) -> std::io::Result<()> {
        let entries: Vec<_> = sims
            .iter()
            .map(|(name, sim)| (*name, sim.endpoint()))
            .collect();
        std::fs::write(path, kubeconfig::render(&entries))
    }

    /// Creates or replaces a pod (namespace defaults to `default`; uid and
    /// creationTimestamp are kept or filled in), emitting ADDED or MODIFIED and
    /// creating its Namespace/Node/ReplicaSet/Deployment if missing. Returns the
    /// pod's new resourceVersion.
    pub fn upsert_pod(&self, pod: Value) -> u64 {
        self.shared.store.upsert(ResourceKind::Pod, pod)
    }

    /// Deletes a pod, emitting DELETED. False if it did not exist.
    pub fn delete_pod(&self, namespace: &str, name: &str) -> bool {
        self.shared.store.delete(ResourceKind::Pod, namespace, name)
    }

    /// One pod as stored.
    pub fn pod(&self, namespace: &str, name: &str) -> Option<Value> {
        self.shared.store.get(ResourceKind::Pod, namespace, name)
    }

    /// All pods, in namespace/name order.
    pub fn pods(&self) -> Vec<Value> {
        self.shared.store.all(ResourceKind::Pod)
    }

    /// Creates or replaces an object of any kind (pods as [`Self::upsert_pod`]).
    pub fn upsert(&self, kind: ResourceKind, object: Value) -> u64 {
        self.shared.store.upsert(kind, object)
    }

    /// Deletes an object of any kind (`namespace` is ignored for cluster-scoped kinds).
    pub fn delete(&self, kind: ResourceKind, namespace: &str, name: &str) -> bool {
        self.shared.store.delete(kind, namespace, name)
    }

    /// All objects of a kind, in namespace/name order.
    pub fn objects(&self, kind: ResourceKind) -> Vec<Value> {
        self.shared.store.all(kind)
    }

    /// The current global resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.shared.store.resource_version()
    }

    /// Forgets the watch history: watches from any older resourceVersion (and
    /// older continue tokens) now get 410 Gone.
    pub fn compact_history(&self) {
        self.shared.store.compact();
    }

    /// Closes every open watch stream (clients see a normal end of stream and
    /// re-watch).
    pub fn close_watches(&self) {
        self.shared.watch_cuts.send_replace(WatchCut::Close);
    }

    /// Drops the connection of every open watch stream mid-body, without the
    /// chunked body's last chunk, as a broken link or a restarting load
    /// balancer does: clients see the connection end and re-watch.
    pub fn drop_watch_connections(&self) {
        self.shared.watch_cuts.send_replace(WatchCut::Drop);
    }

    /// Ends every open watch stream with an ERROR event whose `Status` has
    /// this code, as the API server does mid-watch: 410 is its `too old
    /// resource version` (the client must list again), 500 an internal error
    /// (the client may resume from its resourceVersion).
    pub fn fail_watches(&self, code: u16) {
        self.shared.watch_cuts.send_replace(WatchCut::Error(code));
    }

    /// Replaces all fault rules by `fault` on every path (`Fault::None` clears).
    pub fn set_fault(&self, fault: Fault) {
        let mut rules = lock(&self.shared.faults);
        rules.clear();
        if fault != Fault::None {
            rules.push(FaultRule::new(fault));
        }
    }

    /// Adds a fault rule (path-scoped and/or limited to a number of requests);
    /// the first matching rule applies.
    pub fn add_fault(&self, rule: FaultRule) {
        lock(&self.shared.faults).push(rule);
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Request counts so far (see [`Counters`] for the names).
    pub fn counters(&self) -> Counters {
        Counters(lock(&self.shared.counters).clone())
    }

    /// Zeroes the request counters.
    pub fn reset_counters(&self) {
        lock(&self.shared.counters).clear();
    }

    /// Changes `per_second` pods per second from now on, spread evenly over
    /// each second (a batch every 10 ms); 0 stops. Most changes flip one
    /// container's readiness (a container that stops being ready restarted:
    /// its restart count goes up) and keep the pod's `Ready` condition in
    /// step; one change in 50 replaces a pod instead (DELETED, then ADDED
    /// under a new generated name with the same controller). Watchers see
    /// these as ordinary watch events. Also `POST /_sim/churn?rate=N`.
    pub fn churn(&self, per_second: u32) {
        self.shared.churn.send_replace(per_second);
    }

    /// The churn rate in pods per second (0: none).
    pub fn churn_rate(&self) -> u32 {
        *self.shared.churn.borrow()
    }

    /// Appends lines to the log of a container's current instance (followers
    /// get them at once); false when there is no such pod or container.
    /// Also `POST /_sim/logs/{ns}/{pod}/{container}`.
    pub fn append_log(&self, namespace: &str, pod: &str, container: &str, lines: &[&str]) -> bool {
        self.shared
            .logs
            .append(&self.shared, namespace, pod, container, lines)
    }

    /// Ends the log of a container's current instance: its follows end as
    /// when the container stops. Also `POST /_sim/logs/{ns}/{pod}/{container}/end`.
    pub fn end_log(&self, namespace: &str, pod: &str, container: &str) -> bool {
        self.shared
            .logs
            .end(&self.shared, namespace, pod, container)
    }

    /// Drops the connection of every open log follow mid-body, as a broken
    /// link does. Also `POST /_sim/logs/drop`.
    pub fn drop_log_streams(&self) {
        self.shared.logs.drop_streams();
    }

    /// Log follows open now. Also `GET /_sim/logs`.
    pub fn open_log_follows(&self) -> usize {
        self.shared.logs.open_follows()
    }

    /// Stops the server and waits for the accept loop to end.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown_tx.send(true);
        let _ = (&mut self.task).await;
        let _ = (&mut self.churn_task).await;
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.shutdown_tx.send(true);
        self.task.abort();
        self.churn_task.abort();
    }
}
