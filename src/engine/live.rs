//! The engine's in-memory picture, updated from progress events and
//! commands, and turned into a [`Snapshot`] on every tick.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use chrono::Utc;

use super::context::{Context, Counters, Progress};
use super::gates::Verdict;
use super::snapshot::{
    EngineState, ErrorCount, EventView, GateView, MailboxView, Snapshot, ThresholdView, WaveView,
    WindowView,
};
use super::wave::WavePhase;
use crate::journal::{Extension, MailboxPhase};
use crate::telemetry::Category;

/// One wave in memory.
#[derive(Debug, Clone)]
pub struct WaveLive {
    pub name: String,
    pub phase: WavePhase,
    pub reason: Option<String>,
    pub gates: Vec<Verdict>,
}

/// Everything the snapshot shows that is not in the metrics.
#[derive(Debug)]
pub struct Live {
    pub state: EngineState,
    /// Set while an operator's halt is in force, with who and when.
    pub halted: Option<String>,
    pub paused: HashSet<String>,
    pub skipped: HashSet<String>,
    pub waves: Vec<WaveLive>,
    pub mailboxes: Vec<MailboxView>,
    index: HashMap<String, usize>,
    pub extensions: Vec<Extension>,
    rates: VecDeque<(Instant, u64, u64)>,
}

impl Live {
    /// Starts from the journal's state, so a restarted engine shows at once
    /// where every wave and mailbox stands.
    ///
    /// # Errors
    /// The journal cannot be read.
    pub fn load(ctx: &Context) -> Result<Self, crate::journal::JournalError> {
        let rows: HashMap<String, crate::journal::MailboxRow> = ctx
            .journal
            .mailboxes()?
            .into_iter()
            .map(|r| (r.source.clone(), r))
            .collect();
        let stored: HashMap<String, crate::journal::WaveRow> = ctx
            .journal
            .waves()?
            .into_iter()
            .map(|w| (w.name.clone(), w))
            .collect();
        let mut mailboxes = Vec::with_capacity(ctx.plan.mailboxes.len());
        let mut index = HashMap::new();
        for m in &ctx.plan.mailboxes {
            let row = rows.get(&m.source);
            let counts = ctx.journal.message_counts(&m.source)?;
            let (copied, bytes) = counts.get("copied").copied().unwrap_or((0, 0));
            index.insert(m.source.clone(), mailboxes.len());
            mailboxes.push(MailboxView {
                source: m.source.clone(),
                destination: m.destination.clone(),
                tenant: m.tenant.clone(),
                wave: ctx.plan.waves[m.wave].name.clone(),
                phase: row.map_or(MailboxPhase::Pending, |r| r.phase),
                copied,
                bytes,
                error_category: row
                    .and_then(|r| r.error_category.as_deref())
                    .and_then(Category::parse),
                error_text: row.and_then(|r| r.error_text.clone()),
                verified: row.and_then(|r| match r.phase {
                    MailboxPhase::Verified => Some(true),
                    _ if r.error_category.as_deref() == Some("checksum-mismatch") => Some(false),
                    _ => None,
                }),
                cutover: row.is_some_and(|r| r.cutover),
            });
        }
        let waves = ctx
            .plan
            .waves
            .iter()
            .map(|w| {
                let row = stored.get(&w.name);
                WaveLive {
                    name: w.name.clone(),
                    phase: row.map_or(WavePhase::Planned, |r| WavePhase::parse(&r.phase)),
                    reason: row.and_then(|r| r.reason.clone()),
                    gates: Vec::new(),
                }
            })
            .collect();
        let halted = ctx.journal.flag("halted")?.filter(|v| !v.is_empty());
        Ok(Self {
            state: if halted.is_some() {
                EngineState::Halted
            } else {
                EngineState::Starting
            },
            halted,
            paused: HashSet::new(),
            skipped: HashSet::new(),
            waves,
            mailboxes,
            index,
            extensions: ctx.journal.extensions()?,
            rates: VecDeque::new(),
        })
    }

    pub fn mailbox_mut(&mut self, source: &str) -> Option<&mut MailboxView> {
        self.index
            .get(source)
            .copied()
            .map(|i| &mut self.mailboxes[i])
    }

    /// Applies one progress event.
    pub fn apply(&mut self, event: &Progress) {
        match event {
            Progress::Phase { mailbox, phase } => {
                if let Some(m) = self.mailbox_mut(mailbox) {
                    m.phase = *phase;
                }
            }
            Progress::Copied {
                mailbox,
                messages,
                bytes,
            } => {
                if let Some(m) = self.mailbox_mut(mailbox) {
                    m.copied += messages;
                    m.bytes += bytes;
                }
            }
            Progress::Retry {
                mailbox,
                category,
                text,
                ..
            } => {
                if let Some(m) = self.mailbox_mut(mailbox) {
                    m.error_category = Some(*category);
                    m.error_text = Some(text.clone());
                }
            }
            Progress::Finished {
                mailbox,
                phase,
                category,
                text,
            } => {
                if let Some(m) = self.mailbox_mut(mailbox) {
                    m.phase = *phase;
                    m.error_category = *category;
                    m.error_text.clone_from(text);
                    m.verified = match (phase, category) {
                        (MailboxPhase::Verified, _) => Some(true),
                        (_, Some(Category::ChecksumMismatch)) => Some(false),
                        _ => m.verified.filter(|_| *phase != MailboxPhase::Failed),
                    };
                }
            }
        }
    }

    /// Records the run's counters for the throughput figure.
    fn sample(&mut self, copied: u64, bytes: u64) -> (f64, f64) {
        let now = Instant::now();
        self.rates.push_back((now, copied, bytes));
        while self
            .rates
            .front()
            .is_some_and(|(t, ..)| now.duration_since(*t) > Duration::from_mins(1))
        {
            self.rates.pop_front();
        }
        match (self.rates.front(), self.rates.back()) {
            (Some(first), Some(last)) if last.0 > first.0 => {
                let secs = last.0.duration_since(first.0).as_secs_f64();
                #[expect(clippy::cast_precision_loss, reason = "rates for display")]
                let rates = (
                    (last.1 - first.1) as f64 / secs,
                    (last.2 - first.2) as f64 / secs,
                );
                rates
            }
            _ => (0.0, 0.0),
        }
    }

    /// End of the maintenance window including extensions.
    pub fn window(&self, ctx: &Context) -> Option<(chrono::DateTime<Utc>, chrono::DateTime<Utc>)> {
        let w = ctx.plan.window?;
        let minutes: i64 = self.extensions.iter().map(|e| i64::from(e.minutes)).sum();
        Some((w.start, w.end + chrono::Duration::minutes(minutes)))
    }

    /// Builds the snapshot.
    pub fn snapshot(&mut self, ctx: &Context) -> Snapshot {
        let copied = Counters::get(&ctx.counters.copied);
        let bytes = Counters::get(&ctx.counters.bytes);
        let (messages_per_sec, bytes_per_sec) = self.sample(copied, bytes);
        let window_secs = Duration::from_secs(ctx.plan.thresholds.window_secs);

        let waves = self
            .waves
            .iter()
            .enumerate()
            .map(|(i, w)| wave_view(self, ctx, i, w, bytes_per_sec))
            .collect();
        let gates = self
            .waves
            .iter()
            .flat_map(|w| {
                w.gates.iter().map(|(gate, reason)| GateView {
                    wave: w.name.clone(),
                    gate: gate.clone(),
                    open: reason.is_none(),
                    reason: reason.clone(),
                })
            })
            .collect();
        let window = self.window(ctx).map(|(start, end)| {
            let remaining: u64 = self
                .waves
                .iter()
                .filter(|w| {
                    !matches!(
                        w.phase,
                        WavePhase::Done | WavePhase::CutOver | WavePhase::RolledBack
                    )
                })
                .map(|w| wave_bytes(self, &w.name))
                .sum();
            WindowView {
                start,
                end,
                planned_end: ctx.plan.window.map_or(end, |w| w.end),
                extensions: self.extensions.clone(),
                forecast_end: (bytes_per_sec > 0.0).then(|| {
                    #[expect(
                        clippy::cast_precision_loss,
                        clippy::cast_possible_truncation,
                        reason = "forecast"
                    )]
                    let secs = (remaining as f64 / bytes_per_sec) as i64;
                    Utc::now() + chrono::Duration::seconds(secs)
                }),
            }
        });
        let events = ctx
            .journal
            .recent_events(40)
            .unwrap_or_default()
            .into_iter()
            .map(|(at, kind, wave, mailbox, text)| EventView {
                at,
                kind,
                wave,
                mailbox,
                text,
            })
            .collect();
        let t = &ctx.plan.thresholds;
        Snapshot {
            plan: ctx.plan.name.clone(),
            taken_at: Utc::now(),
            state: self.state,
            halted: self.halted.is_some(),
            waves,
            mailboxes: self.mailboxes.clone(),
            errors: ctx
                .metrics
                .error_counts()
                .into_iter()
                .map(|(category, count)| ErrorCount { category, count })
                .collect(),
            error_examples: ctx.metrics.error_examples(),
            latency: ctx.metrics.latency(window_secs),
            thresholds: ThresholdView {
                max_error_rate: t.max_error_rate,
                max_p95_append_ms: t.max_p95_append_ms,
                max_p95_fetch_ms: t.max_p95_fetch_ms,
                window_secs: t.window_secs,
            },
            gates,
            window,
            events,
            audit: ctx.journal.recent_audit(40).unwrap_or_default(),
            messages_per_sec,
            bytes_per_sec,
            copied,
            bytes,
            dns: Vec::new(),
            runbook: Vec::new(),
            outputs: Vec::new(),
        }
    }
}

fn wave_bytes(live: &Live, wave: &str) -> u64 {
    live.mailboxes
        .iter()
        .filter(|m| m.wave == wave)
        .map(|m| m.bytes)
        .sum()
}

fn wave_view(
    live: &Live,
    ctx: &Context,
    index: usize,
    w: &WaveLive,
    bytes_per_sec: f64,
) -> WaveView {
    let members: Vec<&MailboxView> = live.mailboxes.iter().filter(|m| m.wave == w.name).collect();
    let count = |f: &dyn Fn(&MailboxView) -> bool| {
        u32::try_from(members.iter().filter(|m| f(m)).count()).unwrap_or(u32::MAX)
    };
    let bytes: u64 = members.iter().map(|m| m.bytes).sum();
    let active = matches!(
        w.phase,
        WavePhase::PreSyncing | WavePhase::DeltaSyncing | WavePhase::Verifying
    );
    #[expect(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "forecast"
    )]
    let eta_secs = (active && bytes_per_sec > 0.0).then(|| (bytes as f64 / bytes_per_sec) as u64);
    WaveView {
        name: w.name.clone(),
        phase: w.phase.as_str().to_owned(),
        reason: w.reason.clone(),
        owner: ctx.plan.waves[index].owner.clone(),
        mailboxes: count(&|_| true),
        done: count(&|m| {
            matches!(
                m.phase,
                MailboxPhase::Verified | MailboxPhase::PreSynced | MailboxPhase::Skipped
            )
        }),
        verified: count(&|m| m.phase == MailboxPhase::Verified),
        failed: count(&|m| m.phase == MailboxPhase::Failed),
        messages: members.iter().map(|m| m.copied).sum(),
        bytes,
        eta_secs,
    }
}
