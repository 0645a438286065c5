//! The configured clusters: one kube-rs client each, built once at start-up.
//!
//! Clusters come from kubeconfig contexts (each context is a cluster named after
//! it) plus, when the gateway runs in a pod, its own cluster through the service
//! account. A context that cannot be turned into a client is logged and left
//! out; the gateway never fails to start because of one cluster.

use std::{
    collections::BTreeMap,
    future::Future,
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};

use kube::{
    Client,
    config::{KubeConfigOptions, Kubeconfig},
};

use super::cache::ClusterCache;
use crate::{
    config::{CacheMode, Config},
    error::{AppError, TIMED_OUT},
    metrics::{Metrics, UpstreamOutcome},
};

/// How the watch cache of a cluster is used.
#[derive(Debug, Clone, Copy)]
pub struct CacheSettings {
    /// When it starts.
    pub mode: CacheMode,
    /// Bound on serving it while its watch keeps failing.
    pub stale_after: Duration,
}

impl CacheSettings {
    fn from_config(config: &Config) -> Self {
        CacheSettings {
            mode: config.pod_cache,
            stale_after: config.cache_stale_after,
        }
    }
}

/// How long a reachability probe is reused.
pub const PROBE_TTL: Duration = Duration::from_secs(2);

/// Longer than a watch request stays open, so quiet watches are not cut off.
const WATCH_READ_TIMEOUT: Duration =
    Duration::from_secs(super::cache::WATCH_TIMEOUT_SECS as u64 + 30);

/// One cluster the gateway reads from.
pub struct Cluster {
    /// The name clients use (the kubeconfig context's name).
    pub name: String,
    /// The API server's URL.
    pub server: String,
    client: Client,
    watch_client: Client,
    timeout: Duration,
    settings: CacheSettings,
    cache: OnceLock<ClusterCache>,
    /// The last reachability probe, kept for [`PROBE_TTL`].
    probe: moka::future::Cache<(), bool>,
    /// Where calls are counted; attached once by [`ClusterRegistry::observe`].
    metrics: OnceLock<Metrics>,
    /// The cached pods, sorted per order (for `podConnection`).
    pub(crate) sorted: super::order::SortedPods,
}

impl Cluster {
    /// A cluster reached through `config`, with connect and read timeouts.
    pub fn new(
        name: impl Into<String>,
        mut config: kube::Config,
        timeout: Duration,
        settings: CacheSettings,
    ) -> Result<Self, kube::Error> {
        config.connect_timeout = Some(timeout);
        config.write_timeout = Some(timeout);
        // kube retries 429/503/504 up to 15 times with growing pauses; a gateway
        // must answer ClusterUnavailable promptly instead, and let the client retry.
        config.default_retry = false;
        let server = config.cluster_url.to_string();
        let mut watch_config = config.clone();
        watch_config.read_timeout = Some(WATCH_READ_TIMEOUT);
        config.read_timeout = Some(timeout);
        let client = Client::try_from(config)?;
        let watch_client = Client::try_from(watch_config)?;
        Ok(Cluster {
            name: name.into(),
            server: server.trim_end_matches('/').to_owned(),
            client,
            watch_client,
            timeout,
            settings,
            cache: OnceLock::new(),
            probe: moka::future::Cache::builder()
                .max_capacity(1)
                .time_to_live(PROBE_TTL)
                .build(),
            metrics: OnceLock::new(),
            sorted: Default::default(),
        })
    }

    /// The watch cache, started now if the mode allows and it is not running
    /// yet; `None` when caching is off.
    pub fn cache(&self) -> Option<&ClusterCache> {
        if self.settings.mode == CacheMode::Off {
            return None;
        }
        Some(self.cache.get_or_init(|| {
            tracing::info!(cluster = %self.name, "starting the watch cache");
            ClusterCache::start(
                &self.name,
                self.watch_client.clone(),
                self.settings.stale_after,
            )
        }))
    }

    /// The watch cache if it is running (never starts it).
    pub fn running_cache(&self) -> Option<&ClusterCache> {
        self.cache.get()
    }

    /// The bound on one call to the cluster.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The cluster's client (cheap to clone).
    pub fn client(&self) -> Client {
        self.client.clone()
    }

    /// The client for requests that stay open (watches, log follows): its
    /// read timeout is longer than a quiet stream waits for its next byte.
    pub fn stream_client(&self) -> Client {
        self.watch_client.clone()
    }

    /// Runs one call towards the cluster under the cluster's timeout, turning
    /// every failure into an error that names the cluster. Every call is counted
    /// in the metrics by cluster and outcome.
    pub async fn call<T>(
        &self,
        call: impl Future<Output = Result<T, kube::Error>>,
    ) -> Result<T, AppError> {
        let started = Instant::now();
        let (outcome, result) =
            match tokio::time::timeout(self.timeout + Duration::from_secs(1), call).await {
                Ok(Ok(value)) => (UpstreamOutcome::Ok, Ok(value)),
                Ok(Err(err)) => {
                    let err = AppError::from_kube(&self.name, &err);
                    let outcome = match &err {
                        AppError::ClusterUnavailable {
                            reason: TIMED_OUT, ..
                        } => UpstreamOutcome::Timeout,
                        _ => UpstreamOutcome::Error,
                    };
                    (outcome, Err(err))
                }
                Err(_) => (
                    UpstreamOutcome::Timeout,
                    Err(AppError::ClusterUnavailable {
                        cluster: self.name.clone(),
                        reason: TIMED_OUT,
                    }),
                ),
            };
        if let Some(metrics) = self.metrics.get() {
            metrics.upstream_call(&self.name, outcome, started.elapsed());
        }
        result
    }

    /// Whether the API server answers its version endpoint in time. A probe
    /// is reused for [`PROBE_TTL`], and concurrent askers wait for one probe,
    /// so asking often costs the cluster little.
    pub async fn reachable(&self) -> bool {
        self.probe
            .get_with((), async {
                self.call(self.client.apiserver_version()).await.is_ok()
            })
            .await
    }
}

/// Every configured cluster, by name.
#[derive(Default)]
pub struct ClusterRegistry {
    clusters: BTreeMap<String, Arc<Cluster>>,
}

impl ClusterRegistry {
    /// Clusters from the given list.
    pub fn new(clusters: impl IntoIterator<Item = Cluster>) -> Self {
        ClusterRegistry {
            clusters: clusters
                .into_iter()
                .map(|c| (c.name.clone(), Arc::new(c)))
                .collect(),
        }
    }

    /// Clusters from the configured kubeconfig files and, in a pod, the
    /// in-cluster service account. Problems are logged, never fatal.
    pub async fn from_config(config: &Config) -> Self {
        let settings = CacheSettings::from_config(config);
        let mut clusters = Vec::new();
        if let Some(kubeconfig) = read_kubeconfigs(config) {
            for context in &kubeconfig.contexts {
                let options = KubeConfigOptions {
                    context: Some(context.name.clone()),
                    ..Default::default()
                };
                let built = kube::Config::from_custom_kubeconfig(kubeconfig.clone(), &options)
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|c| {
                        Cluster::new(&context.name, c, config.cluster_timeout, settings)
                            .map_err(|e| e.to_string())
                    });
                match built {
                    Ok(cluster) => clusters.push(cluster),
                    Err(err) => {
                        tracing::warn!(context = %context.name, "leaving out cluster: {err}")
                    }
                }
            }
        }
        if config.in_a_pod {
            let name = &config.in_cluster_name;
            match kube::Config::incluster()
                .map_err(|e| e.to_string())
                .and_then(|c| {
                    Cluster::new(name, c, config.cluster_timeout, settings)
                        .map_err(|e| e.to_string())
                }) {
                Ok(cluster) => clusters.push(cluster),
                Err(err) => {
                    tracing::warn!(cluster = %name, "leaving out the in-cluster configuration: {err}")
                }
            }
        }
        if clusters.is_empty() {
            tracing::info!(
                "no clusters configured: give a kubeconfig with OSP_KUBECONFIG or KUBECONFIG"
            );
        }
        for cluster in &clusters {
            tracing::info!(cluster = %cluster.name, server = %cluster.server, "cluster configured");
            if settings.mode == CacheMode::On {
                cluster.cache();
            }
        }
        Self::new(clusters)
    }

    /// The cluster of that name.
    pub fn get(&self, name: &str) -> Result<Arc<Cluster>, AppError> {
        self.clusters
            .get(name)
            .cloned()
            .ok_or_else(|| AppError::ClusterNotFound(name.to_owned()))
    }

    /// Counts every later call to these clusters in `metrics`. Only the first
    /// call has an effect: a cluster belongs to one gateway.
    pub fn observe(&self, metrics: &Metrics) {
        for cluster in self.clusters.values() {
            let _ = cluster.metrics.set(metrics.clone());
        }
    }

    /// Every cluster, ordered by name.
    pub fn all(&self) -> impl Iterator<Item = &Arc<Cluster>> {
        self.clusters.values()
    }
}

fn read_kubeconfigs(config: &Config) -> Option<Kubeconfig> {
    let mut merged: Option<Kubeconfig> = None;
    for path in &config.kubeconfig_paths {
        if !path.exists() {
            tracing::debug!(path = %path.display(), "no kubeconfig here");
            continue;
        }
        match Kubeconfig::read_from(path) {
            Ok(next) => {
                merged = match merged {
                    None => Some(next),
                    Some(current) => match current.clone().merge(next) {
                        Ok(both) => Some(both),
                        Err(err) => {
                            tracing::warn!(path = %path.display(), "cannot merge kubeconfig: {err}");
                            Some(current)
                        }
                    },
                };
            }
            Err(err) => tracing::warn!(path = %path.display(), "cannot read kubeconfig: {err}"),
        }
    }
    merged
}
