//! The war room's view state: what is focused and selected, how the mailbox
//! table is sorted and filtered, which overlay is open, the status line, and
//! the short history that lets panels draw trends. Together with a snapshot
//! it determines every frame.

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, Utc};

use crate::control::Action;
use crate::engine::Snapshot;
use crate::telemetry::{Category, Op};

/// The panels, in `Tab` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Panel {
    #[default]
    Waves,
    Errors,
    Mailboxes,
    Latency,
    Dns,
    Events,
    Runbook,
}

impl Panel {
    pub const ALL: [Panel; 7] = [
        Panel::Waves,
        Panel::Errors,
        Panel::Mailboxes,
        Panel::Latency,
        Panel::Dns,
        Panel::Events,
        Panel::Runbook,
    ];

    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Panel::Waves => "waves",
            Panel::Errors => "errors",
            Panel::Mailboxes => "mailboxes",
            Panel::Latency => "latency",
            Panel::Dns => "dns ttl",
            Panel::Events => "events & audit",
            Panel::Runbook => "runbook",
        }
    }

    fn index(self) -> usize {
        Panel::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }

    #[must_use]
    pub fn next(self) -> Panel {
        Panel::ALL[(self.index() + 1) % Panel::ALL.len()]
    }

    #[must_use]
    pub fn previous(self) -> Panel {
        Panel::ALL[(self.index() + Panel::ALL.len() - 1) % Panel::ALL.len()]
    }
}

/// The mailbox table's sort column; `o` cycles through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortColumn {
    Mailbox,
    Wave,
    #[default]
    Phase,
    Copied,
    Errors,
    Validation,
}

impl SortColumn {
    pub const ALL: [SortColumn; 6] = [
        SortColumn::Mailbox,
        SortColumn::Wave,
        SortColumn::Phase,
        SortColumn::Copied,
        SortColumn::Errors,
        SortColumn::Validation,
    ];

    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            SortColumn::Mailbox => "mailbox",
            SortColumn::Wave => "wave",
            SortColumn::Phase => "phase",
            SortColumn::Copied => "copied",
            SortColumn::Errors => "error",
            SortColumn::Validation => "validation",
        }
    }

    #[must_use]
    pub fn next(self) -> SortColumn {
        let i = SortColumn::ALL.iter().position(|c| *c == self).unwrap_or(0);
        SortColumn::ALL[(i + 1) % SortColumn::ALL.len()]
    }
}

/// Something drawn over the panels that takes the keys while open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    Help,
    Dialog(Dialog),
}

/// A question before something happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialog {
    /// A dangerous action, spelled out; `y` sends it.
    Confirm {
        action: Action,
        title: String,
        lines: Vec<String>,
    },
    /// Minutes and a reason for extending the maintenance window.
    Extend(ExtendForm),
    /// Leaving while waves run.
    Quit,
}

/// The small form behind `extend`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExtendForm {
    pub minutes: String,
    pub reason: String,
    pub field: ExtendField,
    /// Why the last submit was not accepted by the form.
    pub problem: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExtendField {
    #[default]
    Minutes,
    Reason,
}

/// The status line's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub text: String,
    pub tone: Tone,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Info,
    Ok,
    Warn,
    Bad,
}

/// Samples kept per trend: with one every five seconds, five minutes.
const TREND_SAMPLES: usize = 60;
const TREND_SPACING_SECS: i64 = 5;
/// Error counts kept for the recent rate.
const RATE_SPAN_SECS: i64 = 60;

/// Recent figures the snapshot itself does not carry.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct History {
    latency: BTreeMap<(String, Op), VecDeque<f64>>,
    errors: VecDeque<(DateTime<Utc>, BTreeMap<Category, u64>)>,
    last_trend_sample: Option<DateTime<Utc>>,
}

impl History {
    /// Takes the figures of a new snapshot.
    pub fn record(&mut self, snapshot: &Snapshot) {
        let at = snapshot.taken_at;
        let counts = snapshot
            .errors
            .iter()
            .map(|e| (e.category, e.count))
            .collect();
        if self.errors.back().is_none_or(|(last, _)| at > *last) {
            self.errors.push_back((at, counts));
        }
        while self
            .errors
            .front()
            .is_some_and(|(first, _)| (at - *first).num_seconds() > RATE_SPAN_SECS)
        {
            self.errors.pop_front();
        }

        let due = self
            .last_trend_sample
            .is_none_or(|last| (at - last).num_seconds() >= TREND_SPACING_SECS);
        if !due {
            return;
        }
        self.last_trend_sample = Some(at);
        for row in &snapshot.latency {
            let trend = self
                .latency
                .entry((row.server.clone(), row.op))
                .or_default();
            trend.push_back(row.p95_ms);
            if trend.len() > TREND_SAMPLES {
                trend.pop_front();
            }
        }
    }

    /// Recent p95 values of one operation on one server, oldest first.
    #[must_use]
    pub fn latency_trend(&self, server: &str, op: Op) -> Option<&VecDeque<f64>> {
        self.latency.get(&(server.to_string(), op))
    }

    /// Errors a minute over the last minute, once at least ten seconds of
    /// figures are in.
    #[must_use]
    pub fn recent_rate(&self, category: Category) -> Option<f64> {
        let (first_at, first) = self.errors.front()?;
        let (last_at, last) = self.errors.back()?;
        let secs = (*last_at - *first_at).num_seconds();
        if secs < 10 {
            return None;
        }
        let now = last.get(&category).copied().unwrap_or(0);
        let then = first.get(&category).copied().unwrap_or(0);
        #[expect(
            clippy::cast_precision_loss,
            reason = "error counts and seconds are small"
        )]
        let rate = now.saturating_sub(then) as f64 * 60.0 / secs as f64;
        Some(rate)
    }
}

/// Everything about the screen that is not the engine's data.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ViewState {
    /// The panel that takes the arrow keys; none on a kiosk.
    pub focus: Option<Panel>,
    /// Selected wave (rollback acts on it).
    pub wave: usize,
    /// Selected error category, in the panel's order.
    pub error: usize,
    /// Selected row of the sorted, filtered mailbox table.
    pub mailbox: usize,
    /// The selected mailbox by name: when a new snapshot re-sorts the
    /// table, the selection follows the mailbox, not the row, so pause or
    /// skip never lands on a neighbour.
    pub mailbox_name: Option<String>,
    pub latency: usize,
    pub dns: usize,
    /// Events scrolled past, newest first.
    pub events: usize,
    /// Selected runbook step, in the panel's order; tick and untick act on
    /// it. It follows the wave selection to that wave's first step.
    pub step: usize,
    pub sort: SortColumn,
    pub descending: bool,
    pub filter: String,
    /// Keys go into the filter while this is set.
    pub editing_filter: bool,
    pub overlay: Option<Overlay>,
    pub status: Option<Status>,
    pub history: History,
}

impl ViewState {
    pub fn say(&mut self, tone: Tone, text: impl Into<String>) {
        self.status = Some(Status {
            text: text.into(),
            tone,
        });
    }
}
