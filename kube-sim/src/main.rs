//! The `kube-sim` binary: starts one simulator from the command line, writes
//! a kubeconfig for it and serves until Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use kube_sim::Simulator;

/// Kubernetes API simulator: serves pods (from fixture files and/or generated),
/// with their nodes, namespaces, ReplicaSets and Deployments, over the real
/// Kubernetes REST wire format on a loopback address.
#[derive(Debug, Parser)]
#[command(
    name = "kube-sim",
    version,
    about,
    after_help = "Example:\n  cargo run -p kube-sim -- --fixtures tests/fixtures --generated 1000 \\\n      --listen 127.0.0.1:0 --kubeconfig /tmp/sim.kubeconfig --context sim\n\nThen e.g. `KUBECONFIG=/tmp/sim.kubeconfig kubectl get pods -A`, or point the gateway at that\nkubeconfig. Serves /version, /api, /apis discovery; pods, nodes, namespaces, services,\nevents (v1), deployments, replicasets, statefulsets, daemonsets (apps/v1) and jobs,\ncronjobs (batch/v1): list (labelSelector, fieldSelector, limit/continue),\nget, and watch (resourceVersion, bookmarks, sendInitialEvents, 410 Gone).\n\nGET /_sim/counters returns the requests served so far by kind, as JSON:\n{\"counters\": {\"list pods\": 2, \"watch pods\": 1, ...}, \"total\": 3} (itself not counted;\nneeds the bearer token when --token is set).\n\nPOST /_sim/churn?rate=N changes N pods per second from then on (0 stops), as --churn N\ndoes from the start; GET /_sim/churn returns {\"rate\": N}.\n\nContainer logs: GET /api/v1/namespaces/NS/pods/POD/log with container, previous, tailLines,\nsinceSeconds, sinceTime, timestamps, limitBytes and follow. POST /_sim/logs/NS/POD/CONTAINER\nappends the body's lines, POST .../end ends that log (its follows end), POST /_sim/logs/drop\ndrops every open follow's connection, GET /_sim/logs returns {\"openFollows\": N}. Runs until Ctrl-C."
)]
struct Cli {
    /// Fixture directory to serve; repeatable. A directory named after a kind's plural
    /// (e.g. `deployments`) holds that kind, one holding such directories (e.g.
    /// `tests/fixtures`) holds every kind, any other holds pod JSON files (one per file).
    #[arg(long = "fixtures", value_name = "DIR")]
    fixtures: Vec<PathBuf>,

    /// Number of synthetic pods to generate (Deployment-owned, mixed states).
    #[arg(long, value_name = "N", default_value_t = 0)]
    generated: usize,

    /// Number of namespaces the generated pods are spread over.
    #[arg(long, value_name = "K", default_value_t = 4)]
    namespaces: usize,

    /// Number of worker nodes the generated pods are scheduled on.
    #[arg(long, value_name = "M", default_value_t = 3)]
    nodes: usize,

    /// Seed for the generated pods (same seed, same pods).
    #[arg(long, value_name = "SEED", default_value_t = 42)]
    seed: u64,

    /// Address to listen on; only loopback addresses are accepted (port 0 picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:6443")]
    listen: SocketAddr,

    /// Write a kubeconfig for this simulator to this file.
    #[arg(long, value_name = "PATH")]
    kubeconfig: Option<PathBuf>,

    /// Name of the cluster, user and context in the written kubeconfig.
    #[arg(long, value_name = "NAME", default_value = "kube-sim")]
    context: String,

    /// Require `Authorization: Bearer <TOKEN>` on every request (put in the kubeconfig).
    #[arg(long, value_name = "TOKEN")]
    token: Option<String>,

    /// Serve HTTPS with a freshly generated CA (its data goes into the kubeconfig).
    #[arg(long)]
    tls: bool,

    /// Number of watch events kept for resuming watches; older resourceVersions get 410 Gone.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    history_limit: usize,

    /// Milliseconds between BOOKMARK events on watches that allow bookmarks.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    bookmark_interval_ms: u64,

    /// Change N pods per second (spread evenly, a batch every 10 ms): flip a container's
    /// readiness and bump its restart count, now and then replace a pod under a new name
    /// with the same controller. 0 (the default) changes nothing; see POST /_sim/churn.
    #[arg(long, value_name = "N", default_value_t = 0)]
    churn: u32,

    /// Lines each container's log starts with (one a second from the container's start);
    /// see POST /_sim/logs/NS/POD/CONTAINER to add more.
    #[arg(long, value_name = "N", default_value_t = 50)]
    log_lines: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    if !cli.listen.ip().is_loopback() {
        anyhow::bail!(
            "--listen must be a loopback address (127.0.0.0/8 or ::1), got {}",
            cli.listen
        );
    }
    let mut builder = Simulator::builder()
        .generated_pods(cli.generated)
        .namespaces(cli.namespaces)
        .nodes(cli.nodes)
        .seed(cli.seed)
        .listen(cli.listen)
        .bearer_token(cli.token.as_deref())
        .tls(cli.tls)
        .history_limit(cli.history_limit)
        .bookmark_interval(Duration::from_millis(cli.bookmark_interval_ms))
        .log_lines(cli.log_lines);
    for dir in &cli.fixtures {
        builder = builder.fixtures_dir(dir);
    }
    let sim = builder.build_and_start().await?;
    sim.churn(cli.churn);
    println!(
        "kube-sim serving {} pods at {}",
        sim.pods().len(),
        sim.url()
    );
    if let Some(path) = &cli.kubeconfig {
        Simulator::write_kubeconfig(path, &[(cli.context.as_str(), &sim)])
            .with_context(|| format!("writing kubeconfig {}", path.display()))?;
        println!(
            "kubeconfig written to {} (context {:?})",
            path.display(),
            cli.context
        );
    }
    println!("press Ctrl-C to stop");
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    sim.shutdown().await;
    Ok(())
}
