//! The audit trail: who changed what, every sign-in, and single-pod reads.
//!
//! A change's event is written with [`record`] in the same database
//! transaction as the change, so there is never a change without its record nor
//! a record of a change that did not happen. A sign-in's event is one insert.
//! A refused change is noted in the operation's [`Refusals`] and written with
//! the operation's other refusals when it ends, before its answer: one insert
//! however many aliases one operation had refused.
//! Pod reads change nothing, so they are queued and written in batches by a
//! background task ([`AuditLog::reads`]): a read waits for the queue, never for
//! the database, and when the queue has no room for its events within
//! [`QUEUE_WAIT`] the read is refused (no read without its record). Every
//! answer that carries a pod's object (`json`, `yaml`) is a read.
//!
//! Nothing secret enters an event: callers pass names, field names and codes,
//! never a password, hash or token. Events older than the retention
//! (`OSP_AUDIT_RETENTION`) are pruned in the background.

use std::{
    net::IpAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::{NaiveDateTime, SubsecRound, Utc};
use entity::audit_event;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use tokio::sync::mpsc;

use crate::{
    error::{AppError, ErrorCode},
    metrics::Metrics,
};

/// What was done. The stored (and shown) name is the variant's in snake_case.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString, strum::VariantArray,
)]
#[strum(serialize_all = "snake_case")]
pub enum Action {
    /// A sign-in attempt (successful or not).
    Login,
    /// A user was created.
    UserCreated,
    /// A user was changed.
    UserUpdated,
    /// A user's grants were replaced.
    GrantsSet,
    /// One pod was read in full.
    PodRead,
    /// A container's log was read, or a follow of it started.
    PodLogsRead,
    /// An object of another kind than Pod was shown unredacted (detail
    /// `revealed`).
    ObjectRead,
    /// A group's grants were replaced.
    GroupGrantsSet,
    /// A user signed out (every token of theirs ended).
    SignOut,
}

impl Action {
    /// Every action.
    pub const ALL: &'static [Action] = <Action as strum::VariantArray>::VARIANTS;

    /// The stored (and shown) name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Reads a stored name back.
    pub fn parse(text: &str) -> Option<Action> {
        text.parse().ok()
    }
}

/// Who acts and from where: the part of an event that comes from the request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// The signed-in user's name (for a sign-in: the name tried).
    pub actor: Option<String>,
    /// The client's address.
    pub client: Option<IpAddr>,
    /// The request's id.
    pub request_id: Option<String>,
}

/// One event to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Who and from where.
    pub origin: Origin,
    /// What was done.
    pub action: Action,
    /// To what.
    pub target: Option<String>,
    /// `Success` or the error code.
    pub outcome: ErrorCode,
    /// More about it (field names, grants), never a secret.
    pub detail: Option<String>,
}

/// Longest text kept per column (longer text is cut): the column sizes of the
/// migration.
const MAX_ACTOR: usize = 64;
const MAX_TARGET: usize = 600;
const MAX_DETAIL: usize = 255;
const MAX_REQUEST_ID: usize = 64;

fn cut(text: Option<String>, max: usize) -> Option<String> {
    text.map(|t| t.chars().take(max).collect())
}

fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(0)
}

fn row(event: Event) -> audit_event::ActiveModel {
    audit_event::ActiveModel {
        time: Set(now()),
        actor: Set(cut(event.origin.actor, MAX_ACTOR)),
        action: Set(event.action.as_str().to_owned()),
        target: Set(cut(event.target, MAX_TARGET)),
        outcome: Set(event.outcome.as_str().to_owned()),
        detail: Set(cut(event.detail, MAX_DETAIL)),
        client_address: Set(event.origin.client.map(|ip| ip.to_string())),
        request_id: Set(cut(event.origin.request_id, MAX_REQUEST_ID)),
        ..Default::default()
    }
}

/// Records one event on `db` (a transaction, for changes).
pub async fn record(db: &impl ConnectionTrait, event: Event) -> Result<(), AppError> {
    audit_event::Entity::insert(row(event)).exec(db).await?;
    Ok(())
}

/// The refused changes of one operation, written together when it ends
/// ([`Refusals::record`]), each as its own event: a document of hundreds of
/// refused aliases costs one insert, not one per alias. Events still unwritten
/// when it is dropped (the operation timed out) are written in the background.
pub struct Refusals {
    db: DatabaseConnection,
    pending: std::sync::Mutex<Vec<Event>>,
}

impl Refusals {
    /// No refusals yet, to be written to `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Refusals {
            db,
            pending: std::sync::Mutex::default(),
        }
    }

    /// Notes a refused change.
    pub fn note(&self, event: Event) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.push(event);
        }
    }

    fn take(&self) -> Vec<Event> {
        self.pending
            .lock()
            .map(|mut pending| std::mem::take(&mut *pending))
            .unwrap_or_default()
    }

    /// Writes the refusals noted so far.
    pub async fn record(&self) -> Result<(), AppError> {
        write_all(&self.db, self.take()).await
    }
}

impl Drop for Refusals {
    fn drop(&mut self) {
        let events = self.take();
        if events.is_empty() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::error!(events = events.len(), "refused changes left unrecorded");
            return;
        };
        let db = self.db.clone();
        runtime.spawn(async move {
            if let Err(err) = write_all(&db, events).await {
                tracing::error!("cannot record refused changes: {err}");
            }
        });
    }
}

/// Writes `events`, [`BATCH`] per insert.
async fn write_all(db: &DatabaseConnection, mut events: Vec<Event>) -> Result<(), AppError> {
    while !events.is_empty() {
        let rest = events.split_off(events.len().min(BATCH));
        audit_event::Entity::insert_many(events.into_iter().map(row))
            .exec(db)
            .await?;
        events = rest;
    }
    Ok(())
}

/// A page of events, newest first, after the event with id `after`.
pub async fn list(
    db: &impl ConnectionTrait,
    first: u64,
    after: Option<i64>,
    actor: Option<&str>,
    action: Option<Action>,
) -> Result<(Vec<audit_event::Model>, bool), AppError> {
    let mut query = audit_event::Entity::find().order_by_desc(audit_event::Column::Id);
    if let Some(after) = after {
        query = query.filter(audit_event::Column::Id.lt(after));
    }
    if let Some(actor) = actor {
        query = query.filter(audit_event::Column::Actor.eq(actor));
    }
    if let Some(action) = action {
        query = query.filter(audit_event::Column::Action.eq(action.as_str()));
    }
    let mut rows = query.limit(first + 1).all(db).await?;
    let more = rows.len() as u64 > first;
    rows.truncate(usize::try_from(first).unwrap_or(usize::MAX));
    Ok((rows, more))
}

/// Deletes events older than `retention`; how many.
pub async fn prune(db: &impl ConnectionTrait, retention: Duration) -> Result<u64, AppError> {
    let keep_from = chrono::Duration::from_std(retention)
        .ok()
        .and_then(|r| now().checked_sub_signed(r));
    let Some(keep_from) = keep_from else {
        return Ok(0);
    };
    let done = audit_event::Entity::delete_many()
        .filter(audit_event::Column::Time.lt(keep_from))
        .exec(db)
        .await?;
    Ok(done.rows_affected)
}

/// Events waiting to be written at most (past it, reads wait for room).
const QUEUE_LEN: usize = 10_000;
/// Events written per insert at most.
const BATCH: usize = 200;
/// How often old events are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(60 * 60);
/// How long a read waits for room in the queue before it is refused.
pub const QUEUE_WAIT: Duration = Duration::from_secs(2);
/// At most one warning this often about refused reads (with their count).
const WARN_EVERY: Duration = Duration::from_secs(10);

/// The background side of the trail: queued read events and pruning, in one
/// task per gateway.
#[derive(Clone)]
pub struct AuditLog {
    reads: mpsc::Sender<Event>,
    wait: Duration,
    metrics: Metrics,
    refusals: Arc<Throttled>,
}

/// Refusals counted between throttled warnings.
#[derive(Default)]
struct Throttled {
    state: std::sync::Mutex<(Option<Instant>, u64)>,
}

impl Throttled {
    /// Counts one refusal; the count to warn about when a warning is due.
    fn count(&self) -> Option<u64> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.1 += 1;
        let due = state.0.is_none_or(|last| last.elapsed() >= WARN_EVERY);
        due.then(|| {
            let count = state.1;
            *state = (Some(Instant::now()), 0);
            count
        })
    }
}

impl AuditLog {
    /// Starts the background task on `db`: it writes queued read events and
    /// prunes old events (at start and every hour), and ends when the last
    /// handle is dropped, taking its database handle with it.
    pub fn start(db: DatabaseConnection, retention: Duration, metrics: Metrics) -> Self {
        Self::with_queue(db, retention, metrics, QUEUE_LEN, QUEUE_WAIT)
    }

    fn with_queue(
        db: DatabaseConnection,
        retention: Duration,
        metrics: Metrics,
        len: usize,
        wait: Duration,
    ) -> Self {
        let (reads, mut queue) = mpsc::channel::<Event>(len);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            let mut prune_every = tokio::time::interval(PRUNE_EVERY);
            loop {
                tokio::select! {
                    received = queue.recv_many(&mut batch, BATCH) => {
                        if received == 0 {
                            return; // every handle is gone
                        }
                        write(&db, &mut batch).await;
                    }
                    _ = prune_every.tick() => match prune(&db, retention).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(events = n, "pruned old audit events"),
                        Err(err) => err.log_if_internal(),
                    },
                }
            }
        });
        AuditLog {
            reads,
            wait,
            metrics,
            refusals: Arc::default(),
        }
    }

    /// Queues the events of a read, all or none: when the queue has no room
    /// for them within [`QUEUE_WAIT`], the read must not be answered, and
    /// this says `ServiceUnavailable` (counted in `osp_audit_refused_total`,
    /// with one warning now and then, never a line per event).
    pub async fn reads(&self, events: Vec<Event>) -> Result<(), AppError> {
        if events.is_empty() {
            return Ok(());
        }
        let room = tokio::time::timeout(self.wait, self.reads.reserve_many(events.len())).await;
        match room {
            Ok(Ok(permits)) => {
                for (permit, event) in permits.zip(events) {
                    permit.send(event);
                }
                Ok(())
            }
            _ => {
                self.metrics.audit_refused();
                if let Some(count) = self.refusals.count() {
                    tracing::warn!(
                        refused = count,
                        "the audit trail cannot keep up: reads refused until it does"
                    );
                }
                Err(AppError::ServiceUnavailable { retry_after: 1 })
            }
        }
    }
}

/// Writes a batch of queued events (emptying it), trying once more after a
/// pause when the database refuses; a batch that fails twice is logged.
async fn write(db: &DatabaseConnection, batch: &mut Vec<Event>) {
    let events = std::mem::take(batch);
    for attempt in 0..2 {
        let rows = events.iter().cloned().map(row);
        match audit_event::Entity::insert_many(rows).exec(db).await {
            Ok(_) => return,
            Err(err) if attempt == 0 => {
                tracing::warn!("cannot write read events to the audit trail, retrying: {err}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(err) => tracing::error!(
                events = events.len(),
                "cannot write read events to the audit trail: {err}"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_reads_back_from_its_name() {
        for &action in Action::ALL {
            assert_eq!(Action::parse(action.as_str()), Some(action));
        }
        assert_eq!(Action::parse("password_read"), None);
    }

    fn read(target: &str) -> Event {
        Event {
            origin: Origin::default(),
            action: Action::PodRead,
            target: Some(target.to_owned()),
            outcome: ErrorCode::Success,
            detail: None,
        }
    }

    fn refusal(i: usize) -> Event {
        Event {
            origin: Origin::default(),
            action: Action::UserUpdated,
            target: Some(format!("u{i}")),
            outcome: ErrorCode::Forbidden,
            detail: None,
        }
    }

    #[tokio::test]
    async fn reads_the_trail_cannot_take_in_time_are_refused_and_counted() {
        // No audit table: every write fails and is tried again after a
        // pause, so the writer holds its batch and the queue stays full.
        let db = sea_orm::Database::connect("sqlite::memory:")
            .await
            .expect("database");
        let metrics = Metrics::new();
        let log = AuditLog::with_queue(
            db,
            Duration::from_secs(3600),
            metrics.clone(),
            2,
            Duration::from_millis(50),
        );
        log.reads(vec![read("a")]).await.expect("queued");
        tokio::time::sleep(Duration::from_millis(20)).await; // taken by the writer
        log.reads(vec![read("b"), read("c")]).await.expect("queued");
        let err = log.reads(vec![read("d")]).await.expect_err("no room");
        assert_eq!(err.code(), ErrorCode::ServiceUnavailable);
        let err = log
            .reads(vec![read("e"), read("f"), read("g")])
            .await
            .expect_err("more than the queue holds");
        assert_eq!(err.code(), ErrorCode::ServiceUnavailable);
        assert!(
            metrics.render().contains("osp_audit_refused_total 2"),
            "{}",
            metrics.render()
        );
    }

    #[test]
    fn refusals_warn_once_in_a_while_with_their_count() {
        let throttled = Throttled::default();
        assert_eq!(throttled.count(), Some(1));
        assert_eq!(throttled.count(), None);
        assert_eq!(throttled.count(), None);
        throttled.state.lock().expect("lock").0 = Some(Instant::now() - WARN_EVERY);
        assert_eq!(throttled.count(), Some(3));
    }

    async fn stored(db: &DatabaseConnection) -> usize {
        list(db, 10_000, None, None, None)
            .await
            .expect("lists")
            .0
            .len()
    }

    #[tokio::test]
    async fn refusals_are_written_each_as_its_own_event_in_batches() {
        let db = crate::db::connect("sqlite::memory:").await.expect("db");
        let refusals = Refusals::new(db.clone());
        for i in 0..(2 * BATCH + 50) {
            refusals.note(refusal(i));
        }
        refusals.record().await.expect("written");
        assert_eq!(stored(&db).await, 2 * BATCH + 50);
        refusals.record().await.expect("nothing more");
        assert_eq!(stored(&db).await, 2 * BATCH + 50, "each written once");
    }

    #[tokio::test]
    async fn refusals_of_an_operation_cut_short_are_still_written() {
        let db = crate::db::connect("sqlite::memory:").await.expect("db");
        let refusals = Refusals::new(db.clone());
        refusals.note(refusal(1));
        drop(refusals);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while stored(&db).await == 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(stored(&db).await, 1);
    }

    #[test]
    fn long_text_is_cut_to_the_column() {
        assert_eq!(cut(Some("x".repeat(300)), 64).map(|t| t.len()), Some(64));
    }
}
