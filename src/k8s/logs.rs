//! Container logs: one read (`podLogs`, REST without `follow`) and follows
//! that viewers of the same container share.
//!
//! A follow is one upstream stream per container, opened by its first
//! follower and closed when its last follower leaves. The stream keeps its
//! last lines; a joiner whose `tailLines`/`sinceSeconds`/`sinceTime` they
//! cover is served from them, any other makes one read of its own and then
//! takes the shared lines that follow. A stream that drops while the
//! container runs is opened again from its last line's time, skipping the
//! lines already sent (no duplicates, no gap); one that ends normally (the
//! container stopped, the pod went away) ends its followers' streams. A
//! follower that cannot keep up loses lines, never the gateway's memory: it
//! gets one `[dropped N lines]` line in their place.
//!
//! Nothing here knows GraphQL or REST: options come in checked, lines go out
//! as [`LogLine`]s.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use futures_util::{AsyncBufRead, AsyncBufReadExt, Stream, StreamExt};
use tokio::sync::broadcast;

use super::{Cluster, entry::PodEntry};
use crate::error::AppError;

/// The gateway's bounds on logs (`OSP_LOG_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLimits {
    /// Follows open at once per user (`OSP_LOG_FOLLOWS_PER_USER`).
    pub follows_per_user: usize,
    /// Follows open at once in this gateway (`OSP_LOG_FOLLOWS`).
    pub follows: usize,
    /// Pods a `logs` selector may match when it starts (`OSP_LOG_SELECTOR_PODS`).
    pub selector_pods: usize,
    /// Bytes of one line's text; a longer one is cut and marked (`OSP_LOG_LINE_BYTES`).
    pub line_bytes: usize,
    /// Bytes one read returns at most (`OSP_LOG_MAX_BYTES`).
    pub max_bytes: usize,
}

/// What ends a line cut at [`LogLimits::line_bytes`].
pub const CUT_MARK: &str = " [cut]";

/// Lines a shared stream keeps for joiners.
const KEPT_LINES: usize = 1_000;
/// Lines a follower may fall behind before it loses some.
const FOLLOWER_BACKLOG: usize = 512;
/// Attempts to open a dropped stream again before its followers are ended.
const REOPEN_ATTEMPTS: u32 = 5;
/// A stream open this long without a line has its reopen attempts counted anew.
const STREAM_SETTLED: Duration = Duration::from_secs(30);

/// Where a read or a follow starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Start {
    /// The last this many lines.
    pub tail_lines: Option<u64>,
    /// Lines at or after this time.
    pub since: Option<DateTime<Utc>>,
}

impl Start {
    /// Whether a line at `time` is wanted.
    fn admits(&self, time: Option<DateTime<Utc>>) -> bool {
        match (self.since, time) {
            (Some(since), Some(time)) => time >= since,
            _ => true,
        }
    }
}

/// The options of one read, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogOptions {
    /// The container (`None`: the pod's only one).
    pub container: Option<String>,
    /// The previous, terminated instance of the container.
    pub previous: bool,
    /// Where the read starts.
    pub start: Start,
    /// Whether each line's time is shown.
    pub timestamps: bool,
    /// Bytes of the answer at most.
    pub limit_bytes: Option<u64>,
}

impl LogOptions {
    /// Checks the options as given by a client (GraphQL's or REST's names).
    #[allow(clippy::too_many_arguments)]
    pub fn check(
        container: Option<String>,
        previous: bool,
        tail_lines: Option<i64>,
        since_seconds: Option<i64>,
        since_time: Option<&str>,
        timestamps: bool,
        limit_bytes: Option<i64>,
    ) -> Result<Self, AppError> {
        if let Some(container) = &container {
            let label = !container.is_empty()
                && container.len() <= 63
                && container
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !container.starts_with('-')
                && !container.ends_with('-');
            if !label {
                return Err(AppError::invalid(
                    "container",
                    "must be a container name: at most 63 lowercase letters, digits and '-'",
                ));
            }
        }
        if tail_lines.is_some_and(|n| n < 0) {
            return Err(AppError::invalid("tailLines", "must be 0 or more"));
        }
        if since_seconds.is_some_and(|n| n < 1) {
            return Err(AppError::invalid("sinceSeconds", "must be 1 or more"));
        }
        if limit_bytes.is_some_and(|n| n < 1) {
            return Err(AppError::invalid("limitBytes", "must be 1 or more"));
        }
        let since_time = since_time
            .map(|t| {
                DateTime::parse_from_rfc3339(t)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|_| {
                        AppError::invalid(
                            "sinceTime",
                            "must be an RFC 3339 time, e.g. 2024-05-01T10:00:00Z",
                        )
                    })
            })
            .transpose()?;
        // With both, the later of the two: each one's lines only.
        let since_seconds = since_seconds.map(|s| Utc::now() - chrono::Duration::seconds(s));
        let since = since_time.into_iter().chain(since_seconds).max();
        Ok(LogOptions {
            container,
            previous,
            start: Start {
                tail_lines: tail_lines.map(|n| n as u64),
                since,
            },
            timestamps,
            limit_bytes: limit_bytes.map(|n| n as u64),
        })
    }
}

/// One line of a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// When the container wrote it (when the upstream said).
    pub time: Option<DateTime<Utc>>,
    /// The text, without its newline.
    pub text: String,
}

impl LogLine {
    /// The time as the API server writes it (RFC 3339 with nanoseconds).
    pub fn time_text(&self) -> Option<String> {
        self.time
            .map(|t| t.to_rfc3339_opts(SecondsFormat::Nanos, true))
    }

    /// The line as `kubectl logs` prints it (with its time first when
    /// `timestamps`), newline included.
    pub fn render(&self, timestamps: bool) -> String {
        match self.time_text().filter(|_| timestamps) {
            Some(time) => format!("{time} {}\n", self.text),
            None => format!("{}\n", self.text),
        }
    }
}

/// What one read returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodLog {
    /// The container read.
    pub container: String,
    /// Its lines.
    pub lines: Vec<LogLine>,
    /// Whether `limitBytes` or the gateway's cap cut the answer.
    pub truncated: bool,
}

/// The container a read names: the one asked for when the pod has it, else
/// the pod's only container; `InvalidParameter` naming the containers there
/// are otherwise.
pub fn choose_container(pod: &PodEntry, asked: Option<&str>) -> Result<String, AppError> {
    fn names(list: &[super::summary::ContainerSummary]) -> Vec<&str> {
        list.iter().map(|c| c.name.as_str()).collect()
    }
    let summary = &pod.summary;
    let containers = names(&summary.containers);
    let init = names(&summary.init_containers);
    let choices = || {
        let mut text = containers.join(", ");
        if !init.is_empty() {
            text.push_str(&format!(" (init containers: {})", init.join(", ")));
        }
        text
    };
    match asked {
        Some(asked) if containers.contains(&asked) || init.contains(&asked) => Ok(asked.to_owned()),
        Some(asked) => Err(AppError::invalid(
            "container",
            format!(
                "pod {} has no container {asked}; choose one of: {}",
                summary.name,
                choices()
            ),
        )),
        None if containers.len() == 1 => Ok(containers[0].to_owned()),
        None => Err(AppError::invalid(
            "container",
            format!(
                "pod {} has {} containers: give one of: {}",
                summary.name,
                containers.len(),
                choices()
            ),
        )),
    }
}

/// One upstream request for a log.
struct Upstream<'a> {
    namespace: &'a str,
    pod: &'a str,
    container: &'a str,
    previous: bool,
    follow: bool,
    timestamps: bool,
    tail_lines: Option<u64>,
    /// Sent as `sinceTime`, whole seconds (the API server reads no finer).
    since: Option<DateTime<Utc>>,
    limit_bytes: Option<u64>,
}

impl Upstream<'_> {
    fn request(&self) -> Result<http::Request<Vec<u8>>, AppError> {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.append_pair("container", self.container);
        if self.previous {
            query.append_pair("previous", "true");
        }
        if self.follow {
            query.append_pair("follow", "true");
        }
        if self.timestamps {
            query.append_pair("timestamps", "true");
        }
        if let Some(n) = self.tail_lines {
            query.append_pair("tailLines", &n.to_string());
        }
        if let Some(since) = self.since {
            query.append_pair(
                "sinceTime",
                &since.to_rfc3339_opts(SecondsFormat::Secs, true),
            );
        }
        if let Some(n) = self.limit_bytes {
            query.append_pair("limitBytes", &n.to_string());
        }
        let path = format!(
            "/api/v1/namespaces/{}/pods/{}/log?{}",
            self.namespace,
            self.pod,
            query.finish()
        );
        http::Request::get(path)
            .body(Vec::new())
            .map_err(AppError::internal)
    }

    /// Opens the log: its body as a byte stream, or the API server's
    /// refusal in our words.
    async fn open(
        &self,
        cluster: &Cluster,
    ) -> Result<impl AsyncBufRead + Unpin + Send + use<>, AppError> {
        let request = self.request()?;
        // A quiet follow must not be cut by the read timeout of calls.
        let client = if self.follow {
            cluster.stream_client()
        } else {
            cluster.client()
        };
        match tokio::time::timeout(
            cluster.timeout() + Duration::from_secs(1),
            client.request_stream(request),
        )
        .await
        {
            Ok(Ok(body)) => Ok(Box::pin(body)),
            Ok(Err(kube::Error::Api(status))) if status.code == 404 => Err(AppError::PodNotFound {
                cluster: cluster.name.clone(),
                namespace: self.namespace.to_owned(),
                name: self.pod.to_owned(),
            }),
            // The API server's reason (a container waiting to start, no
            // previous instance) is about the pod the viewer may read.
            Ok(Err(kube::Error::Api(status))) if status.code == 400 || status.code == 422 => {
                let field = if self.previous {
                    "previous"
                } else {
                    "container"
                };
                Err(AppError::invalid(field, status.message.clone()))
            }
            Ok(Err(err)) => Err(AppError::from_kube(&cluster.name, &err)),
            Err(_) => Err(AppError::ClusterUnavailable {
                cluster: cluster.name.clone(),
                reason: crate::error::TIMED_OUT,
            }),
        }
    }
}

/// Reads lines from a log body: each at most `max` bytes (the rest of a
/// longer one is skipped, and the line says it was cut).
struct LineReader<R> {
    body: R,
    max: usize,
}

/// A raw line: its bytes, and whether it was longer than the reader keeps.
struct RawLine {
    bytes: Vec<u8>,
    cut: bool,
}

impl<R: AsyncBufRead + Unpin> LineReader<R> {
    /// The next line (`None` at the end of the body; a last line without
    /// its newline is a line too).
    async fn next(&mut self) -> std::io::Result<Option<RawLine>> {
        let mut line = RawLine {
            bytes: Vec::new(),
            cut: false,
        };
        loop {
            let available = self.body.fill_buf().await?;
            if available.is_empty() {
                return Ok((!line.bytes.is_empty() || line.cut).then_some(line));
            }
            let (part, used, done) = match available.iter().position(|&b| b == b'\n') {
                Some(at) => (&available[..at], at + 1, true),
                None => (available, available.len(), false),
            };
            let room = self.max.saturating_sub(line.bytes.len());
            if part.len() > room {
                line.cut = true;
            }
            line.bytes.extend_from_slice(&part[..part.len().min(room)]);
            self.body.consume_unpin(used);
            if done {
                return Ok(Some(line));
            }
        }
    }
}

/// Room for the time the API server puts before a line (RFC 3339 with
/// nanoseconds and a space).
const TIME_PREFIX: usize = 40;

/// A raw line as a [`LogLine`]: its time split off when `timed`, its text
/// cut at `line_bytes` (on a character boundary) and marked.
fn parse(raw: RawLine, timed: bool, line_bytes: usize) -> LogLine {
    let text = String::from_utf8_lossy(&raw.bytes);
    let text = text.strip_suffix('\r').unwrap_or(&text);
    let (time, text) = match text.split_once(' ').filter(|_| timed) {
        Some((stamp, rest)) => match DateTime::parse_from_rfc3339(stamp) {
            Ok(time) => (Some(time.with_timezone(&Utc)), rest),
            Err(_) => (None, text),
        },
        None => (None, text),
    };
    let mut cut = raw.cut;
    let mut text = text.to_owned();
    if text.len() > line_bytes {
        let mut end = line_bytes;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        cut = true;
    }
    if cut {
        text.push_str(CUT_MARK);
    }
    LogLine { time, text }
}

/// Reads a container's log once: `options` as `kubectl logs` takes them,
/// at most `limitBytes` (and the gateway's cap) of it.
pub async fn read(
    cluster: &Cluster,
    pod: &PodEntry,
    options: &LogOptions,
    limits: &LogLimits,
) -> Result<PodLog, AppError> {
    let container = choose_container(pod, options.container.as_deref())?;
    let cap = options
        .limit_bytes
        .map_or(limits.max_bytes as u64, |l| l.min(limits.max_bytes as u64));
    // One byte more than the cap tells whether the cap cut the log.
    let upstream = Upstream {
        namespace: &pod.summary.namespace,
        pod: &pod.summary.name,
        container: &container,
        previous: options.previous,
        follow: false,
        timestamps: options.timestamps,
        tail_lines: options.start.tail_lines,
        since: options.start.since.map(floor_to_second),
        limit_bytes: Some(cap + 1),
    };
    let body = upstream.open(cluster).await?;
    let mut reader = LineReader {
        body,
        max: limits.line_bytes + TIME_PREFIX + CUT_MARK.len(),
    };
    let mut lines = Vec::new();
    let mut bytes = 0u64;
    let mut truncated = false;
    let read_all = async {
        while let Some(raw) = reader.next().await? {
            bytes += raw.bytes.len() as u64 + 1;
            if bytes > cap {
                // The cap cuts inside this line, as limitBytes does.
                let keep = (raw.bytes.len() as u64).saturating_sub(bytes - 1 - cap) as usize;
                truncated = true;
                if keep > 0 || bytes - 1 == cap {
                    let mut raw = raw;
                    raw.bytes.truncate(keep);
                    lines.push(parse(raw, options.timestamps, limits.line_bytes));
                }
                break;
            }
            lines.push(parse(raw, options.timestamps, limits.line_bytes));
        }
        Ok::<_, std::io::Error>(())
    };
    match tokio::time::timeout(cluster.timeout() * 4, read_all).await {
        Ok(Ok(())) => {}
        Ok(Err(err)) => {
            tracing::warn!(cluster = %cluster.name, error = %err, "log read failed");
            return Err(AppError::ClusterUnavailable {
                cluster: cluster.name.clone(),
                reason: "the log stopped before its end",
            });
        }
        Err(_) => {
            return Err(AppError::ClusterUnavailable {
                cluster: cluster.name.clone(),
                reason: crate::error::TIMED_OUT,
            });
        }
    }
    // `since` was sent in whole seconds: drop what precedes the exact time.
    lines.retain(|line| !options.timestamps || options.start.admits(line.time));
    Ok(PodLog {
        container,
        lines,
        truncated,
    })
}

fn floor_to_second(time: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(time.timestamp(), 0).unwrap_or(time)
}

/// Which container's stream: cluster, namespace, pod, container.
type StreamKey = (String, String, String, String);

/// Every follow of this gateway: the shared upstream streams and the counts
/// the limits bound.
pub struct LogFollows {
    limits: LogLimits,
    streams: Mutex<HashMap<StreamKey, Weak<SharedStream>>>,
    /// Held while a container's stream is looked up or opened, so joiners
    /// arriving together share one stream instead of opening one each.
    opening: Mutex<HashMap<StreamKey, Arc<tokio::sync::Mutex<()>>>>,
    open: AtomicUsize,
    per_user: Mutex<HashMap<i64, usize>>,
}

/// One follow's place in the limits, given back when it is dropped.
pub struct FollowPermit {
    follows: Arc<LogFollows>,
    user: i64,
}

impl Drop for FollowPermit {
    fn drop(&mut self) {
        self.follows.open.fetch_sub(1, Ordering::SeqCst);
        let mut per_user = lock(&self.follows.per_user);
        if let Some(n) = per_user.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                per_user.remove(&self.user);
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A stream of one container's lines that any number of followers share.
struct SharedStream {
    key: StreamKey,
    /// The lines kept for joiners; pushed to and subscribed under one lock,
    /// so a joiner's kept lines and live lines neither overlap nor miss.
    kept: Mutex<Kept>,
    /// Taken (and dropped) when the upstream ends: followers then end.
    sender: Mutex<Option<broadcast::Sender<Arc<LogLine>>>>,
    task: Mutex<Option<tokio::task::AbortHandle>>,
}

#[derive(Default)]
struct Kept {
    lines: VecDeque<Arc<LogLine>>,
    /// What the stream was opened with: the kept lines are everything from
    /// there while none was let go.
    opened_with: Start,
    let_go: bool,
}

impl Kept {
    /// The kept lines a joiner starting at `start` wants, when they reach
    /// back far enough.
    fn serve(&self, start: Start) -> Option<Vec<Arc<LogLine>>> {
        let complete_from = |wanted: &Start| {
            // Everything from where the stream was opened is kept, and the
            // stream was opened at or before where the joiner starts.
            !self.let_go
                && match (self.opened_with.tail_lines, self.opened_with.since) {
                    (None, None) => true,
                    (None, Some(opened)) => wanted.since.is_some_and(|since| since >= opened),
                    (Some(_), _) => false,
                }
        };
        let admitted: Vec<Arc<LogLine>> = self
            .lines
            .iter()
            .filter(|line| start.admits(line.time))
            .cloned()
            .collect();
        let reaches = match (start.tail_lines, start.since) {
            (Some(n), _) if admitted.len() as u64 >= n => true,
            (_, Some(since)) => {
                complete_from(&start)
                    || self
                        .lines
                        .front()
                        .and_then(|line| line.time)
                        .is_some_and(|first| first < since)
            }
            _ => complete_from(&start),
        };
        if !reaches {
            return None;
        }
        let skip = start
            .tail_lines
            .map_or(0, |n| admitted.len().saturating_sub(n as usize));
        Some(admitted.into_iter().skip(skip).collect())
    }

    fn push(&mut self, line: Arc<LogLine>) {
        if self.lines.len() == KEPT_LINES {
            self.lines.pop_front();
            self.let_go = true;
        }
        self.lines.push_back(line);
    }
}

impl Drop for SharedStream {
    fn drop(&mut self) {
        if let Some(task) = lock(&self.task).take() {
            task.abort();
        }
    }
}

/// One follower's lines: first the ones it starts with, then the shared ones.
pub struct Follow {
    /// Holds the shared stream open while this follower reads.
    _stream: Arc<SharedStream>,
    /// The follow's place in the limits (none for one of a `logs`
    /// subscription's, which holds one for them all).
    _permit: Option<FollowPermit>,
    first: std::vec::IntoIter<Arc<LogLine>>,
    /// Shared lines up to this time (and this many at exactly it) were in
    /// `first` already.
    skip_until: Option<(DateTime<Utc>, usize)>,
    live: broadcast::Receiver<Arc<LogLine>>,
}

impl Follow {
    /// The lines, ending when the upstream ends.
    pub fn lines(self) -> impl Stream<Item = Arc<LogLine>> + Send + 'static {
        let Follow {
            _stream,
            _permit,
            first,
            skip_until,
            live,
        } = self;
        let held = (_stream, _permit);
        let live = futures_util::stream::unfold(
            (live, held, skip_until),
            |(mut live, held, mut skip_until)| async move {
                loop {
                    match live.recv().await {
                        Ok(line) => {
                            if let (Some((until, same)), Some(time)) = (&mut skip_until, line.time)
                            {
                                if time < *until {
                                    continue;
                                }
                                if time == *until && *same > 0 {
                                    *same -= 1;
                                    continue;
                                }
                            }
                            return Some((line, (live, held, None)));
                        }
                        Err(broadcast::error::RecvError::Lagged(n)) => {
                            let marker = Arc::new(LogLine {
                                time: None,
                                text: format!("[dropped {n} lines]"),
                            });
                            return Some((marker, (live, held, skip_until)));
                        }
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            },
        );
        futures_util::stream::iter(first).chain(live)
    }
}

impl LogFollows {
    /// No follow yet, within `limits`.
    pub fn new(limits: LogLimits) -> Arc<Self> {
        Arc::new(LogFollows {
            limits,
            streams: Mutex::default(),
            opening: Mutex::default(),
            open: AtomicUsize::new(0),
            per_user: Mutex::default(),
        })
    }

    /// The limits.
    pub fn limits(&self) -> &LogLimits {
        &self.limits
    }

    /// Follows open now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    /// Upstream streams open now.
    pub fn upstream_streams(&self) -> usize {
        lock(&self.streams)
            .values()
            .filter(|s| s.strong_count() > 0)
            .count()
    }

    /// A place for one more follow of `user`, or `TooManyRequests` when the
    /// user's or the gateway's follows are all taken.
    pub fn permit(self: &Arc<Self>, user: i64) -> Result<FollowPermit, AppError> {
        let mut per_user = lock(&self.per_user);
        let mine = per_user.entry(user).or_default();
        if *mine >= self.limits.follows_per_user {
            return Err(AppError::TooManyFollows {
                limit: self.limits.follows_per_user,
                whose: "your",
            });
        }
        let taken = self.open.fetch_add(1, Ordering::SeqCst);
        if taken >= self.limits.follows {
            self.open.fetch_sub(1, Ordering::SeqCst);
            return Err(AppError::TooManyFollows {
                limit: self.limits.follows,
                whose: "this gateway's",
            });
        }
        *mine += 1;
        Ok(FollowPermit {
            follows: self.clone(),
            user,
        })
    }

    /// Follows the current instance of a container (chosen as a read chooses
    /// it) from `start`, sharing the upstream stream with the container's
    /// other followers; `permit` is its place in the limits.
    pub async fn follow(
        self: &Arc<Self>,
        cluster: Arc<Cluster>,
        pod: &PodEntry,
        container: Option<&str>,
        start: Start,
        permit: Option<FollowPermit>,
    ) -> Result<Follow, AppError> {
        let container = choose_container(pod, container)?;
        let key: StreamKey = (
            cluster.name.clone(),
            pod.summary.namespace.clone(),
            pod.summary.name.clone(),
            container,
        );
        let gate = lock(&self.opening).entry(key.clone()).or_default().clone();
        let opening = gate.lock().await;
        let existing = lock(&self.streams).get(&key).and_then(Weak::upgrade);
        if let Some(stream) = existing {
            let joined = {
                let kept = lock(&stream.kept);
                lock(&stream.sender)
                    .as_ref()
                    .map(|sender| (sender.subscribe(), kept.serve(start)))
            };
            if let Some((live, served)) = joined {
                drop(opening);
                self.forget_gate(&key, gate);
                return match served {
                    Some(first) => Ok(Follow {
                        _stream: stream,
                        _permit: permit,
                        first: first.into_iter(),
                        skip_until: None,
                        live,
                    }),
                    None => {
                        // The kept lines do not reach back far enough: one
                        // read of its own, then the shared lines after it.
                        let first = self.read_from(&cluster, &key, start).await?;
                        let skip_until = skip_after(&first);
                        Ok(Follow {
                            _stream: stream,
                            _permit: permit,
                            first: first.into_iter(),
                            skip_until,
                            live,
                        })
                    }
                };
            }
        }
        let opened = self.open_stream(cluster, key.clone(), start, permit).await;
        drop(opening);
        self.forget_gate(&key, gate);
        opened
    }

    /// Drops the gate of `key` when no one else holds it.
    fn forget_gate(&self, key: &StreamKey, gate: Arc<tokio::sync::Mutex<()>>) {
        let mut opening = lock(&self.opening);
        drop(gate);
        if opening.get(key).is_some_and(|g| Arc::strong_count(g) == 1) {
            opening.remove(key);
        }
    }

    /// One timed read of a container's current log from `start`.
    async fn read_from(
        &self,
        cluster: &Cluster,
        key: &StreamKey,
        start: Start,
    ) -> Result<Vec<Arc<LogLine>>, AppError> {
        let upstream = Upstream {
            namespace: &key.1,
            pod: &key.2,
            container: &key.3,
            previous: false,
            follow: false,
            timestamps: true,
            tail_lines: start.tail_lines,
            since: start.since.map(floor_to_second),
            limit_bytes: Some(self.limits.max_bytes as u64),
        };
        let body = upstream.open(cluster).await?;
        let mut reader = LineReader {
            body,
            max: self.limits.line_bytes + TIME_PREFIX + CUT_MARK.len(),
        };
        let mut lines = Vec::new();
        let read_all = async {
            while let Some(raw) = reader.next().await? {
                let line = parse(raw, true, self.limits.line_bytes);
                if start.admits(line.time) {
                    lines.push(Arc::new(line));
                }
            }
            Ok::<_, std::io::Error>(())
        };
        match tokio::time::timeout(cluster.timeout() * 4, read_all).await {
            Ok(Ok(())) => Ok(lines),
            _ => Err(AppError::ClusterUnavailable {
                cluster: cluster.name.clone(),
                reason: "the log stopped before its end",
            }),
        }
    }

    /// Opens the upstream stream of `key` for its first follower.
    async fn open_stream(
        self: &Arc<Self>,
        cluster: Arc<Cluster>,
        key: StreamKey,
        start: Start,
        permit: Option<FollowPermit>,
    ) -> Result<Follow, AppError> {
        let upstream = Upstream {
            namespace: &key.1,
            pod: &key.2,
            container: &key.3,
            previous: false,
            follow: true,
            timestamps: true,
            tail_lines: start.tail_lines,
            since: start.since.map(floor_to_second),
            limit_bytes: None,
        };
        let body = upstream.open(&cluster).await?;
        let (sender, live) = broadcast::channel(FOLLOWER_BACKLOG);
        let stream = Arc::new(SharedStream {
            key: key.clone(),
            kept: Mutex::new(Kept {
                opened_with: start,
                ..Kept::default()
            }),
            sender: Mutex::new(Some(sender)),
            task: Mutex::new(None),
        });
        let task = tokio::spawn(pump(
            Arc::downgrade(&stream),
            cluster,
            body,
            start,
            self.limits.line_bytes,
        ));
        *lock(&stream.task) = Some(task.abort_handle());
        {
            let mut streams = lock(&self.streams);
            streams.retain(|_, s| s.strong_count() > 0);
            streams.insert(key, Arc::downgrade(&stream));
        }
        Ok(Follow {
            _stream: stream,
            _permit: permit,
            first: Vec::new().into_iter(),
            skip_until: None,
            live,
        })
    }
}

/// The time of the last line of `lines` and how many lines have exactly it:
/// where the shared lines a joiner takes after its own read begin.
fn skip_after(lines: &[Arc<LogLine>]) -> Option<(DateTime<Utc>, usize)> {
    let last = lines.last()?.time?;
    let same = lines
        .iter()
        .rev()
        .take_while(|line| line.time == Some(last))
        .count();
    Some((last, same))
}

/// Reads the upstream stream into the shared one until it ends (the
/// container stopped) or its followers are gone; a dropped stream is opened
/// again from its last line's time.
async fn pump(
    stream: Weak<SharedStream>,
    cluster: Arc<Cluster>,
    body: impl AsyncBufRead + Unpin + Send + 'static,
    start: Start,
    line_bytes: usize,
) {
    let mut reader = LineReader {
        body: Box::pin(body) as std::pin::Pin<Box<dyn AsyncBufRead + Send>>,
        max: line_bytes + TIME_PREFIX + CUT_MARK.len(),
    };
    // The last line's time and how many lines had exactly it.
    let mut last: Option<(DateTime<Utc>, usize)> = None;
    let mut attempts = 0;
    let mut opened_at = std::time::Instant::now();
    loop {
        match reader.next().await {
            Ok(Some(raw)) => {
                attempts = 0;
                let line = parse(raw, true, line_bytes);
                if let (Some(time), Some((at, same))) = (line.time, &mut last) {
                    // After a reopen: skip what was sent already.
                    if time < *at {
                        continue;
                    }
                    if time == *at && *same > 0 {
                        *same -= 1;
                        continue;
                    }
                }
                last = None;
                let Some(stream) = stream.upgrade() else {
                    return;
                };
                let line = Arc::new(line);
                let mut kept = lock(&stream.kept);
                kept.push(line.clone());
                if let Some(sender) = lock(&stream.sender).as_ref() {
                    let _ = sender.send(line);
                }
            }
            // A normal end: the container stopped or the pod went away.
            Ok(None) => break,
            Err(err) => {
                // A stream that stayed open a while starts its attempts anew.
                if opened_at.elapsed() >= STREAM_SETTLED {
                    attempts = 0;
                }
                let Some(shared) = stream.upgrade() else {
                    return;
                };
                let (resume, already) = {
                    let kept = lock(&shared.kept);
                    let resume = kept.lines.back().and_then(|line| line.time);
                    let already = resume.map_or(0, |time| {
                        kept.lines
                            .iter()
                            .rev()
                            .take_while(|line| line.time == Some(time))
                            .count()
                    });
                    (resume, already)
                };
                let key = shared.key.clone();
                drop(shared);
                tracing::info!(cluster = %cluster.name, pod = %key.2, error = %err,
                    "log stream dropped; opening it again");
                let reopened = loop {
                    attempts += 1;
                    if attempts > REOPEN_ATTEMPTS {
                        break None;
                    }
                    tokio::time::sleep(Duration::from_millis(100 << attempts)).await;
                    let upstream = Upstream {
                        namespace: &key.1,
                        pod: &key.2,
                        container: &key.3,
                        previous: false,
                        follow: true,
                        timestamps: true,
                        // With no line yet, from where it was opened.
                        tail_lines: resume.is_none().then_some(start.tail_lines).flatten(),
                        since: resume.or(start.since).map(floor_to_second),
                        limit_bytes: None,
                    };
                    if let Ok(body) = upstream.open(&cluster).await {
                        break Some(body);
                    }
                };
                let Some(body) = reopened else {
                    break;
                };
                reader.body = Box::pin(body);
                opened_at = std::time::Instant::now();
                last = resume.map(|time| (time, already));
            }
        }
    }
    if let Some(stream) = stream.upgrade() {
        lock(&stream.sender).take();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> RawLine {
        RawLine {
            bytes: text.as_bytes().to_vec(),
            cut: false,
        }
    }

    #[test]
    fn options_are_checked_as_the_api_server_checks_them() {
        let check = |tail, since_s, since_t: Option<&str>, limit| {
            LogOptions::check(None, false, tail, since_s, since_t, false, limit)
        };
        assert!(check(Some(0), None, None, None).is_ok());
        let field = |r: Result<LogOptions, AppError>| match r {
            Err(AppError::InvalidParameter { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(check(Some(-1), None, None, None)), "tailLines");
        assert_eq!(field(check(None, Some(0), None, None)), "sinceSeconds");
        assert_eq!(field(check(None, None, None, Some(0))), "limitBytes");
        assert_eq!(
            field(check(None, None, Some("yesterday"), None)),
            "sinceTime"
        );
        // Both: the later of the two applies.
        let both = check(None, Some(60), Some("2024-05-01T10:00:00Z"), None).expect("both");
        assert!(both.start.since.expect("since") > Utc::now() - chrono::Duration::seconds(61));
        assert_eq!(
            field(LogOptions::check(
                Some("App!".into()),
                false,
                None,
                None,
                None,
                false,
                None
            )),
            "container"
        );
    }

    #[test]
    fn lines_keep_their_time_and_long_ones_are_cut_on_a_character() {
        let parsed = parse(
            line("2024-05-01T10:00:23.000000001Z hello world"),
            true,
            100,
        );
        assert_eq!(parsed.text, "hello world");
        assert_eq!(
            parsed.time_text().as_deref(),
            Some("2024-05-01T10:00:23.000000001Z")
        );
        assert_eq!(
            parsed.render(true),
            "2024-05-01T10:00:23.000000001Z hello world\n"
        );
        assert_eq!(parsed.render(false), "hello world\n");
        let untimed = parse(line("2024-05-01T10:00:23Z hello"), false, 100);
        assert_eq!(untimed.text, "2024-05-01T10:00:23Z hello");
        let cut = parse(line("ééééé"), false, 5);
        assert_eq!(cut.text, format!("éé{CUT_MARK}"));
        let long = parse(
            RawLine {
                bytes: b"abc".to_vec(),
                cut: true,
            },
            false,
            100,
        );
        assert_eq!(long.text, format!("abc{CUT_MARK}"));
    }

    #[tokio::test]
    async fn a_reader_cuts_long_lines_and_skips_their_rest() {
        let body = futures_util::io::Cursor::new(b"short\nlonger than ten bytes\nlast".to_vec());
        let mut reader = LineReader { body, max: 10 };
        let mut lines = Vec::new();
        while let Some(raw) = reader.next().await.expect("reads") {
            lines.push((String::from_utf8(raw.bytes).expect("utf8"), raw.cut));
        }
        assert_eq!(
            lines,
            [
                ("short".to_owned(), false),
                ("longer tha".to_owned(), true),
                ("last".to_owned(), false)
            ]
        );
    }

    fn timed(second: i64, text: &str) -> Arc<LogLine> {
        Arc::new(LogLine {
            time: DateTime::from_timestamp(1_700_000_000 + second, 0),
            text: text.to_owned(),
        })
    }

    #[test]
    fn kept_lines_serve_a_joiner_only_when_they_reach_back_far_enough() {
        let mut kept = Kept {
            opened_with: Start {
                tail_lines: Some(2),
                since: None,
            },
            ..Kept::default()
        };
        for i in 0..5 {
            kept.push(timed(i, &format!("l{i}")));
        }
        let texts = |lines: Option<Vec<Arc<LogLine>>>| {
            lines.map(|l| l.iter().map(|l| l.text.clone()).collect::<Vec<_>>())
        };
        let tail = |n| Start {
            tail_lines: Some(n),
            since: None,
        };
        assert_eq!(
            texts(kept.serve(tail(2))),
            Some(vec!["l3".into(), "l4".into()])
        );
        assert_eq!(texts(kept.serve(tail(5))).map(|l| l.len()), Some(5));
        assert_eq!(texts(kept.serve(tail(6))), None, "more than kept");
        assert_eq!(texts(kept.serve(Start::default())), None, "the whole log");
        let since = |s: i64| Start {
            tail_lines: None,
            since: DateTime::from_timestamp(1_700_000_000 + s, 0),
        };
        assert_eq!(
            texts(kept.serve(since(3))),
            Some(vec!["l3".into(), "l4".into()])
        );
        assert_eq!(texts(kept.serve(since(0))), None, "may reach before l0");
        // A stream opened on the whole log serves every joiner until it lets
        // a line go.
        let mut whole = Kept::default();
        whole.push(timed(0, "l0"));
        assert!(whole.serve(Start::default()).is_some());
        assert!(whole.serve(since(-10)).is_some());
        for i in 1..=KEPT_LINES as i64 {
            whole.push(timed(i, "x"));
        }
        assert!(whole.serve(Start::default()).is_none());
    }

    #[test]
    fn a_joiner_after_its_own_read_skips_the_lines_it_has() {
        let lines = [timed(1, "a"), timed(2, "b"), timed(2, "c")];
        assert_eq!(
            skip_after(&lines),
            Some((DateTime::from_timestamp(1_700_000_002, 0).expect("time"), 2))
        );
        assert_eq!(skip_after(&[]), None);
    }
}
