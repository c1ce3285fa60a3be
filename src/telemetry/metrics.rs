//! Sliding-window latency and error counters, shared by every connection.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::Category;

/// IMAP operation kinds that are timed separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Op {
    Connect,
    Login,
    List,
    Select,
    Status,
    Fetch,
    Append,
    Store,
    Create,
}

impl Op {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Connect => "connect",
            Op::Login => "login",
            Op::List => "list",
            Op::Select => "select",
            Op::Status => "status",
            Op::Fetch => "fetch",
            Op::Append => "append",
            Op::Store => "store",
            Op::Create => "create",
        }
    }
}

/// Samples kept per operation and server: enough for stable percentiles,
/// small enough that a snapshot stays cheap.
const SAMPLES_KEPT: usize = 4096;
const EXAMPLES_KEPT: usize = 8;

/// Percentiles of one operation on one server over the recent window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    pub server: String,
    pub op: Op,
    pub count: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
}

/// A recent error, for the war room's error panel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorExample {
    pub category: Category,
    pub mailbox: String,
    pub server: String,
    pub text: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

#[derive(Default)]
struct Inner {
    latency: HashMap<(String, Op), VecDeque<(Instant, Duration)>>,
    /// Per server: when each operation finished and whether it failed.
    outcomes: HashMap<String, VecDeque<(Instant, bool)>>,
    errors: HashMap<Category, u64>,
    examples: HashMap<Category, VecDeque<ErrorExample>>,
}

/// Shared counters; cheap to clone behind an `Arc`.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records one finished operation.
    pub fn record(&self, server: &str, op: Op, took: Duration, failed: bool) {
        let now = Instant::now();
        let mut inner = self.lock();
        let samples = inner.latency.entry((server.to_owned(), op)).or_default();
        if samples.len() == SAMPLES_KEPT {
            samples.pop_front();
        }
        samples.push_back((now, took));
        let outcomes = inner.outcomes.entry(server.to_owned()).or_default();
        if outcomes.len() == SAMPLES_KEPT * 4 {
            outcomes.pop_front();
        }
        outcomes.push_back((now, failed));
    }

    /// Counts an error and keeps it as a recent example.
    pub fn error(&self, category: Category, mailbox: &str, server: &str, text: &str) {
        let mut inner = self.lock();
        *inner.errors.entry(category).or_default() += 1;
        let examples = inner.examples.entry(category).or_default();
        if examples.len() == EXAMPLES_KEPT {
            examples.pop_front();
        }
        examples.push_back(ErrorExample {
            category,
            mailbox: mailbox.to_owned(),
            server: server.to_owned(),
            text: text.chars().take(300).collect(),
            at: chrono::Utc::now(),
        });
    }

    /// Error counts per category since start.
    pub fn error_counts(&self) -> Vec<(Category, u64)> {
        let inner = self.lock();
        let mut out: Vec<_> = inner.errors.iter().map(|(c, n)| (*c, *n)).collect();
        out.sort();
        out
    }

    /// The most recent examples, newest last.
    pub fn error_examples(&self) -> Vec<ErrorExample> {
        let inner = self.lock();
        let mut out: Vec<_> = inner.examples.values().flatten().cloned().collect();
        out.sort_by_key(|e| e.at);
        out
    }

    /// Latency percentiles per server and operation over the last `window`.
    pub fn latency(&self, window: Duration) -> Vec<LatencySummary> {
        let inner = self.lock();
        let since = Instant::now().checked_sub(window);
        let mut out = Vec::new();
        for ((server, op), samples) in &inner.latency {
            let mut ms: Vec<f64> = samples
                .iter()
                .filter(|(at, _)| since.is_none_or(|s| *at >= s))
                .map(|(_, d)| d.as_secs_f64() * 1000.0)
                .collect();
            if ms.is_empty() {
                continue;
            }
            ms.sort_by(f64::total_cmp);
            out.push(LatencySummary {
                server: server.clone(),
                op: *op,
                count: ms.len(),
                p50_ms: percentile(&ms, 0.50),
                p95_ms: percentile(&ms, 0.95),
                p99_ms: percentile(&ms, 0.99),
            });
        }
        out.sort_by(|a, b| (&a.server, a.op).cmp(&(&b.server, b.op)));
        out
    }

    /// Failed operations per operation on one server over the last `window`,
    /// with the number of operations seen.
    pub fn error_rate(&self, server: &str, window: Duration) -> (f64, usize) {
        let inner = self.lock();
        let since = Instant::now().checked_sub(window);
        let Some(outcomes) = inner.outcomes.get(server) else {
            return (0.0, 0);
        };
        let recent = outcomes
            .iter()
            .filter(|(at, _)| since.is_none_or(|s| *at >= s));
        let (mut total, mut failed) = (0usize, 0usize);
        for (_, f) in recent {
            total += 1;
            failed += usize::from(*f);
        }
        if total == 0 {
            (0.0, 0)
        } else {
            #[expect(clippy::cast_precision_loss, reason = "counts are far below 2^52")]
            let rate = failed as f64 / total as f64;
            (rate, total)
        }
    }
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "index into a short slice"
    )]
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert!((percentile(&v, 0.5) - 50.0).abs() < f64::EPSILON);
        assert!((percentile(&v, 0.95) - 95.0).abs() < f64::EPSILON);
        assert!((percentile(&v, 0.99) - 99.0).abs() < f64::EPSILON);
        assert!((percentile(&[7.0], 0.99) - 7.0).abs() < f64::EPSILON);
    }

    #[test]
    fn error_rate_counts_failures_per_server() {
        let m = Metrics::new();
        for i in 0..10 {
            m.record("dst", Op::Append, Duration::from_millis(5), i < 2);
        }
        m.record("src", Op::Fetch, Duration::from_millis(1), false);
        let (rate, n) = m.error_rate("dst", Duration::from_mins(1));
        assert_eq!(n, 10);
        assert!((rate - 0.2).abs() < 1e-9);
        assert!(m.error_rate("src", Duration::from_mins(1)).0.abs() < f64::EPSILON);
        let lat = m.latency(Duration::from_mins(1));
        assert_eq!(lat.len(), 2);
    }
}
