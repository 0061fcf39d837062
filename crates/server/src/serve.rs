//! The HTTP/1.1 accept loop, with the limits a server facing the internet needs
//! whatever sits in front of it: `axum::serve` has no timeouts and no connection
//! cap, so a client that opens connections and never finishes a request (or never
//! reads its answer) could hold the process's sockets and memory for ever.
//!
//! Every connection is served by hyper directly and watched by a small state
//! machine (`Activity`) fed from its socket reads and writes and from its
//! requests starting and ending:
//!
//! | phase | limit | enforced by |
//! |---|---|---|
//! | connected, request head incomplete | [`Limits::header_timeout`] from the accept (first request) or from the first byte of a later request | `serve_connection`: closed |
//! | kept alive between requests, nothing sent | [`Limits::idle_timeout`] | `serve_connection`: closed |
//! | request body arriving | [`Limits::body_timeout`] between two chunks | `TimedBody`: 408 JSON, then closed |
//! | handler working on the request | [`Limits::request_timeout`] until the response head, not counting waits for the body | `handle`: 503 JSON, then closed |
//! | response being written, client not reading | [`Limits::body_timeout`] without progress | `serve_connection`: closed |
//! | connections at once | [`Limits::max_connections`] | accept loop: new ones wait in the listen backlog |
//!
//! The time limit leaves out the time spent waiting for the client's body: the
//! app gives a photo upload two minutes on 2G (`src/api.rs`), and a slow but
//! steady upload is not the server being slow. The body timeout bounds each wait.
//!
//! hyper 1.x has its own `header_read_timeout`, but (see `proto/h1/conn.rs` in
//! hyper 1.12) it re-arms as soon as a kept-alive connection goes idle, so it
//! would close idle connections after the header timeout and the two limits could
//! not differ. It is switched off here and both are kept by `Activity`.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderValue, Request, Response, StatusCode};
use axum::Router;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{watch, Notify, Semaphore};
use tokio::task::JoinSet;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

use crate::error::error_response;

/// How long in-flight requests get to finish after the shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Largest request head (request line and headers) accepted; beyond it hyper
/// answers 431. The app sends a bearer token and a few short headers; without a
/// cap hyper would buffer about 400 KB per connection.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// The message of the per-request time limit (`code: "timeout"`).
pub const MSG_TIMEOUT: &str = "Máy chủ xử lý yêu cầu quá lâu, vui lòng thử lại sau ít phút";
/// The message of a request body that stopped arriving (`code: "body_timeout"`).
pub const MSG_BODY_TIMEOUT: &str = "Dữ liệu gửi lên bị gián đoạn quá lâu, vui lòng gửi lại khi mạng ổn định hơn";

/// Connection-level limits (see the module documentation for where each applies).
/// `Config::from_lookup` reads them from `DANVAN_*_TIMEOUT_SECS` and
/// `DANVAN_MAX_CONNECTIONS`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Time to send a complete request head: from the accept for the first
    /// request of a connection, from its first byte for later ones.
    pub header_timeout: Duration,
    /// How long a kept-alive connection may wait for its next request.
    pub idle_timeout: Duration,
    /// Longest pause while a request body arrives, or while a response cannot be
    /// written because the client does not read it.
    pub body_timeout: Duration,
    /// Time from a complete request head to the response head, less the time
    /// spent waiting for the request body to arrive.
    pub request_timeout: Duration,
    /// Connections served at once; further ones wait in the listen backlog.
    pub max_connections: usize,
    /// Pushes waiting for the writer beyond which a new one is answered 503 with
    /// `Retry-After` at once (`push_queue.rs`).
    pub max_waiting_pushes: usize,
    /// Bytes of attachments one unit may keep (`routes/attachments.rs`).
    pub unit_attachment_bytes: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_timeout: Duration::from_secs(20),
            idle_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(60),
            max_connections: 1024,
            max_waiting_pushes: 2_000,
            // A commune's year: 13 reports of up to 20 photos, ~300 KB each as the
            // app resizes them, is under 100 MB; 1 GiB leaves room for PDF scans.
            unit_attachment_bytes: 1024 * 1024 * 1024,
        }
    }
}

/// Serves `router` with the default [`Limits`] until `signal` resolves, then lets
/// in-flight requests finish for at most `grace` before returning anyway.
pub async fn serve_until(
    listener: tokio::net::TcpListener,
    router: Router,
    signal: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> io::Result<()> {
    serve_with_limits(listener, router, signal, grace, Limits::default()).await
}

/// Serves `router` over HTTP/1.1 under `limits` until `signal` resolves. Then the
/// listener is closed, idle connections are closed, and requests in flight get
/// `grace` to finish before their connections are dropped and this returns anyway
/// (a client that never finishes its request, or a stuck handler, must not keep
/// the process alive for ever).
///
/// Every request carries `ConnectInfo<SocketAddr>`: the TCP peer.
pub async fn serve_with_limits(
    listener: tokio::net::TcpListener,
    router: Router,
    signal: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
    limits: Limits,
) -> io::Result<()> {
    let limits = Arc::new(limits);
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut warned_full = false;
    tokio::pin!(signal);
    loop {
        // A slot first: at the cap nothing is accepted, so new connections queue in
        // the kernel's backlog instead of costing a task and a buffer each.
        if slots.available_permits() == 0 && !warned_full {
            warned_full = true;
            tracing::warn!(max = limits.max_connections, "đã đạt số kết nối tối đa: kết nối mới phải chờ");
        }
        let slot = tokio::select! {
            biased;
            () = &mut signal => break,
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
        };
        let (stream, peer) = tokio::select! {
            biased;
            () = &mut signal => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    handle_accept_error(e).await;
                    continue;
                }
            },
        };
        if slots.available_permits() > 0 {
            warned_full = false;
        }
        let (router, limits, stop) = (router.clone(), limits.clone(), stop_rx.clone());
        connections.spawn(async move {
            serve_connection(stream, peer, router, &limits, stop).await;
            drop(slot);
        });
        // Reap finished connections so the set does not grow with every client.
        while connections.try_join_next().is_some() {}
    }

    // Refuse new connections, then tell the open ones to finish.
    drop(listener);
    let _ = stop_tx.send(true);
    let drained = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(grace, drained).await.is_err() {
        tracing::warn!(grace_secs = grace.as_secs_f64(), "còn yêu cầu chưa xong sau thời gian chờ: dừng hẳn");
        // Dropping the set aborts the remaining connections.
    }
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM (what `systemctl stop` and `docker stop` send).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "không lắng nghe được Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "không lắng nghe được SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("đang dừng máy chủ");
}

/// As hyper 0.14's server did (and `axum::serve` does): errors about one
/// connection are skipped; anything else (EMFILE: out of file descriptors) is
/// logged and the loop pauses, since retrying at once would spin.
async fn handle_accept_error(e: io::Error) {
    if matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "lỗi khi nhận kết nối");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: &Arc<Limits>,
    mut stop: watch::Receiver<bool>,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(WatchedIo { inner: stream, activity: activity.clone() });
    let service = {
        let (activity, limits) = (activity.clone(), limits.clone());
        hyper::service::service_fn(move |req| handle(req, peer, router.clone(), limits.clone(), activity.clone()))
    };
    let mut http = hyper::server::conn::http1::Builder::new();
    http.header_read_timeout(None).max_header_size(MAX_HEADER_BYTES).keep_alive(true);
    let conn = http.serve_connection(io, service);
    tokio::pin!(conn);
    let mut stopping = false;
    loop {
        tokio::select! {
            res = conn.as_mut() => {
                if let Err(e) = res {
                    tracing::debug!(%peer, error = %e, "kết nối kết thúc với lỗi");
                }
                return;
            }
            expired = activity.expired(limits) => {
                tracing::debug!(%peer, reason = expired.as_str(), "đóng kết nối quá hạn");
                return;
            }
            _ = stop.wait_for(|stop| *stop), if !stopping => {
                stopping = true;
                if activity.lock().in_flight == 0 {
                    // Between requests (or still receiving a head): nothing to finish.
                    return;
                }
                // Finish the response in progress, then close.
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// One request: the peer address, the body's stall limit and the time limit.
async fn handle(
    mut req: Request<Incoming>,
    peer: SocketAddr,
    router: Router,
    limits: Arc<Limits>,
    activity: Arc<Activity>,
) -> Result<Response<GuardedBody>, Infallible> {
    let guard = activity.request_started();
    let body = Arc::new(BodyWatch::default());
    req.extensions_mut().insert(ConnectInfo(peer));
    let req = req.map(|incoming| Body::new(TimedBody::new(incoming, limits.body_timeout, body.clone())));
    let res = within_time_limit(router.oneshot(req), limits.request_timeout, &body).await.map(|Ok(res)| res);
    // A stalled body makes the handler fail in its own way (axum's JSON extractor
    // calls it a 400): whatever it answered, the client gets the reason.
    let res = if body.timed_out() {
        tracing::info!(%peer, "yêu cầu bị dừng giữa chừng: hết thời gian chờ dữ liệu gửi lên");
        closing_error(StatusCode::REQUEST_TIMEOUT, "body_timeout", MSG_BODY_TIMEOUT)
    } else if let Some(res) = res {
        res
    } else {
        tracing::warn!(%peer, limit_secs = limits.request_timeout.as_secs_f64(), "yêu cầu xử lý quá thời gian cho phép");
        let mut res = closing_error(StatusCode::SERVICE_UNAVAILABLE, "timeout", MSG_TIMEOUT);
        res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        res
    };
    Ok(res.map(|body| GuardedBody { inner: body, _guard: guard }))
}

/// `fut`'s output, or None once it has taken `limit`, not counting the time spent
/// waiting for the request body.
async fn within_time_limit<F: Future>(fut: F, limit: Duration, body: &BodyWatch) -> Option<F::Output> {
    let start = Instant::now();
    tokio::pin!(fut);
    loop {
        let used = start.elapsed().saturating_sub(body.waited());
        if used >= limit {
            return None;
        }
        tokio::select! {
            out = &mut fut => return Some(out),
            () = tokio::time::sleep(limit - used) => {}
        }
    }
}

/// An error produced here, outside `app()`: it gets the API's security headers
/// itself, and `Connection: close` since part of the request may still be unread.
fn closing_error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    let mut res = error_response(status, code, message);
    let headers = res.headers_mut();
    crate::security_headers::insert_api_headers(headers);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    res
}

// --- What a connection is doing, and when it has done it for too long. ---------

/// Why a connection was closed by `Activity::expired`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expired {
    Header,
    Idle,
    WriteStalled,
}

impl Expired {
    fn as_str(self) -> &'static str {
        match self {
            Expired::Header => "header_timeout",
            Expired::Idle => "idle_timeout",
            Expired::WriteStalled => "write_stalled",
        }
    }
}

#[derive(Debug)]
struct Activity {
    state: Mutex<ActivityState>,
    /// Woken when a deadline may have moved earlier.
    changed: Notify,
}

#[derive(Debug)]
struct ActivityState {
    /// Requests handed to the router whose response body is not finished.
    in_flight: usize,
    /// No request in flight, and a request head is (or may be) arriving since.
    head_since: Option<Instant>,
    /// No request in flight, and nothing received since.
    idle_since: Option<Instant>,
    /// The socket refused a write (send buffer full) and none went through since.
    write_blocked_since: Option<Instant>,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            // A new connection must send its first request within the header
            // timeout: opening connections and sending nothing is the cheapest way
            // to hold them.
            state: Mutex::new(ActivityState {
                in_flight: 0,
                head_since: Some(Instant::now()),
                idle_since: None,
                write_blocked_since: None,
            }),
            changed: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, ActivityState> {
        // The state stays consistent whatever panicked while holding the lock.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn on_read(&self) {
        let mut s = self.lock();
        if s.in_flight == 0 && s.head_since.is_none() {
            // The next request (or the rest of an unread body, which hyper drains)
            // starts arriving: from now on it has the header timeout.
            s.head_since = Some(Instant::now());
            s.idle_since = None;
            drop(s);
            self.changed.notify_one();
        }
    }

    fn on_write(&self, blocked: bool) {
        let mut s = self.lock();
        match (blocked, s.write_blocked_since) {
            (true, None) => {
                s.write_blocked_since = Some(Instant::now());
                drop(s);
                self.changed.notify_one();
            }
            (false, Some(_)) => s.write_blocked_since = None,
            _ => {}
        }
    }

    fn request_started(self: &Arc<Self>) -> RequestGuard {
        let mut s = self.lock();
        s.in_flight += 1;
        s.head_since = None;
        s.idle_since = None;
        RequestGuard(self.clone())
    }

    /// The earliest deadline in force and what it is for.
    fn deadline(&self, limits: &Limits) -> Option<(Instant, Expired)> {
        let s = self.lock();
        let write = s.write_blocked_since.map(|t| (t + limits.body_timeout, Expired::WriteStalled));
        let waiting = if s.in_flight > 0 {
            // The request and body timeouts cover a request in flight.
            None
        } else if let Some(t) = s.head_since {
            Some((t + limits.header_timeout, Expired::Header))
        } else {
            s.idle_since.map(|t| (t + limits.idle_timeout, Expired::Idle))
        };
        [write, waiting].into_iter().flatten().min_by_key(|(at, _)| *at)
    }

    /// Resolves once a deadline passes.
    async fn expired(&self, limits: &Limits) -> Expired {
        loop {
            // Registered before reading the state, so no change is missed.
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            match self.deadline(limits) {
                Some((at, why)) if at <= Instant::now() => return why,
                Some((at, _)) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(at) => {}
                        () = changed => {}
                    }
                }
                None => changed.await,
            }
        }
    }
}

/// Held by a request until hyper drops its response body (written out, or the
/// connection failed).
struct RequestGuard(Arc<Activity>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        let mut s = self.0.lock();
        s.in_flight = s.in_flight.saturating_sub(1);
        if s.in_flight == 0 {
            s.idle_since = Some(Instant::now());
            drop(s);
            self.0.changed.notify_one();
        }
    }
}

/// The TCP stream, reporting reads and blocked writes to [`Activity`].
struct WatchedIo {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for WatchedIo {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(res, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.on_read();
        }
        res
    }
}

impl WatchedIo {
    fn wrote(&self, res: &Poll<io::Result<usize>>) {
        match res {
            Poll::Pending => self.activity.on_write(true),
            Poll::Ready(Ok(n)) if *n > 0 => self.activity.on_write(false),
            Poll::Ready(_) => {}
        }
    }
}

impl AsyncWrite for WatchedIo {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let res = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.wrote(&res);
        res
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let res = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.wrote(&res);
        res
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

// --- Bodies. ------------------------------------------------------------------

/// What the request body did: whether it timed out, and how long the handler
/// has waited for it.
#[derive(Debug, Default)]
struct BodyWatch {
    state: Mutex<BodyWatchState>,
}

#[derive(Debug, Default)]
struct BodyWatchState {
    timed_out: bool,
    waiting_since: Option<Instant>,
    waited: Duration,
}

impl BodyWatch {
    fn lock(&self) -> MutexGuard<'_, BodyWatchState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn timed_out(&self) -> bool {
        self.lock().timed_out
    }

    /// Time spent waiting for body data so far, the current wait included.
    fn waited(&self) -> Duration {
        let s = self.lock();
        s.waited + s.waiting_since.map_or(Duration::ZERO, |t| t.elapsed())
    }

    fn waiting(&self) {
        let mut s = self.lock();
        if s.waiting_since.is_none() {
            s.waiting_since = Some(Instant::now());
        }
    }

    fn not_waiting(&self) {
        let mut s = self.lock();
        if let Some(t) = s.waiting_since.take() {
            s.waited += t.elapsed();
        }
    }
}

/// The request body, failing when no data arrives for `timeout` while the
/// handler waits for it, and reporting to [`BodyWatch`].
struct TimedBody {
    inner: Incoming,
    timeout: Duration,
    sleep: Option<Pin<Box<Sleep>>>,
    armed: bool,
    watch: Arc<BodyWatch>,
}

impl TimedBody {
    fn new(inner: Incoming, timeout: Duration, watch: Arc<BodyWatch>) -> TimedBody {
        TimedBody { inner, timeout, sleep: None, armed: false, watch }
    }
}

impl Drop for TimedBody {
    fn drop(&mut self) {
        self.watch.not_waiting();
    }
}

#[derive(Debug, thiserror::Error)]
#[error("request body timed out")]
struct BodyTimedOut;

impl hyper::body::Body for TimedBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if this.watch.timed_out() {
            return Poll::Ready(Some(Err(BodyTimedOut.into())));
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.armed = false;
                this.watch.not_waiting();
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => {
                this.watch.waiting();
                let deadline = Instant::now() + this.timeout;
                let sleep = this.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                if !this.armed {
                    sleep.as_mut().reset(deadline);
                    this.armed = true;
                }
                if sleep.as_mut().poll(cx).is_ready() {
                    this.watch.not_waiting();
                    this.watch.lock().timed_out = true;
                    return Poll::Ready(Some(Err(BodyTimedOut.into())));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The response body, holding the request's [`RequestGuard`] until hyper is done
/// with it.
struct GuardedBody {
    inner: Body,
    _guard: RequestGuard,
}

impl hyper::body::Body for GuardedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits { max_connections: 4, ..Limits::default() }
    }

    #[tokio::test]
    async fn deadlines_follow_the_phase_of_the_connection() {
        let limits = limits();
        let a = Arc::new(Activity::new());
        let opened = a.lock().head_since.unwrap();
        // New connection: the header timeout from the accept.
        assert_eq!(a.deadline(&limits), Some((opened + limits.header_timeout, Expired::Header)));
        let guard = a.request_started();
        assert_eq!(a.deadline(&limits), None, "a request in flight has its own limits");
        a.on_read();
        assert_eq!(a.deadline(&limits), None, "body bytes do not start a header timeout");
        drop(guard);
        let (at, why) = a.deadline(&limits).unwrap();
        assert_eq!(why, Expired::Idle);
        assert_eq!(at, a.lock().idle_since.unwrap() + limits.idle_timeout);
        a.on_read();
        let (at, why) = a.deadline(&limits).unwrap();
        assert_eq!(why, Expired::Header);
        assert_eq!(at, a.lock().head_since.unwrap() + limits.header_timeout);
        a.on_write(true);
        let blocked = a.lock().write_blocked_since.unwrap();
        // The header deadline (20 s) comes before the write stall's (30 s)...
        assert_eq!(a.deadline(&limits).unwrap().1, Expired::Header);
        // ... and a response that cannot be written is limited even in flight.
        let guard = a.request_started();
        assert_eq!(a.deadline(&limits), Some((blocked + limits.body_timeout, Expired::WriteStalled)));
        drop(guard);
        a.on_write(false);
        assert_eq!(a.lock().write_blocked_since, None);
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let d = Limits::default();
        assert_eq!(d.header_timeout, Duration::from_secs(20));
        assert_eq!(d.idle_timeout, Duration::from_secs(60));
        assert_eq!(d.body_timeout, Duration::from_secs(30));
        assert_eq!(d.request_timeout, Duration::from_secs(60));
        assert_eq!(d.max_connections, 1024);
    }
}
