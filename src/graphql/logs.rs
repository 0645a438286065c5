//! Container logs in GraphQL: `podLogs` (one read) and `podLogLines` (a
//! follow), both behind the grants of the pod's namespace, both audited
//! (`pod_logs_read`, with refusals). The reading and the shared follows are
//! [`crate::k8s::logs`]'s.

use std::sync::Arc;

use async_graphql::{Context, Object, SimpleObject, Subscription};
use futures_util::{StreamExt, stream, stream::BoxStream};

use super::{GqlResultExt, app, budget, pods::readable, reads::PodReads, reuse, viewer};
use crate::{
    audit::{Action, Event},
    error::{AppError, ErrorCode},
    k8s::{
        logs::{self, LogLine, LogOptions},
        pods,
    },
};

/// A container's log, as `kubectl logs` reads it.
#[derive(SimpleObject)]
pub struct PodLog {
    /// The container read (the pod's only one when none was named).
    pub container: String,
    /// The lines, oldest first.
    pub lines: Vec<PodLogLine>,
    /// Whether `limitBytes` or the gateway's cap (`OSP_LOG_MAX_BYTES`) cut
    /// the log: there is more than these lines.
    pub truncated: bool,
}

/// One line of a container's log.
#[derive(SimpleObject, Clone)]
#[graphql(name = "LogLine")]
pub struct PodLogLine {
    /// When the container wrote it (RFC 3339 with nanoseconds), only when
    /// `timestamps` was asked for.
    pub time: Option<String>,
    /// The text, without its newline; a line longer than
    /// `OSP_LOG_LINE_BYTES` is cut there and ends with ` [cut]`.
    pub text: String,
}

impl PodLogLine {
    fn new(line: &LogLine, timestamps: bool) -> Self {
        PodLogLine {
            time: line.time_text().filter(|_| timestamps),
            text: line.text.clone(),
        }
    }
}

/// What a `pod_logs_read` event names: `cluster/namespace/pod/container`
/// (without the container when none was named).
fn target(cluster: &str, namespace: &str, name: &str, container: Option<&str>) -> String {
    match container {
        Some(container) => format!("{cluster}/{namespace}/{name}/{container}"),
        None => format!("{cluster}/{namespace}/{name}"),
    }
}

/// The options of a read or follow, checked.
#[allow(clippy::too_many_arguments)]
fn options(
    container: Option<String>,
    previous: bool,
    tail_lines: Option<i32>,
    since_seconds: Option<i32>,
    since_time: Option<String>,
    timestamps: bool,
    limit_bytes: Option<i32>,
) -> Result<LogOptions, AppError> {
    LogOptions::check(
        container,
        previous,
        tail_lines.map(i64::from),
        since_seconds.map(i64::from),
        since_time.as_deref(),
        timestamps,
        limit_bytes.map(i64::from),
    )
}

/// The pod `name` of `namespace` of `cluster`, once the viewer may read it,
/// with its cluster and the viewer's namespaces there.
async fn readable_pod(
    ctx: &Context<'_>,
    viewer: &crate::auth::Viewer,
    cluster: &str,
    namespace: &str,
    name: &str,
) -> Result<
    (
        Arc<crate::k8s::Cluster>,
        crate::auth::NamespaceScope,
        Arc<crate::k8s::entry::PodEntry>,
    ),
    AppError,
> {
    let (found, scope) = readable(ctx, viewer, cluster, Some(namespace))?;
    let pod = pods::get_pod(&found, namespace, name).await?;
    Ok((found, scope, pod))
}

/// Container logs.
#[derive(Default)]
pub struct LogQuery;

#[Object]
impl LogQuery {
    /// A container's log, with `kubectl logs`' options. `container` may be
    /// left out for a pod with one container (else InvalidParameter names
    /// them); `previous` reads the instance before the last restart;
    /// `tailLines` keeps the last lines, `sinceSeconds`/`sinceTime` (with both,
    /// the later) those written since; `timestamps` gives each line its time;
    /// `limitBytes` cuts the log (`truncated` then says so), as does the
    /// gateway at `OSP_LOG_MAX_BYTES`. A container waiting to start, or
    /// `previous` without a terminated instance, answers InvalidParameter
    /// with the API server's reason. Needs a grant of the pod's namespace;
    /// every read is audited.
    #[allow(clippy::too_many_arguments)]
    async fn pod_logs(
        &self,
        ctx: &Context<'_>,
        cluster: String,
        namespace: String,
        name: String,
        container: Option<String>,
        #[graphql(default)] previous: bool,
        tail_lines: Option<i32>,
        since_seconds: Option<i32>,
        since_time: Option<String>,
        #[graphql(default)] timestamps: bool,
        limit_bytes: Option<i32>,
    ) -> async_graphql::Result<PodLog> {
        let viewer = viewer(ctx).gql()?;
        reuse::unversioned(ctx);
        let asked = container.clone();
        let read = async {
            let options = options(
                container,
                previous,
                tail_lines,
                since_seconds,
                since_time,
                timestamps,
                limit_bytes,
            )?;
            let (found, _, pod) = readable_pod(ctx, viewer, &cluster, &namespace, &name).await?;
            let limits = *app(ctx).logs.limits();
            let log = logs::read(&found, &pod, &options, &limits).await?;
            let bytes: u64 = log
                .lines
                .iter()
                .map(|line| line.text.len() as u64 + 64)
                .sum();
            budget::of(ctx)?.charge(bytes + 64).await?;
            Ok::<_, AppError>(log)
        };
        let read = read.await;
        if let Some(reads) = ctx.data_opt::<Arc<PodReads>>() {
            let (container, code) = match &read {
                Ok(log) => (Some(log.container.as_str()), ErrorCode::Success),
                Err(err) => (asked.as_deref(), err.code()),
            };
            reads.note(
                Action::PodLogsRead,
                target(&cluster, &namespace, &name, container),
                code,
                None,
            );
        }
        let log = read.gql()?;
        Ok(PodLog {
            lines: log
                .lines
                .iter()
                .map(|line| PodLogLine::new(line, timestamps))
                .collect(),
            container: log.container,
            truncated: log.truncated,
        })
    }
}

/// Container logs as they are written.
#[derive(Default)]
pub struct LogSubscription;

#[Subscription]
impl LogSubscription {
    /// Follows a container's log (as `kubectl logs -f`), from the lines
    /// `tailLines`/`sinceSeconds`/`sinceTime` pick (every line when none),
    /// until the container stops, the token expires or the grant is revoked.
    /// Followers of the same container share one stream from the cluster.
    /// With `previous`, the terminated instance's lines, then the end. A
    /// reader that falls behind loses lines, marked by one `[dropped N
    /// lines]` line. At most `OSP_LOG_FOLLOWS_PER_USER` follows per user and
    /// `OSP_LOG_FOLLOWS` per gateway (else TooManyRequests). Audited when it
    /// starts.
    #[allow(clippy::too_many_arguments)]
    async fn pod_log_lines(
        &self,
        ctx: &Context<'_>,
        cluster: String,
        namespace: String,
        name: String,
        container: Option<String>,
        #[graphql(default)] previous: bool,
        tail_lines: Option<i32>,
        since_seconds: Option<i32>,
        since_time: Option<String>,
        #[graphql(default)] timestamps: bool,
    ) -> async_graphql::Result<BoxStream<'static, async_graphql::Result<PodLogLine>>> {
        let viewer = viewer(ctx).gql()?;
        let state = app(ctx);
        let asked = container.clone();
        let started = async {
            let options = options(
                container,
                previous,
                tail_lines,
                since_seconds,
                since_time,
                timestamps,
                None,
            )?;
            let (found, scope, pod) =
                readable_pod(ctx, viewer, &cluster, &namespace, &name).await?;
            if options.previous {
                let log = logs::read(&found, &pod, &options, state.logs.limits()).await?;
                let lines: Vec<_> = log.lines.into_iter().map(Arc::new).collect();
                return Ok((log.container, stream::iter(lines).boxed(), scope));
            }
            let container = logs::choose_container(&pod, options.container.as_deref())?;
            let permit = state.logs.permit(viewer.id)?;
            let follow = state
                .logs
                .follow(found, &pod, Some(&container), options.start, Some(permit))
                .await?;
            Ok::<_, AppError>((container, follow.lines().boxed(), scope))
        };
        let started = started.await;
        let (container, code) = match &started {
            Ok((container, _, _)) => (Some(container.as_str()), ErrorCode::Success),
            Err(err) => (asked.as_deref(), err.code()),
        };
        let event = Event {
            origin: super::reads::origin(ctx),
            action: Action::PodLogsRead,
            target: Some(target(&cluster, &namespace, &name, container)),
            outcome: code,
            detail: Some(if previous { "previous" } else { "follow" }.to_owned()),
        };
        // No follow without its record.
        state.audit.reads(vec![event]).await.gql()?;
        let (_, lines, scope) = started.gql()?;
        super::Started::tell(ctx);
        let lines = lines.map(move |line| Ok(PodLogLine::new(&line, timestamps)));
        Ok(super::pods::until_revoked(
            ctx,
            lines,
            cluster,
            Some(namespace),
            scope,
        ))
    }
}
