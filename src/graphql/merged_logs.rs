//! The `logs` subscription: like `stern`, one stream of the lines of every
//! container of every pod a label selector matches, in every cluster and
//! namespace the viewer may read. Pods that start matching (or start
//! running) join within the watch cache's delay; pods that go away leave
//! (their follow ends with the container). Each line says where it is from.
//!
//! The follows are [`crate::k8s::logs`]'s, shared with `podLogLines`; one
//! `logs` subscription counts one follow against the limits, and follows at
//! most `OSP_LOG_SELECTOR_PODS` pods (a selector matching more at the start
//! is refused; later joiners past it are not followed).

use std::{collections::HashSet, sync::Arc};

use async_graphql::{Context, SimpleObject, Subscription};
use futures_util::{
    StreamExt,
    stream::{self, BoxStream, SelectAll},
};
use label_selector::Selector;
use tokio::{sync::mpsc, task::JoinSet};

use super::{GqlResultExt, Started, app, connection::max_clusters, pods::readable, viewer};
use crate::{
    audit::{Action, Event},
    error::{AppError, ErrorCode},
    k8s::{
        Cluster,
        entry::PodEntry,
        events::{self, PodChange, PodChangeKind},
        logs::{FollowPermit, LogFollows, LogLine, LogOptions, Start},
        pods,
        summary::ContainerState,
    },
};

/// One line of the `logs` subscription.
#[derive(SimpleObject, Clone, Debug)]
pub struct MergedLogLine {
    /// The pod's cluster.
    pub cluster: String,
    /// The pod's namespace.
    pub namespace: String,
    /// The pod.
    pub pod: String,
    /// The container.
    pub container: String,
    /// When the container wrote it, only when `timestamps` was asked for.
    pub time: Option<String>,
    /// The text (cut at `OSP_LOG_LINE_BYTES` and marked ` [cut]`).
    pub text: String,
}

/// Lines waiting for a slow reader of one `logs` subscription; past them,
/// its follows lose lines (marked) instead of the gateway buffering them.
const WAITING_LINES: usize = 256;

/// Merged logs.
#[derive(Default)]
pub struct MergedLogSubscription;

#[Subscription]
impl MergedLogSubscription {
    /// Follows every container (or `container` only) of every pod matching
    /// `labelSelector` in `clusters` (all the viewer may read when left out)
    /// and `namespace` (every one the viewer may read there when left out),
    /// from the last `tailLines` lines of each (`sinceSeconds` instead, when
    /// given); pods that start matching later are followed from their
    /// start. A selector matching more than `OSP_LOG_SELECTOR_PODS` pods at
    /// the start is refused (InvalidParameter). Counts one follow against
    /// `OSP_LOG_FOLLOWS_PER_USER`; ends when the token expires or a grant it
    /// reads is revoked. Audited once, with the selector as target.
    #[allow(clippy::too_many_arguments)]
    async fn logs(
        &self,
        ctx: &Context<'_>,
        clusters: Option<Vec<String>>,
        namespace: Option<String>,
        label_selector: String,
        container: Option<String>,
        #[graphql(default = 10)] tail_lines: i32,
        since_seconds: Option<i32>,
        #[graphql(default)] timestamps: bool,
    ) -> async_graphql::Result<BoxStream<'static, async_graphql::Result<MergedLogLine>>> {
        let viewer = viewer(ctx).gql()?;
        let state = app(ctx);
        let started = async {
            let options = LogOptions::check(
                container,
                false,
                since_seconds.is_none().then_some(i64::from(tail_lines)),
                since_seconds.map(i64::from),
                None,
                timestamps,
                None,
            )?;
            let selector = Selector::parse(&label_selector)
                .map_err(|reason| AppError::invalid("labelSelector", reason))?;
            let names: Vec<String> = match clusters {
                Some(names) => {
                    let most = max_clusters(state.clusters.all().count());
                    if names.len() > most {
                        return Err(AppError::invalid(
                            "clusters",
                            format!("at most {most} names"),
                        ));
                    }
                    let mut seen = HashSet::new();
                    names
                        .into_iter()
                        .filter(|n| seen.insert(n.clone()))
                        .collect()
                }
                None => state
                    .clusters
                    .all()
                    .map(|cluster| cluster.name.clone())
                    .filter(|name| viewer.scope(name).is_some())
                    .collect(),
            };
            let mut targets = Vec::new();
            for name in &names {
                targets.push(readable(ctx, viewer, name, namespace.as_deref())?);
            }
            // Changes first, then the pods matching now: a pod that appears
            // in between is seen by one or the other.
            let mut changes = SelectAll::new();
            for (found, scope) in &targets {
                let keep = {
                    let (scope, namespace) = (scope.clone(), namespace.clone());
                    move |ns: &str| namespace.as_deref().is_none_or(|n| n == ns) && scope.covers(ns)
                };
                let cluster = found.clone();
                changes.push(
                    events::pod_events(found, keep, None)
                        .await?
                        .map(move |change| (cluster.clone(), change))
                        .boxed(),
                );
            }
            let mut matching = Vec::new();
            for (found, scope) in &targets {
                let visible = |ns: &str| scope.covers(ns);
                let list =
                    pods::list_pods(found, namespace.as_deref(), None, &visible, None).await?;
                matching.extend(
                    list.items
                        .into_iter()
                        .filter(|pod| selector.matches(|key| pod.label(key)))
                        .map(|pod| (found.clone(), pod)),
                );
            }
            let most = state.logs.limits().selector_pods;
            if matching.len() > most {
                return Err(AppError::invalid(
                    "labelSelector",
                    format!(
                        "matches {} pods, more than the {most} one subscription follows \
                         (OSP_LOG_SELECTOR_PODS): narrow it",
                        matching.len()
                    ),
                ));
            }
            let permit = state.logs.permit(viewer.id)?;
            Ok::<_, AppError>((options, selector, targets, changes, matching, permit))
        };
        let started = started.await;
        let (outcome, detail) = match &started {
            Ok((.., matching, _)) => (ErrorCode::Success, format!("logs: {} pods", matching.len())),
            Err(err) => (err.code(), "logs".to_owned()),
        };
        state
            .audit
            .reads(vec![Event {
                origin: super::reads::origin(ctx),
                action: Action::PodLogsRead,
                target: Some(label_selector.clone()),
                outcome,
                detail: Some(detail),
            }])
            .await
            .gql()?;
        let (options, selector, targets, changes, matching, permit) = started.gql()?;
        let (tx, rx) = mpsc::channel(WAITING_LINES);
        let merge = Merge {
            follows: state.logs.clone(),
            tx,
            options,
            selector,
            most: state.logs.limits().selector_pods,
            followed: HashSet::new(),
            pods: HashSet::new(),
        };
        tokio::spawn(merge.run(matching, changes, permit));
        let mut lines = stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|line| (Ok(line), rx))
        })
        .boxed();
        for (found, scope) in targets {
            lines = super::pods::until_revoked(
                ctx,
                lines,
                found.name.clone(),
                namespace.clone(),
                scope,
            );
        }
        Started::tell(ctx);
        Ok(lines)
    }
}

/// Where a line is from: cluster, namespace, pod, container.
type Source = (String, String, String, String);

/// The follows of one `logs` subscription, fed into its channel.
struct Merge {
    follows: Arc<LogFollows>,
    tx: mpsc::Sender<MergedLogLine>,
    options: LogOptions,
    selector: Selector,
    /// Pods followed at most.
    most: usize,
    /// Containers followed now.
    followed: HashSet<Source>,
    /// Pods followed now (cluster, namespace, pod).
    pods: HashSet<(String, String, String)>,
}

impl Merge {
    async fn run(
        mut self,
        matching: Vec<(Arc<Cluster>, Arc<PodEntry>)>,
        mut changes: SelectAll<BoxStream<'static, (Arc<Cluster>, PodChange)>>,
        _permit: FollowPermit,
    ) {
        let mut running = JoinSet::new();
        for (cluster, pod) in matching {
            let start = self.options.start;
            self.start(&mut running, cluster, &pod, start).await;
        }
        let mut watching = true;
        loop {
            tokio::select! {
                () = self.tx.closed() => return,
                change = changes.next(), if watching => match change {
                    Some((cluster, change)) => self.changed(&mut running, cluster, change).await,
                    None => watching = false,
                },
                Some(Ok(source)) = running.join_next() => {
                    self.followed.remove(&source);
                    let pod = (source.0, source.1, source.2);
                    if !self.followed.iter().any(|s| (&s.0, &s.1, &s.2) == (&pod.0, &pod.1, &pod.2)) {
                        self.pods.remove(&pod);
                    }
                }
            }
        }
    }

    /// A pod that matches and runs joins, from its start.
    async fn changed(
        &mut self,
        running: &mut JoinSet<Source>,
        cluster: Arc<Cluster>,
        change: PodChange,
    ) {
        let (PodChangeKind::Added | PodChangeKind::Modified, Some(pod)) =
            (change.kind, change.object)
        else {
            return;
        };
        if self.selector.matches(|key| pod.label(key)) {
            self.start(running, cluster, &pod, Start::default()).await;
        }
    }

    /// Follows the running containers of `pod` not followed yet.
    async fn start(
        &mut self,
        running: &mut JoinSet<Source>,
        cluster: Arc<Cluster>,
        pod: &PodEntry,
        start: Start,
    ) {
        let summary = &pod.summary;
        let key = (
            cluster.name.clone(),
            summary.namespace.clone(),
            summary.name.clone(),
        );
        if !self.pods.contains(&key) && self.pods.len() >= self.most {
            return;
        }
        for container in &summary.containers {
            if container.status != ContainerState::Running
                || self
                    .options
                    .container
                    .as_deref()
                    .is_some_and(|only| only != container.name)
            {
                continue;
            }
            let source: Source = (
                key.0.clone(),
                key.1.clone(),
                key.2.clone(),
                container.name.clone(),
            );
            if self.followed.contains(&source) {
                continue;
            }
            let follow = match self
                .follows
                .follow(cluster.clone(), pod, Some(&container.name), start, None)
                .await
            {
                Ok(follow) => follow,
                Err(err) => {
                    tracing::debug!(pod = %key.2, container = %container.name, error = %err,
                        "a matching container could not be followed");
                    continue;
                }
            };
            self.followed.insert(source.clone());
            self.pods.insert(key.clone());
            let tx = self.tx.clone();
            let timestamps = self.options.timestamps;
            running.spawn(async move {
                let mut lines = std::pin::pin!(follow.lines());
                while let Some(line) = lines.next().await {
                    if tx.send(merged(&source, &line, timestamps)).await.is_err() {
                        break;
                    }
                }
                source
            });
        }
    }
}

fn merged(source: &Source, line: &LogLine, timestamps: bool) -> MergedLogLine {
    MergedLogLine {
        cluster: source.0.clone(),
        namespace: source.1.clone(),
        pod: source.2.clone(),
        container: source.3.clone(),
        time: line.time_text().filter(|_| timestamps),
        text: line.text.clone(),
    }
}
