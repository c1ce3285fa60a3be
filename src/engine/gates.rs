//! Gates: the checks a wave passes before delta sync and before cutover.
//!
//! Figures come from the metrics window and the plan's thresholds. A gate
//! that closed re-opens by itself only after its figure has stayed good for
//! the hold-down time, so it does not flap; halts are not gates here: only
//! an operator lifts them.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::plan::Thresholds;
use crate::telemetry::{Metrics, Op};

/// Which stage a wave is about to enter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    BeforeDelta,
    BeforeCutover,
    /// After the flags flipped: what must agree before the wave is done.
    AfterCutover,
}

/// Figures about the wave that the metrics cannot know.
#[derive(Debug, Clone, Default)]
pub struct WaveFigures {
    /// Mailboxes that must be verified before cutover (skipped ones excluded).
    pub mailboxes: usize,
    pub verified: usize,
    /// The first few that are not, with why.
    pub unverified: Vec<String>,
    /// Bytes of the wave still to read or write, for the forecast.
    pub remaining_bytes: u64,
    /// Measured bytes per second of this run.
    pub throughput: f64,
    /// A reason from outside the engine (DNS, runbook, alarms).
    pub external: Vec<(String, String)>,
}

/// One gate's verdict: `None` open, `Some(reason)` closed.
pub type Verdict = (String, Option<String>);

/// Remembers when each gate last saw a bad figure, for hold-down.
#[derive(Debug, Default)]
pub struct GateKeeper {
    bad_since: HashMap<String, Instant>,
    last_bad: HashMap<String, Instant>,
}

impl GateKeeper {
    /// Evaluates every gate for a wave at a stage.
    #[allow(clippy::too_many_arguments)]
    pub fn evaluate(
        &mut self,
        metrics: &Metrics,
        thresholds: &Thresholds,
        window_end: Option<(DateTime<Utc>, DateTime<Utc>)>,
        now: DateTime<Utc>,
        stage: Stage,
        figures: &WaveFigures,
    ) -> Vec<Verdict> {
        let window = Duration::from_secs(thresholds.window_secs);
        let hold_down = Duration::from_secs(thresholds.hold_down_secs);
        let mut raw: Vec<Verdict> = Vec::new();

        for server in ["source", "destination"] {
            let (rate, ops) = metrics.error_rate(server, window);
            let bad = ops > 0 && rate > thresholds.max_error_rate;
            raw.push((
                format!("error-rate {server}"),
                bad.then(|| {
                    format!(
                        "{server} error rate {:.1} % > {:.1} % over {} IMAP operations",
                        rate * 100.0,
                        thresholds.max_error_rate * 100.0,
                        ops
                    )
                }),
            ));
        }
        let latency = metrics.latency(window);
        for (op, limit) in [
            (Op::Append, thresholds.max_p95_append_ms),
            (Op::Fetch, thresholds.max_p95_fetch_ms),
        ] {
            let p95 = latency
                .iter()
                .find(|l| l.server == "destination" && l.op == op)
                .map(|l| l.p95_ms);
            #[expect(clippy::cast_precision_loss, reason = "milliseconds")]
            let bad = p95.filter(|p| *p > limit as f64);
            raw.push((
                format!("latency {}", op.as_str()),
                bad.map(|p| format!("p95 {} {p:.0} ms > {limit} ms", op.as_str().to_uppercase())),
            ));
        }
        if let Some((start, end)) = window_end {
            raw.push(("window".into(), window_reason(start, end, now, figures)));
        }
        if stage == Stage::BeforeCutover {
            let missing = figures.mailboxes.saturating_sub(figures.verified);
            raw.push((
                "verified".into(),
                (missing > 0).then(|| {
                    format!(
                        "{missing} of {} mailboxes not verified{}",
                        figures.mailboxes,
                        if figures.unverified.is_empty() {
                            String::new()
                        } else {
                            format!(": {}", figures.unverified.join(", "))
                        }
                    )
                }),
            ));
        }
        for (gate, reason) in &figures.external {
            raw.push((gate.clone(), Some(reason.clone())));
        }
        raw.into_iter()
            .map(|(gate, bad)| self.hold_down(gate, bad, hold_down))
            .collect()
    }

    /// Keeps a gate closed until its figure has been good for `hold_down`.
    fn hold_down(&mut self, gate: String, bad: Option<String>, hold_down: Duration) -> Verdict {
        let now = Instant::now();
        match bad {
            Some(reason) => {
                let since = *self.bad_since.entry(gate.clone()).or_insert(now);
                self.last_bad.insert(gate.clone(), now);
                let held = now.duration_since(since);
                let reason = if held >= Duration::from_mins(1) {
                    format!("{reason} for {} min", held.as_secs() / 60)
                } else {
                    reason
                };
                (gate, Some(reason))
            }
            None => match self.last_bad.get(&gate) {
                Some(last) if now.duration_since(*last) < hold_down => {
                    let left = hold_down.saturating_sub(now.duration_since(*last));
                    (
                        gate.clone(),
                        Some(format!(
                            "{gate} recovered; holding {} s more so it does not flap",
                            left.as_secs()
                        )),
                    )
                }
                _ => {
                    self.bad_since.remove(&gate);
                    self.last_bad.remove(&gate);
                    (gate, None)
                }
            },
        }
    }
}

fn window_reason(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
    figures: &WaveFigures,
) -> Option<String> {
    if now < start {
        return Some(format!(
            "maintenance window opens at {}",
            start.format("%H:%MZ")
        ));
    }
    if now >= end {
        return Some(format!(
            "maintenance window closed at {}",
            end.format("%H:%MZ")
        ));
    }
    let left = (end - now).num_seconds().max(0);
    if figures.throughput > 0.0 && figures.remaining_bytes > 0 {
        #[expect(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            reason = "a forecast in seconds"
        )]
        let forecast = (figures.remaining_bytes as f64 / figures.throughput) as i64;
        if forecast > left {
            return Some(format!(
                "forecast {} min to finish > {} min left in the window",
                forecast / 60 + 1,
                left / 60
            ));
        }
    }
    None
}

/// The first closed gate's reason, as the wave shows it.
#[must_use]
pub fn held_reason(verdicts: &[Verdict]) -> Option<String> {
    let closed: Vec<&str> = verdicts.iter().filter_map(|(_, r)| r.as_deref()).collect();
    match closed.as_slice() {
        [] => None,
        [one] => Some(format!("held: {one}")),
        [first, rest @ ..] => Some(format!("held: {first} (+{} more)", rest.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thresholds() -> Thresholds {
        Thresholds {
            max_error_rate: 0.1,
            max_p95_append_ms: 500,
            max_p95_fetch_ms: 500,
            window_secs: 60,
            hold_down_secs: 0,
        }
    }

    #[test]
    fn latency_over_threshold_closes_the_gate_with_figures() {
        let metrics = Metrics::new();
        for _ in 0..20 {
            metrics.record("destination", Op::Append, Duration::from_millis(840), false);
        }
        let mut keeper = GateKeeper::default();
        let v = keeper.evaluate(
            &metrics,
            &thresholds(),
            None,
            Utc::now(),
            Stage::BeforeDelta,
            &WaveFigures::default(),
        );
        assert_eq!(
            held_reason(&v).as_deref(),
            Some("held: p95 APPEND 840 ms > 500 ms")
        );
    }

    #[test]
    fn error_rate_and_verification_close_gates() {
        let metrics = Metrics::new();
        metrics.record("destination", Op::Login, Duration::from_millis(1), true);
        metrics.record("destination", Op::Login, Duration::from_millis(1), false);
        let figures = WaveFigures {
            mailboxes: 3,
            verified: 2,
            unverified: vec!["user3".into()],
            ..WaveFigures::default()
        };
        let mut keeper = GateKeeper::default();
        let v = keeper.evaluate(
            &metrics,
            &thresholds(),
            None,
            Utc::now(),
            Stage::BeforeCutover,
            &figures,
        );
        let closed: Vec<&str> = v.iter().filter_map(|(_, r)| r.as_deref()).collect();
        assert!(
            closed
                .iter()
                .any(|r| r.starts_with("destination error rate 50.0 % > 10.0 %")),
            "{closed:?}"
        );
        assert!(
            closed.contains(&"1 of 3 mailboxes not verified: user3"),
            "{closed:?}"
        );
    }

    #[test]
    fn the_window_gate_forecasts() {
        let now = Utc::now();
        let figures = WaveFigures {
            remaining_bytes: 3_600_000,
            throughput: 1000.0,
            ..WaveFigures::default()
        };
        let end = now + chrono::Duration::minutes(30);
        let reason = window_reason(now - chrono::Duration::minutes(5), end, now, &figures).unwrap();
        assert!(
            reason.starts_with("forecast 61 min to finish > 29 min left")
                || reason.starts_with("forecast 61 min to finish > 30 min left"),
            "{reason}"
        );
        assert!(
            window_reason(
                now + chrono::Duration::minutes(5),
                end,
                now,
                &WaveFigures::default()
            )
            .unwrap()
            .starts_with("maintenance window opens")
        );
        assert!(
            window_reason(
                now - chrono::Duration::minutes(5),
                end,
                now,
                &WaveFigures::default()
            )
            .is_none()
        );
    }

    #[test]
    fn hold_down_keeps_a_recovered_gate_closed_for_a_while() {
        let mut keeper = GateKeeper::default();
        let bad = keeper.hold_down("g".into(), Some("bad".into()), Duration::from_secs(30));
        assert!(bad.1.is_some());
        let still = keeper.hold_down("g".into(), None, Duration::from_secs(30));
        assert!(still.1.unwrap().contains("recovered"));
        let open = keeper.hold_down("g".into(), None, Duration::ZERO);
        assert!(open.1.is_none());
    }
}
