//! Group commit across requests: pushes that arrive while another is being
//! written wait for one writer task, which applies them together in ONE write
//! transaction — each in a savepoint of its own, so one that fails is undone
//! alone — and answers them all after its one commit.
//!
//! Why: a commit costs an `fsync` (SQLite `synchronous = FULL`, PostgreSQL's
//! default), and on PostgreSQL every writer of every server process holds the
//! `sync_state` row lock from its first statement to its commit
//! (`store::Store::begin_immediate`). One push per transaction made both the
//! price of every request at a deadline; one transaction per group of waiting
//! pushes pays them once for the group. A push is still applied, answered and
//! acknowledged together or not at all: nobody is answered before the commit.
//!
//! It also sheds load: when more pushes wait than the writer clears in a few
//! seconds, a new one is answered 503 with `Retry-After` at once (the app keeps
//! its outbox and retries) instead of queueing until the phone gives up; and a
//! push that waited too long (the phone has most likely given up) is answered
//! 503 without being applied.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, SubsecRound, Utc};
use danvan_core::sync::{PushRequest, PushResponse};
use tokio::sync::{mpsc, oneshot};

use crate::error::AppError;
use crate::state::AppState;
use crate::store::{is_transient, StoreError, User, WriteTx};
use crate::sync::{check_before_lock, push_in, reload_catalog_if_moved};

/// A push that waited this long is answered 503 without being applied.
pub const MAX_WAIT: Duration = Duration::from_secs(10);
/// A group ends once it holds this many mutations (or [`MAX_GROUP_PUSHES`]
/// pushes): a larger one would make its first push wait for the last.
pub const MAX_GROUP_MUTATIONS: usize = 1_000;
pub const MAX_GROUP_PUSHES: usize = 200;

/// The sending side of the writer task; cheap to clone (one per `AppState`).
#[derive(Clone)]
pub struct PushQueue {
    jobs: mpsc::UnboundedSender<Job>,
    waiting: Arc<AtomicUsize>,
    counts: Arc<Counts>,
    /// Beyond this many waiting pushes a new one is refused at once
    /// (`DANVAN_MAX_WAITING_PUSHES`).
    max_waiting: usize,
}

/// What the writer has done so far (for tests and logs).
#[derive(Default)]
struct Counts {
    queued: AtomicU64,
    commits: AtomicU64,
}

struct Job {
    /// The writer holds no state of its own between groups, so it ends when the
    /// last `AppState` (and with it the last sender) is dropped.
    state: AppState,
    user: User,
    device_id: Option<i64>,
    req: PushRequest,
    /// When the server received the push: what "on time" is judged by, however
    /// long the push then waited.
    received: DateTime<Utc>,
    queued_at: Instant,
    reply: oneshot::Sender<Result<PushResponse, AppError>>,
}

impl PushQueue {
    /// Starts the writer task (needs a running Tokio runtime).
    pub fn start(max_waiting: usize) -> PushQueue {
        let (jobs, rx) = mpsc::unbounded_channel();
        let waiting = Arc::new(AtomicUsize::new(0));
        let counts = Arc::new(Counts::default());
        tokio::spawn(run_writer(rx, waiting.clone(), counts.clone()));
        PushQueue { jobs, waiting, counts, max_waiting }
    }

    /// Pushes handed to the writer since start.
    pub fn queued(&self) -> u64 {
        self.counts.queued.load(Ordering::Relaxed)
    }

    /// Transactions the writer committed since start (one per group).
    pub fn commits(&self) -> u64 {
        self.counts.commits.load(Ordering::Relaxed)
    }

    /// How many pushes wait for the writer now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Applies `req` for `user` (signed in on `device_id`, whose last sync time
    /// is written with it) and answers after the commit that made it durable.
    pub async fn push(
        &self,
        state: &AppState,
        user: &User,
        device_id: Option<i64>,
        req: PushRequest,
    ) -> Result<PushResponse, AppError> {
        let received = Utc::now().trunc_subsecs(0);
        // Refused requests never wait for the writer.
        check_before_lock(state, user, &req).await?;
        if self.waiting.fetch_add(1, Ordering::Relaxed) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::Relaxed);
            return Err(busy("too many pushes waiting"));
        }
        let (reply, answer) = oneshot::channel();
        let job = Job {
            state: state.clone(),
            user: user.clone(),
            device_id,
            req,
            received,
            queued_at: Instant::now(),
            reply,
        };
        if self.jobs.send(job).is_err() {
            self.waiting.fetch_sub(1, Ordering::Relaxed);
            return Err(AppError::internal("the push writer has stopped"));
        }
        self.counts.queued.fetch_add(1, Ordering::Relaxed);
        answer.await.unwrap_or_else(|_| Err(AppError::internal("the push writer dropped a push")))
    }
}

/// 503 with `Retry-After`: the app keeps the push in its outbox and sends it again.
fn busy(detail: &str) -> AppError {
    AppError::Unavailable(detail.to_string())
}

async fn run_writer(mut rx: mpsc::UnboundedReceiver<Job>, waiting: Arc<AtomicUsize>, counts: Arc<Counts>) {
    while let Some(first) = rx.recv().await {
        let mut mutations = first.req.mutations.len();
        let mut group = vec![first];
        while group.len() < MAX_GROUP_PUSHES && mutations < MAX_GROUP_MUTATIONS {
            let Ok(job) = rx.try_recv() else { break };
            mutations += job.req.mutations.len();
            group.push(job);
        }
        waiting.fetch_sub(group.len(), Ordering::Relaxed);
        if write_group(group).await {
            counts.commits.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Applies a group in one transaction and answers each push; true when it
/// committed.
async fn write_group(group: Vec<Job>) -> bool {
    let mut live = Vec::with_capacity(group.len());
    for job in group {
        if job.reply.is_closed() {
            // The request is gone (the phone hung up): nobody would hear the
            // answer, and its retry will do the work.
            continue;
        }
        if job.queued_at.elapsed() > MAX_WAIT {
            let _ = job.reply.send(Err(busy("a push waited too long for the writer")));
            continue;
        }
        live.push(job);
    }
    let Some(first) = live.first() else { return false };
    let state = first.state.clone();
    let mut tx = match state.store.begin_write().await {
        Ok(tx) => tx,
        Err(e) => return answer_all(live, &e),
    };
    if let Err(e) = reload_catalog_if_moved(&state, &tx).await {
        tracing::error!(error = %e, "không tải lại được danh mục trước khi ghi");
        return answer_all(live, &StoreError::Corrupt(e.to_string()));
    }
    let alone = live.len() == 1;
    let mut answers: Vec<(Job, Result<PushResponse, AppError>)> = Vec::with_capacity(live.len());
    for job in live {
        if alone {
            // Nothing else in the transaction: a push that fails rolls it all
            // back (dropping `tx`), without the cost of a savepoint.
            match push_in(&mut tx, &job.state, &job.user, &job.req, job.received).await {
                Ok(res) => answers.push((job, Ok(res))),
                Err(e) => {
                    let _ = job.reply.send(Err(e));
                    return false;
                }
            }
            continue;
        }
        match in_savepoint(&mut tx, &job).await {
            Ok(answer) => answers.push((job, answer)),
            // The transaction itself failed: nothing of the group can commit.
            Err(e) => {
                let mut jobs: Vec<Job> = answers.into_iter().map(|(j, _)| j).collect();
                jobs.push(job);
                return answer_all(jobs, &e);
            }
        }
    }
    let devices: Vec<i64> =
        answers.iter().filter(|(_, answer)| answer.is_ok()).filter_map(|(job, _)| job.device_id).collect();
    let committed = async {
        tx.touch_devices(&devices, Utc::now().trunc_subsecs(0)).await?;
        tx.commit().await
    }
    .await;
    if let Err(e) = committed {
        return answer_all(answers.into_iter().map(|(j, _)| j).collect(), &e);
    }
    for (job, answer) in answers {
        let _ = job.reply.send(answer);
    }
    true
}

/// One push of a group, in a savepoint: the outer error is a failure of the
/// transaction itself; the inner result is this push's own answer (a refusal, or a
/// database error, undone back to the savepoint).
async fn in_savepoint(tx: &mut WriteTx, job: &Job) -> Result<Result<PushResponse, AppError>, StoreError> {
    let savepoint = tx.savepoint().await?;
    match push_in(tx, &job.state, &job.user, &job.req, job.received).await {
        Ok(res) => {
            tx.release(savepoint).await?;
            Ok(Ok(res))
        }
        Err(e) => {
            tx.rollback_to(savepoint).await?;
            Ok(Err(e))
        }
    }
}

/// Answers every push with the failure of the group's transaction; false (no
/// commit).
fn answer_all(jobs: Vec<Job>, error: &StoreError) -> bool {
    let transient = matches!(error, StoreError::Db(e) if is_transient(e));
    for job in jobs {
        let e =
            if transient { AppError::Unavailable(error.to_string()) } else { AppError::Internal(error.to_string()) };
        let _ = job.reply.send(Err(e));
    }
    false
}
