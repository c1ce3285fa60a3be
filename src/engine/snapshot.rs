//! The one picture of the engine that every front end reads: the war room,
//! attached clients, `cutover ctl status`, telemetry. Built from in-memory
//! state (never a journal scan per tick), so it stays cheap at thousands of
//! mailboxes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::journal::{AuditEntry, Extension, MailboxPhase};
use crate::telemetry::{Category, ErrorExample, LatencySummary};

/// What the engine as a whole is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EngineState {
    Starting,
    Running,
    /// An operator halted the next wave; the running phase finishes.
    Halted,
    /// Every wave reached an end state.
    Finished,
}

impl EngineState {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            EngineState::Starting => "starting",
            EngineState::Running => "running",
            EngineState::Halted => "halted",
            EngineState::Finished => "finished",
        }
    }
}

/// One wave as the war room shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaveView {
    pub name: String,
    pub phase: String,
    /// Why the wave waits (held, halted, failed), in plain words with figures.
    pub reason: Option<String>,
    pub owner: Option<String>,
    pub mailboxes: u32,
    pub done: u32,
    pub verified: u32,
    pub failed: u32,
    pub messages: u64,
    pub bytes: u64,
    /// Forecast seconds to finish the wave's current work.
    pub eta_secs: Option<u64>,
}

/// One mailbox row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxView {
    pub source: String,
    pub destination: String,
    pub tenant: String,
    pub wave: String,
    pub phase: MailboxPhase,
    pub copied: u64,
    pub bytes: u64,
    pub error_category: Option<Category>,
    pub error_text: Option<String>,
    /// `Some(true)` when the manifest matched, `Some(false)` when it did not.
    pub verified: Option<bool>,
    pub cutover: bool,
}

/// Errors of one category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorCount {
    pub category: Category,
    pub count: u64,
}

/// One gate's state for one wave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateView {
    pub wave: String,
    pub gate: String,
    pub open: bool,
    pub reason: Option<String>,
}

/// The maintenance window with its extensions and forecast.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowView {
    pub start: DateTime<Utc>,
    /// End including extensions.
    pub end: DateTime<Utc>,
    pub planned_end: DateTime<Utc>,
    pub extensions: Vec<Extension>,
    /// When the remaining work is forecast to end, from measured throughput.
    pub forecast_end: Option<DateTime<Utc>>,
}

/// A journal event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventView {
    pub at: String,
    pub kind: String,
    pub wave: Option<String>,
    pub mailbox: Option<String>,
    pub text: String,
}

/// Thresholds the gates use, for drawing them beside the figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdView {
    pub max_error_rate: f64,
    pub max_p95_append_ms: u64,
    pub max_p95_fetch_ms: u64,
    pub window_secs: u64,
}

/// Everything a front end shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub plan: String,
    pub taken_at: DateTime<Utc>,
    pub state: EngineState,
    pub halted: bool,
    pub waves: Vec<WaveView>,
    pub mailboxes: Vec<MailboxView>,
    pub errors: Vec<ErrorCount>,
    pub error_examples: Vec<ErrorExample>,
    pub latency: Vec<LatencySummary>,
    pub thresholds: ThresholdView,
    pub gates: Vec<GateView>,
    pub window: Option<WindowView>,
    pub events: Vec<EventView>,
    pub audit: Vec<AuditEntry>,
    /// Messages per second over the last minute.
    pub messages_per_sec: f64,
    pub bytes_per_sec: f64,
    pub copied: u64,
    pub bytes: u64,
    /// Watched DNS records, what blocks a wave first.
    #[serde(default)]
    pub dns: Vec<crate::dns::RecordStatus>,
    /// Runbook steps of every wave.
    #[serde(default)]
    pub runbook: Vec<StepView>,
    /// Telemetry outputs (`CloudWatch`, status page, webhooks) and their health.
    #[serde(default)]
    pub outputs: Vec<OutputView>,
}

/// One runbook step as the war room shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepView {
    pub wave: String,
    pub step: u32,
    pub title: String,
    /// `before-delta`, `before-cutover` or `after-cutover`.
    pub stage: String,
    /// Who may tick it: a role or a user name.
    pub owner: String,
    pub done: bool,
    pub ticked_by: Option<String>,
    pub ticked_at: Option<String>,
    pub check: Option<String>,
    pub check_exit: Option<i32>,
    pub check_output: Option<String>,
    pub checked_at: Option<String>,
}

/// A telemetry output's health, and `CloudWatch` alarms it reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputView {
    pub name: String,
    /// `ok`, `failing` or `off`.
    pub state: String,
    pub detail: Option<String>,
}
