//! A seeded TCP fault proxy for the integration tests: it listens on
//! 127.0.0.1:0 in front of one IMAP server and, for a share of the
//! connections chosen by the seed, misbehaves in one of four ways:
//!
//! * [`Fault::Reset`]: after N bytes (both directions together) both sides
//!   are closed with a TCP reset (`SO_LINGER` 0);
//! * [`Fault::Stall`]: after N bytes nothing is forwarded any more, in either
//!   direction, for [`FaultConfig::stall`] (longer than the plan's
//!   `timeout-secs`), then both sides are closed;
//! * [`Fault::Slow`]: everything is forwarded in small chunks with a pause
//!   between them (the session should still succeed);
//! * [`Fault::CutLiteral`]: the first literal the server sends (`{n}` CRLF in
//!   the server-to-client stream) is cut after part of its bytes and both
//!   sides are closed.
//!
//! Which connection gets which fault depends only on the seed and the order
//! in which connections are accepted: connection `i` is faulted when a draw
//! from a generator seeded with `(seed, i)` falls under the rate, and the
//! faulted connections take the configured kinds in turn, so every kind
//! shows up once there are enough faults. [`Counts`] says what was armed and
//! what actually happened (a reset after 30 KB on a connection that carries
//! 2 KB never fires, nor does a literal cut on a connection without one).
//!
//! The proxy runs on its own Tokio runtime, so synchronous tests can use it;
//! dropping the [`Proxy`] stops it and closes every connection.

#![allow(dead_code)]

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

/// One way a connection misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Reset,
    Stall,
    Slow,
    CutLiteral,
}

impl Fault {
    pub const ALL: [Fault; 4] = [Fault::Reset, Fault::Stall, Fault::Slow, Fault::CutLiteral];
}

/// What the proxy does and how often.
#[derive(Debug, Clone)]
pub struct FaultConfig {
    pub seed: u64,
    /// Share of connections that get a fault, 0.0..=1.0.
    pub rate: f64,
    /// The kinds faulted connections take in turn.
    pub kinds: Vec<Fault>,
    /// Resets and stalls happen after a number of bytes drawn from this range.
    pub after_bytes: (u64, u64),
    /// How long a stalled connection is held before it is closed.
    pub stall: Duration,
    /// Slow connections: largest chunk forwarded at once, pause after each.
    pub slow_chunk: usize,
    pub slow_pause: Duration,
}

impl FaultConfig {
    pub fn new(seed: u64, rate: f64) -> Self {
        Self {
            seed,
            rate,
            kinds: Fault::ALL.to_vec(),
            after_bytes: (200, 40_000),
            stall: Duration::from_secs(8),
            slow_chunk: 1024,
            slow_pause: Duration::from_millis(2),
        }
    }
}

/// What the proxy saw and did, as plain numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub connections: u64,
    pub armed: u64,
    pub resets: u64,
    pub stalls: u64,
    pub slowed: u64,
    pub cuts: u64,
}

impl Counts {
    /// Faults that actually happened.
    pub fn fired(&self) -> u64 {
        self.resets + self.stalls + self.slowed + self.cuts
    }
    /// Faults that interrupted a session (everything but slowing).
    pub fn disruptive(&self) -> u64 {
        self.resets + self.stalls + self.cuts
    }
}

impl std::ops::Add for Counts {
    type Output = Counts;
    fn add(self, o: Counts) -> Counts {
        Counts {
            connections: self.connections + o.connections,
            armed: self.armed + o.armed,
            resets: self.resets + o.resets,
            stalls: self.stalls + o.stalls,
            slowed: self.slowed + o.slowed,
            cuts: self.cuts + o.cuts,
        }
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} connections, {} armed, fired: {} reset, {} stall, {} slow, {} cut literal",
            self.connections, self.armed, self.resets, self.stalls, self.slowed, self.cuts
        )
    }
}

#[derive(Default)]
struct Counters {
    connections: AtomicU64,
    armed: AtomicU64,
    resets: AtomicU64,
    stalls: AtomicU64,
    slowed: AtomicU64,
    cuts: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> Counts {
        let get = |a: &AtomicU64| a.load(Ordering::SeqCst);
        Counts {
            connections: get(&self.connections),
            armed: get(&self.armed),
            resets: get(&self.resets),
            stalls: get(&self.stalls),
            slowed: get(&self.slowed),
            cuts: get(&self.cuts),
        }
    }
}

/// A running proxy.
pub struct Proxy {
    port: u16,
    counters: Arc<Counters>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Proxy {
    /// Starts a proxy on 127.0.0.1:0 forwarding to 127.0.0.1:`upstream`.
    pub fn start(upstream: u16, config: FaultConfig) -> Proxy {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("fault-proxy")
            .enable_all()
            .build()
            .expect("proxy runtime");
        let listener = runtime
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("proxy listener");
        let port = listener.local_addr().expect("proxy address").port();
        let counters = Arc::new(Counters::default());
        let upstream = SocketAddr::from(([127, 0, 0, 1], upstream));
        runtime.spawn(accept_loop(listener, upstream, config, counters.clone()));
        Proxy {
            port,
            counters,
            runtime: Some(runtime),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn counts(&self) -> Counts {
        self.counters.snapshot()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// `SplitMix64`: small, seedable, good enough for choosing faults.
struct Rng(u64);

impl Rng {
    fn new(seed: u64, stream: u64) -> Self {
        let mut r = Rng(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        r.next();
        r
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    #[expect(
        clippy::cast_precision_loss,
        reason = "both operands fit in 53 bits, which f64 holds exactly"
    )]
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi.saturating_sub(lo) + 1)
    }
}

/// Which of the first `n` connections a seed faults at a rate (the proxy's
/// own draw), so a test can pick a seed that faults early connections.
pub fn armed_indices(seed: u64, rate: f64, n: u64) -> Vec<u64> {
    (0..n)
        .filter(|&i| Rng::new(seed, i).unit() < rate)
        .collect()
}

async fn accept_loop(
    listener: TcpListener,
    upstream: SocketAddr,
    config: FaultConfig,
    counters: Arc<Counters>,
) {
    let config = Arc::new(config);
    let mut index = 0u64;
    let mut faulted = 0usize;
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        counters.connections.fetch_add(1, Ordering::SeqCst);
        let mut rng = Rng::new(config.seed, index);
        index += 1;
        let fault = if !config.kinds.is_empty() && rng.unit() < config.rate {
            let kind = config.kinds[faulted % config.kinds.len()];
            faulted += 1;
            counters.armed.fetch_add(1, Ordering::SeqCst);
            Some(kind)
        } else {
            None
        };
        let plan = Plan {
            fault,
            after: rng.between(config.after_bytes.0, config.after_bytes.1),
            literal_share: rng.unit(),
        };
        tokio::spawn(serve(
            client,
            upstream,
            plan,
            config.clone(),
            counters.clone(),
        ));
    }
}

/// The fault one connection got, with its drawn parameters.
#[derive(Debug, Clone, Copy)]
struct Plan {
    fault: Option<Fault>,
    after: u64,
    literal_share: f64,
}

/// State both directions of one connection share.
struct Shared {
    plan: Plan,
    config: Arc<FaultConfig>,
    counters: Arc<Counters>,
    forwarded: AtomicU64,
    stalled: AtomicBool,
    fired: AtomicBool,
}

impl Shared {
    /// Counts a fault once per connection.
    fn fire(&self, counter: &AtomicU64) {
        if !self.fired.swap(true, Ordering::SeqCst) {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    }
}

async fn serve(
    client: TcpStream,
    upstream: SocketAddr,
    plan: Plan,
    config: Arc<FaultConfig>,
    counters: Arc<Counters>,
) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    client.set_nodelay(true).ok();
    server.set_nodelay(true).ok();
    if plan.fault == Some(Fault::Reset) {
        // Closing these two sockets sends RST instead of FIN.
        client.set_zero_linger().ok();
        server.set_zero_linger().ok();
    }
    let shared = Arc::new(Shared {
        plan,
        config,
        counters,
        forwarded: AtomicU64::new(0),
        stalled: AtomicBool::new(false),
        fired: AtomicBool::new(false),
    });
    if plan.fault == Some(Fault::Slow) {
        shared.fire(&shared.counters.slowed);
    }
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    // When either direction ends (EOF, error or fault), both sockets close.
    tokio::select! {
        () = pump(cr, sw, shared.clone(), false) => {}
        () = pump(sr, cw, shared.clone(), true) => {}
    }
}

/// Looks for `{n}` CRLF in the server's stream, across reads.
#[derive(Default)]
struct LiteralScan {
    state: u8,
    digits: u64,
    /// Literal bytes still to forward before the cut, once one was found.
    cut_after: Option<u64>,
}

impl LiteralScan {
    /// Feeds a chunk; returns how many of its bytes may be forwarded before
    /// the connection is cut, or `None` to forward all of it.
    fn feed(&mut self, chunk: &[u8], share: f64) -> Option<usize> {
        let mut i = 0;
        while i < chunk.len() {
            if let Some(left) = self.cut_after {
                let here = (chunk.len() - i) as u64;
                if left < here {
                    return Some(i + usize::try_from(left).unwrap_or(0));
                }
                self.cut_after = Some(left - here);
                return None;
            }
            let b = chunk[i];
            self.state = match (self.state, b) {
                (_, b'{') => {
                    self.digits = 0;
                    1
                }
                (1 | 2, b'0'..=b'9') => {
                    self.digits = self.digits.saturating_mul(10) + u64::from(b - b'0');
                    2
                }
                (2, b'}') => 3,
                (3, b'\r') => 4,
                (4, b'\n') if self.digits > 1 => {
                    // Keep at least one byte back so the literal is really cut.
                    #[expect(
                        clippy::cast_possible_truncation,
                        clippy::cast_sign_loss,
                        clippy::cast_precision_loss,
                        reason = "share is in [0, 1) and the result is clamped to the literal; \
                                  an approximate cut point is all a fault needs"
                    )]
                    let keep = ((self.digits - 1) as f64 * share) as u64;
                    self.cut_after = Some(keep.min(self.digits - 1));
                    0
                }
                _ => 0,
            };
            i += 1;
        }
        None
    }
}

async fn pump(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    shared: Arc<Shared>,
    downstream: bool,
) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut scan = LiteralScan::default();
    let plan = shared.plan;
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if shared.stalled.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        let chunk = &buf[..n];
        match plan.fault {
            Some(Fault::Reset | Fault::Stall) => {
                let before = shared.forwarded.fetch_add(n as u64, Ordering::SeqCst);
                if before + n as u64 > plan.after {
                    let allowed = usize::try_from(plan.after.saturating_sub(before)).unwrap_or(0);
                    let _ = to.write_all(&chunk[..allowed.min(n)]).await;
                    if plan.fault == Some(Fault::Reset) {
                        shared.fire(&shared.counters.resets);
                        return;
                    }
                    shared.fire(&shared.counters.stalls);
                    shared.stalled.store(true, Ordering::SeqCst);
                    tokio::time::sleep(shared.config.stall).await;
                    return;
                }
                if to.write_all(chunk).await.is_err() {
                    return;
                }
            }
            Some(Fault::CutLiteral) if downstream => {
                if let Some(allowed) = scan.feed(chunk, plan.literal_share) {
                    let _ = to.write_all(&chunk[..allowed]).await;
                    let _ = to.flush().await;
                    shared.fire(&shared.counters.cuts);
                    return;
                }
                if to.write_all(chunk).await.is_err() {
                    return;
                }
            }
            Some(Fault::Slow) => {
                for piece in chunk.chunks(shared.config.slow_chunk.max(1)) {
                    if to.write_all(piece).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(shared.config.slow_pause).await;
                }
            }
            _ => {
                if to.write_all(chunk).await.is_err() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LiteralScan;

    #[test]
    fn literal_scan_cuts_inside_the_literal() {
        let mut s = LiteralScan::default();
        let text = b"* 1 FETCH (BODY[] {10}\r\n0123456789)\r\n";
        let at = s.feed(text, 0.5).expect("cut");
        let start = text.iter().position(|&b| b == b'\n').unwrap() + 1;
        assert_eq!(at, start + 4);
        let mut s = LiteralScan::default();
        assert_eq!(s.feed(b"* 1 FETCH (BODY[] {1", 0.0), None);
        assert_eq!(s.feed(b"0}\r", 0.0), None);
        assert_eq!(s.feed(b"\n", 0.99), None);
        assert_eq!(s.feed(b"0123", 0.0), None);
        assert_eq!(s.feed(b"45678", 0.0), Some(4));
    }
}
