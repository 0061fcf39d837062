//! A fault-injecting HTTP/1.1 proxy between the devices and the server: the
//! network of a commune office on 2G, and worse.
//!
//! Each request is read whole from the device, then, by the run's seeded RNG,
//! one of [`Fault`] happens to it. The proxy opens a fresh connection to the
//! server per request (`Connection: close`), so a request can be held, repeated or
//! dropped on its own, and a server killed mid-request simply ends the
//! connection. A device whose request went nowhere sees the connection close
//! without an answer — a network error, never an HTTP status the proxy made up —
//! so every status a device sees is the server's own, and every one is recorded
//! here (also those of duplicates the device never sees).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, Notify};

use crate::rng::Rng;
use crate::server::Upstream;

/// What happens to one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// Forwarded, answered.
    None,
    /// Never reaches the server: the device's connection is closed.
    DropRequest,
    /// Reaches the server, which commits and answers; the answer is thrown away.
    DropResponse,
    /// Sent to the server twice at once (a retrying middlebox); the device gets
    /// one of the answers.
    Duplicate,
    /// Forwarded after a pause, sometimes longer than the device waits.
    Delay,
    /// Held until the next request (of any device) has been through, then sent:
    /// requests reach the server out of order, a stale one after its own retry.
    Reorder,
}

/// Per-request odds (percent) while faults are on: `Fault::None` takes the rest.
const MIX: [(Fault, u64); 5] = [
    (Fault::DropRequest, 8),
    (Fault::DropResponse, 10),
    (Fault::Duplicate, 7),
    (Fault::Delay, 10),
    (Fault::Reorder, 7),
];

/// How long a device waits for an answer (`src/api.rs` waits 30 s on 2G; the
/// harness scales time down). Delays and holds are drawn around it, so some
/// requests reach the server after their device gave up and retried.
pub const DEVICE_TIMEOUT: Duration = Duration::from_millis(1_500);

#[derive(Clone, Debug, Default)]
pub struct ProxyStats {
    pub requests: u64,
    pub faults: BTreeMap<String, u64>,
    /// Every status the server answered, with how often.
    pub statuses: BTreeMap<u16, u64>,
    /// 5xx other than 503 (a 503 is the server shedding load or waiting for its
    /// write lock, which the app retries): each with the request line.
    pub server_errors: Vec<String>,
}

impl ProxyStats {
    pub fn faults_injected(&self) -> u64 {
        self.faults.values().sum()
    }
}

struct Shared {
    upstream: Upstream,
    faults_on: AtomicBool,
    rng: Mutex<Rng>,
    stats: Mutex<ProxyStats>,
    /// The request held by `Fault::Reorder`, released by the next one.
    held: Mutex<Option<oneshot::Sender<()>>>,
    /// Told whenever a push is forwarded: the server killer aims some kills at a
    /// push being written.
    push_forwarded: Arc<Notify>,
}

pub struct Proxy {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(upstream: Upstream, rng: Rng) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            upstream,
            faults_on: AtomicBool::new(false),
            rng: Mutex::new(rng),
            stats: Mutex::new(ProxyStats::default()),
            held: Mutex::new(None),
            push_forwarded: Arc::new(Notify::new()),
        });
        let s = shared.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((conn, _)) = listener.accept().await else { continue };
                let s = s.clone();
                tokio::spawn(async move { handle(s, conn).await });
            }
        });
        Proxy { addr, shared, task }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set_faults(&self, on: bool) {
        self.shared.faults_on.store(on, Ordering::SeqCst);
        if !on {
            // Nothing stays held once the network is good again.
            if let Some(tx) = self.shared.held.lock().unwrap().take() {
                let _ = tx.send(());
            }
        }
    }

    pub fn push_forwarded(&self) -> Arc<Notify> {
        self.shared.push_forwarded.clone()
    }

    pub fn stats(&self) -> ProxyStats {
        self.shared.stats.lock().unwrap().clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(s: Arc<Shared>, mut conn: TcpStream) {
    let Some(request) = read_request(&mut conn).await else { return };
    let fault = if s.faults_on.load(Ordering::SeqCst) { draw(&s) } else { Fault::None };
    {
        let mut stats = s.stats.lock().unwrap();
        stats.requests += 1;
        if fault != Fault::None {
            *stats.faults.entry(format!("{fault:?}")).or_default() += 1;
        }
    }
    // A request held earlier goes once this one has been through the server.
    let release = if fault == Fault::Reorder { None } else { s.held.lock().unwrap().take() };
    let (pause, hold) = {
        let mut rng = s.rng.lock().unwrap();
        let long = DEVICE_TIMEOUT.as_millis() as u64 + 500;
        (Duration::from_millis(rng.between(20, long)), Duration::from_millis(rng.between(100, long)))
    };
    let answer = match fault {
        Fault::DropRequest => None,
        Fault::Delay => {
            tokio::time::sleep(pause).await;
            forward(&s, &request).await
        }
        Fault::Reorder => {
            let (tx, rx) = oneshot::channel();
            if let Some(previous) = s.held.lock().unwrap().replace(tx) {
                let _ = previous.send(());
            }
            // No next request within `hold`: it goes anyway.
            let _ = tokio::time::timeout(hold, rx).await;
            forward(&s, &request).await
        }
        Fault::Duplicate => {
            let (a, b) = tokio::join!(forward(&s, &request), forward(&s, &request));
            a.or(b)
        }
        Fault::None | Fault::DropResponse => forward(&s, &request).await,
    };
    if let Some(tx) = release {
        let _ = tx.send(());
    }
    if fault == Fault::DropResponse {
        return;
    }
    if let Some(bytes) = answer {
        let _ = conn.write_all(&bytes).await;
        let _ = conn.shutdown().await;
    }
}

fn draw(s: &Shared) -> Fault {
    let mut roll = s.rng.lock().unwrap().below(100);
    for (fault, odds) in MIX {
        if roll < odds {
            return fault;
        }
        roll -= odds;
    }
    Fault::None
}

/// A request as received: its head (with `Connection: close` put in) and body.
struct Request {
    line: String,
    bytes: Vec<u8>,
}

/// Reads one request: the head up to the blank line, then `Content-Length` bytes.
async fn read_request(conn: &mut TcpStream) -> Option<Request> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i + 4;
        }
        let n = conn.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n").filter(|l| !l.is_empty());
    let line = lines.next()?.to_string();
    let mut length = 0usize;
    let mut out = format!("{line}\r\n");
    for h in lines {
        let (name, value) = h.split_once(':')?;
        if name.eq_ignore_ascii_case("content-length") {
            length = value.trim().parse().ok()?;
        }
        if name.eq_ignore_ascii_case("connection") {
            continue;
        }
        out.push_str(h);
        out.push_str("\r\n");
    }
    out.push_str("connection: close\r\n\r\n");
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let n = conn.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&body);
    Some(Request { line, bytes })
}

/// Sends the request to the server on a connection of its own and reads the
/// answer to its end. None when the server is down or died before answering.
async fn forward(s: &Shared, request: &Request) -> Option<Vec<u8>> {
    let addr = (*s.upstream.read().unwrap())?;
    let mut up = TcpStream::connect(addr).await.ok()?;
    up.write_all(&request.bytes).await.ok()?;
    if request.line.starts_with("POST /api/sync/push") {
        s.push_forwarded.notify_waiters();
    }
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), up.read_to_end(&mut answer)).await;
    if !matches!(read, Ok(Ok(_))) || answer.is_empty() {
        return None;
    }
    let status = std::str::from_utf8(&answer[..answer.len().min(32)])
        .ok()
        .and_then(|t| t.split(' ').nth(1))
        .and_then(|code| code.parse::<u16>().ok());
    // A server killed while writing its answer leaves a fragment: no answer.
    let code = status?;
    let mut stats = s.stats.lock().unwrap();
    *stats.statuses.entry(code).or_default() += 1;
    if code >= 500 && code != 503 {
        stats.server_errors.push(format!("{code} for {}", request.line));
    }
    Some(answer)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
