//! What one operation may cost: the size of its answer, known before the
//! answer is built.
//!
//! Query complexity is checked before execution and cannot know how many pods
//! a list will hold. So every field that returns pods charges the operation's
//! [`AnswerBudget`] with an estimate of the bytes it is about to produce (its
//! item count, from the cache, times what each item's selection costs, with
//! `json` and `yaml` priced by the size of the pod's object), before it builds
//! anything. Past `OSP_MAX_RESPONSE_BYTES` in all, the field fails with
//! `ResponseTooLarge`; so a dozen aliases of a whole cluster's `json` are
//! refused instead of built. An operation whose answer grows past a quarter of
//! the cap is heavy: each user runs at most [`HEAVY_PER_USER`] of those at
//! once, and further ones wait for a turn (within the request timeout). Over
//! HTTP the turn lasts until the answer is sent (see [`HeldBody`]): answers
//! waiting for slow readers hold memory just as answers being built do.

use std::{
    collections::HashMap,
    convert::Infallible,
    pin::Pin,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use async_graphql::SelectionField;
use axum::body::Bytes;
use http_body::{Frame, SizeHint};
use tokio::sync::{OnceCell, OwnedSemaphorePermit, Semaphore};

use crate::{error::AppError, k8s::entry::PodEntry};

/// Heavy operations one user runs at once, at most.
pub const HEAVY_PER_USER: usize = 2;
/// What one scalar field of an item is taken to cost in the answer: its name,
/// quotes, punctuation and a typical value.
const FIELD_BYTES: u64 = 24;

/// The heavy operations running, per user.
#[derive(Default)]
pub struct HeavyOps {
    users: Mutex<HashMap<i64, Arc<Semaphore>>>,
}

impl HeavyOps {
    /// Waits (at most `wait`) for a turn of `user` among its heavy operations.
    async fn turn(&self, user: i64, wait: Duration) -> Result<OwnedSemaphorePermit, AppError> {
        let slots = {
            let mut users = self.users.lock().unwrap_or_else(|p| p.into_inner());
            // One entry per user that ever ran a heavy operation: users are few.
            users
                .entry(user)
                .or_insert_with(|| Arc::new(Semaphore::new(HEAVY_PER_USER)))
                .clone()
        };
        match tokio::time::timeout(wait, slots.acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(AppError::TooManyRequests { retry_after: 1 }),
        }
    }
}

/// An operation's turn among its user's heavy operations, once it took one.
/// The turn is kept while any handle to it lives: the operation's budget
/// holds one, and the transport may hold another until the answer is sent.
#[derive(Clone, Default)]
pub struct HeavyTurn(Arc<OnceCell<OwnedSemaphorePermit>>);

impl HeavyTurn {
    /// Whether the operation took a turn: its answer is heavy.
    pub fn taken(&self) -> bool {
        self.0.initialized()
    }
}

/// How much of a held answer is handed to the connection at a time.
const SLICE: usize = 256 * 1024;

/// A heavy answer's body, holding the operation's turn until its last slice
/// is taken. It is handed over a slice at a time, and the connection asks
/// for the next slice only once most of the last one is written: so a user
/// whose answers wait for slow (or stalled) readers waits for a turn, as if
/// they were still being built, and the gateway never holds more than
/// [`HEAVY_PER_USER`] heavy answers per user.
pub struct HeldBody {
    rest: Bytes,
    _turn: HeavyTurn,
}

impl HeldBody {
    /// `body`, holding `turn` until it is sent.
    pub fn new(body: Bytes, turn: HeavyTurn) -> Self {
        HeldBody {
            rest: body,
            _turn: turn,
        }
    }
}

impl http_body::Body for HeldBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let rest = &mut self.get_mut().rest;
        if rest.is_empty() {
            return Poll::Ready(None);
        }
        let slice = rest.split_to(rest.len().min(SLICE));
        Poll::Ready(Some(Ok(Frame::data(slice))))
    }

    fn is_end_stream(&self) -> bool {
        self.rest.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.rest.len() as u64)
    }
}

/// One operation's budget: request data, charged by the fields that return pods.
pub struct AnswerBudget {
    limit: u64,
    spent: AtomicU64,
    user: Option<i64>,
    heavy: Arc<HeavyOps>,
    turn: HeavyTurn,
    wait: Duration,
    /// The wait for a turn ended without one.
    no_turn: AtomicBool,
}

impl AnswerBudget {
    /// A budget of `limit` bytes for an operation of `user`, whose turn among
    /// the user's heavy operations is waited for at most `wait` and then kept
    /// in `turn`.
    pub fn new(
        limit: u64,
        user: Option<i64>,
        heavy: Arc<HeavyOps>,
        wait: Duration,
        turn: HeavyTurn,
    ) -> Self {
        AnswerBudget {
            limit,
            spent: AtomicU64::new(0),
            user,
            heavy,
            turn,
            wait,
            no_turn: AtomicBool::new(false),
        }
    }

    /// Adds `bytes` to what the answer is estimated to hold: refused past the
    /// limit; past a quarter of it, the operation first waits for its turn
    /// among the user's heavy operations (and keeps it until it ends).
    pub async fn charge(&self, bytes: u64) -> Result<(), AppError> {
        let spent = self
            .spent
            .fetch_add(bytes, Ordering::Relaxed)
            .saturating_add(bytes);
        if spent > self.limit {
            return Err(AppError::ResponseTooLarge {
                estimate: spent,
                limit: self.limit,
            });
        }
        if let Some(user) = self.user
            && spent > self.limit / 4
        {
            // One wait per operation: once it found no turn, the fields
            // waiting behind it (the cell lets one try at a time) give up
            // at once instead of waiting in turn.
            self.turn
                .0
                .get_or_try_init(|| async {
                    if self.no_turn.load(Ordering::Relaxed) {
                        return Err(AppError::TooManyRequests { retry_after: 1 });
                    }
                    self.heavy
                        .turn(user, self.wait)
                        .await
                        .inspect_err(|_| self.no_turn.store(true, Ordering::Relaxed))
                })
                .await?;
        }
        Ok(())
    }
}

/// The operation's budget (attached by `Executor` to every operation).
pub(crate) fn of<'a>(ctx: &async_graphql::Context<'a>) -> Result<&'a AnswerBudget, AppError> {
    ctx.data_opt::<AnswerBudget>()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("no answer budget attached")))
}

/// What a pod's selection costs, read once per field from its selection set:
/// the estimate of one pod is then a few multiplications.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PodShape {
    /// Scalar fields, and the fields of `node` and `workload`.
    fields: u64,
    /// Fields selected per container (app and init containers alike).
    per_container: u64,
    /// `json` selections.
    json: u64,
    /// `yaml` selections.
    yaml: u64,
}

impl PodShape {
    /// The shape of a selection of `Pod` fields.
    pub fn of<'a>(selection: impl Iterator<Item = SelectionField<'a>>) -> Self {
        let mut shape = PodShape::default();
        for field in selection {
            match field.name() {
                "json" => shape.json += 1,
                "yaml" => shape.yaml += 1,
                "containers" | "initContainers" => {
                    shape.per_container += leaves(field.selection_set());
                }
                _ => shape.fields += leaves(field.selection_set()).max(1),
            }
        }
        shape
    }

    /// The shape of the pods `path` below `field` selects (`&[]`: the field
    /// itself returns pods; `&["edges", "node"]`: a connection's). Aliases of
    /// one step add up.
    pub fn at(field: &SelectionField<'_>, path: &[&str]) -> Self {
        match path.split_first() {
            None => Self::of(field.selection_set()),
            Some((step, rest)) => field
                .selection_set()
                .filter(|child| child.name() == *step)
                .map(|child| Self::at(&child, rest))
                .fold(Self::default(), |a, b| PodShape {
                    fields: a.fields + b.fields,
                    per_container: a.per_container + b.per_container,
                    json: a.json + b.json,
                    yaml: a.yaml + b.yaml,
                }),
        }
    }

    /// The estimated bytes of one pod of this shape in an answer.
    pub fn estimate(&self, pod: &PodEntry) -> u64 {
        let containers = (pod.summary.containers.len() + pod.summary.init_containers.len()) as u64;
        // YAML of a pod is about as long as its JSON.
        (self.fields + self.per_container * containers) * FIELD_BYTES
            + (self.json + self.yaml) * pod.json_len() as u64
    }

    /// The estimated bytes of `pods` in an answer.
    pub fn estimate_all<'p>(&self, pods: impl IntoIterator<Item = &'p Arc<PodEntry>>) -> u64 {
        pods.into_iter().map(|pod| self.estimate(pod)).sum()
    }
}

/// What an object's selection costs (objects of every kind but Pod), read
/// once per field: leaf fields at [`FIELD_BYTES`] each, labels per label,
/// `json`/`yaml` by the object's JSON length. Lists under it (`events`,
/// `pods` and other relations) are priced by their own resolvers, item by
/// item, when they are read.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ResourceShape {
    fields: u64,
    labels: u64,
    json: u64,
}

impl ResourceShape {
    /// The shape of a selection of an object's fields.
    pub fn of<'a>(selection: impl Iterator<Item = SelectionField<'a>>) -> Self {
        let mut shape = ResourceShape::default();
        for field in selection {
            match field.name() {
                // YAML of an object is about as long as its JSON.
                "json" | "yaml" => shape.json += 1,
                "labels" => shape.labels += leaves(field.selection_set()).max(1),
                // Relations price themselves when they run.
                "events" | "pods" | "replicaSets" | "jobs" | "owner" => shape.fields += 1,
                _ => shape.fields += leaves(field.selection_set()).max(1),
            }
        }
        shape
    }

    /// The shape of the objects at `path` under `field` (e.g. `edges`,
    /// `node` of a connection).
    pub fn at(field: &SelectionField<'_>, path: &[&str]) -> Self {
        let mut level: Vec<SelectionField<'_>> = vec![*field];
        for name in path {
            level = level
                .iter()
                .flat_map(|f| f.selection_set())
                .filter(|f| f.name() == *name)
                .collect();
        }
        Self::of(level.iter().flat_map(|f| f.selection_set()))
    }

    /// The estimated bytes of one object with `labels` labels and a JSON
    /// text of `json_len` bytes.
    pub fn estimate(&self, labels: usize, json_len: usize) -> u64 {
        (self.fields + self.labels * labels as u64) * FIELD_BYTES + self.json * json_len as u64
    }
}

/// The estimated length of a cursor of an object of `cluster` with this
/// identity (see [`cursor_bytes`]).
pub fn identity_cursor_bytes(cluster: &str, namespace: &str, name: &str) -> u64 {
    let identity = cluster.len() + namespace.len() + name.len();
    ((2 * identity + 128) * 4 / 3 + 4) as u64
}

/// What a connection's answer holds besides its pods: per edge, each field
/// selected beside `node` (cursors priced by their length, `__typename` and
/// the like as fields); once, `pageInfo`, `totalCount` and their kind; per
/// cluster part, its fields. Aliases add up, so a hundred aliases of `cursor`
/// cost a hundred cursors per edge.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionShape {
    /// Fields per edge other than `node` and cursors.
    per_edge: u64,
    /// Cursors per edge.
    cursors_per_edge: u64,
    /// Fields once per page (`totalCount`, `pageInfo`'s flags).
    once: u64,
    /// Cursors once per page (`pageInfo`'s start and end).
    cursors_once: u64,
    /// Fields per cluster part.
    per_part: u64,
}

impl ConnectionShape {
    /// The shape of a connection field's selection.
    pub fn of(field: &SelectionField<'_>) -> Self {
        let mut shape = ConnectionShape::default();
        for child in field.selection_set() {
            match child.name() {
                "edges" => {
                    for part in child.selection_set() {
                        match part.name() {
                            "node" => {}
                            "cursor" => shape.cursors_per_edge += 1,
                            _ => shape.per_edge += leaves(part.selection_set()).max(1),
                        }
                    }
                    shape.once += 1;
                }
                "clusters" => shape.per_part += leaves(child.selection_set()).max(1),
                "pageInfo" => {
                    for part in child.selection_set() {
                        if part.name().ends_with("Cursor") {
                            shape.cursors_once += 1;
                        } else {
                            shape.once += 1;
                        }
                    }
                }
                _ => shape.once += leaves(child.selection_set()).max(1),
            }
        }
        shape
    }

    /// The estimated bytes of a page whose edges' cursors are estimated at
    /// `cursors` (one per edge), with `parts` cluster parts.
    pub fn estimate(&self, cursors: impl Iterator<Item = u64>, parts: usize) -> u64 {
        let (mut edges, mut cursor_bytes, mut longest) = (0u64, 0u64, 0u64);
        for cursor in cursors {
            edges += 1;
            cursor_bytes += cursor;
            longest = longest.max(cursor);
        }
        (self.per_edge * edges + self.once + self.per_part * parts as u64) * FIELD_BYTES
            + self.cursors_per_edge * (cursor_bytes + edges * FIELD_BYTES)
            + self.cursors_once * (longest + FIELD_BYTES)
    }
}

/// Refuses `response` when it would be longer than `limit` bytes as JSON
/// (it is counted, not written, and the count stops at the limit).
pub fn measure(response: &async_graphql::Response, limit: u64) -> Result<(), AppError> {
    struct Count {
        bytes: u64,
        limit: u64,
    }
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.bytes += buf.len() as u64;
            if self.bytes > self.limit {
                return Err(std::io::Error::other("over the limit"));
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count { bytes: 0, limit };
    match serde_json::to_writer(&mut count, response) {
        Ok(()) => Ok(()),
        Err(_) if count.bytes > limit => Err(AppError::ResponseTooLarge {
            estimate: count.bytes,
            limit,
        }),
        Err(err) => Err(AppError::internal(anyhow::Error::from(err))),
    }
}

/// The estimated length of the cursor of `pod` in `cluster`: its position
/// (a sort value at most as long as its identity, and the identity), as
/// JSON, in base64.
pub fn cursor_bytes(cluster: &str, pod: &PodEntry) -> u64 {
    let identity = cluster.len() + pod.summary.namespace.len() + pod.summary.name.len();
    ((2 * identity + 96) * 4 / 3 + 4) as u64
}

/// The estimated bytes of an error with `message` naming `clusters` (its
/// path, code and punctuation besides).
pub fn error_bytes(message: &str, clusters: &[String]) -> u64 {
    (128 + message.len() + clusters.iter().map(|c| c.len() + 3).sum::<usize>()) as u64
}

/// The leaf fields under a selection (at least one per field).
fn leaves<'a>(selection: impl Iterator<Item = SelectionField<'a>>) -> u64 {
    selection
        .map(|field| leaves(field.selection_set()).max(1))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(limit: u64, user: Option<i64>, heavy: &Arc<HeavyOps>) -> AnswerBudget {
        AnswerBudget::new(
            limit,
            user,
            heavy.clone(),
            Duration::from_millis(50),
            HeavyTurn::default(),
        )
    }

    #[tokio::test]
    async fn charges_past_the_limit_are_refused_with_the_estimate() {
        let heavy = Arc::default();
        let budget = budget(1000, None, &heavy);
        assert!(budget.charge(600).await.is_ok());
        let err = budget.charge(600).await.expect_err("over the limit");
        assert!(
            matches!(
                err,
                AppError::ResponseTooLarge {
                    estimate: 1200,
                    limit: 1000
                }
            ),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_user_runs_two_heavy_operations_at_once_and_the_third_waits() {
        let heavy = Arc::default();
        let (one, two, three) = (
            budget(1000, Some(7), &heavy),
            budget(1000, Some(7), &heavy),
            budget(1000, Some(7), &heavy),
        );
        one.charge(300).await.expect("first heavy");
        two.charge(300).await.expect("second heavy");
        let err = three.charge(300).await.expect_err("no third turn");
        assert!(matches!(err, AppError::TooManyRequests { .. }), "{err:?}");
        assert!(
            budget(1000, Some(8), &heavy).charge(300).await.is_ok(),
            "other users have their own turns"
        );
        assert!(
            budget(1000, Some(7), &heavy).charge(200).await.is_ok(),
            "light operations need no turn"
        );
        drop(one);
        budget(1000, Some(7), &heavy)
            .charge(300)
            .await
            .expect("a turn freed by an ended operation");
    }

    #[tokio::test]
    async fn an_operation_that_found_no_turn_waits_no_more() {
        let heavy = Arc::default();
        let (one, two) = (budget(1000, Some(7), &heavy), budget(1000, Some(7), &heavy));
        one.charge(300).await.expect("first heavy");
        two.charge(300).await.expect("second heavy");
        let third = budget(1000, Some(7), &heavy);
        // Ten fields of one operation, at once: one wait, not ten in turn.
        let started = std::time::Instant::now();
        let fields = futures_util::future::join_all(
            (0..10).map(|i| third.charge(if i == 0 { 260 } else { 0 })),
        )
        .await;
        assert!(fields.iter().all(Result::is_err), "{fields:?}");
        // One wait is 50 ms; ten in turn would be 500.
        assert!(
            started.elapsed() < Duration::from_millis(200),
            "waited in turn: {:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn one_operation_takes_one_turn_however_many_fields_charge_it() {
        let heavy = Arc::default();
        let one = budget(1000, Some(7), &heavy);
        for _ in 0..3 {
            one.charge(300).await.expect("same operation");
        }
        budget(1000, Some(7), &heavy)
            .charge(300)
            .await
            .expect("the second turn is still free");
    }

    #[tokio::test]
    async fn a_turn_lasts_while_a_handle_of_it_lives() {
        let heavy = Arc::default();
        let turn = HeavyTurn::default();
        let held = AnswerBudget::new(
            1000,
            Some(7),
            Arc::clone(&heavy),
            Duration::from_millis(50),
            turn.clone(),
        );
        assert!(!turn.taken());
        held.charge(300).await.expect("first heavy");
        assert!(turn.taken());
        let second = budget(1000, Some(7), &heavy);
        second.charge(300).await.expect("second heavy");
        drop(held);
        budget(1000, Some(7), &heavy)
            .charge(300)
            .await
            .expect_err("the body still holds it");
        drop(turn);
        budget(1000, Some(7), &heavy)
            .charge(300)
            .await
            .expect("freed with the last handle");
    }

    #[tokio::test]
    async fn held_bodies_are_handed_over_in_slices_and_keep_their_length() {
        use http_body::Body;
        let body = Bytes::from(vec![b'x'; SLICE * 2 + 1]);
        let mut held = HeldBody::new(body.clone(), HeavyTurn::default());
        assert_eq!(held.size_hint().exact(), Some(body.len() as u64));
        let mut sizes = Vec::new();
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut held).poll_frame(cx)).await
        {
            sizes.push(
                frame
                    .expect("infallible")
                    .into_data()
                    .map_or(0, |d| d.len()),
            );
        }
        assert_eq!(sizes, [SLICE, SLICE, 1]);
    }
}
