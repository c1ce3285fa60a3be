//! The plan: what moves, from where to where, in which waves, under which limits.
//!
//! [`load`] reads a plan file (and the CSV it may name), validates all of it,
//! and returns either a [`Plan`] ready for the engine or every problem found,
//! each with its file, line and column.

mod csv_rows;
mod diagnostic;
mod folders;
mod secret;
mod types;
mod validate;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};

pub use diagnostic::{Diagnostic, line_column};
pub use folders::{FolderMap, glob_match};
pub use secret::Secret;
pub use types::{
    ClientSteps, Concurrency, DecisionRights, FolderRename, FolderRules, Handoff, Roles, Thresholds,
};
pub use validate::{load, load_without_secrets};

/// Why a plan could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("cannot read plan {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} problem(s) in the plan:\n{}", .0.len(), render(.0))]
    Invalid(Vec<Diagnostic>),
}

fn render(found: &[Diagnostic]) -> String {
    found
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// A validated plan.
#[derive(Debug, Clone)]
pub struct Plan {
    pub name: String,
    pub path: PathBuf,
    pub state_dir: Option<PathBuf>,
    pub source: Endpoint,
    pub destination: Endpoint,
    pub concurrency: Concurrency,
    pub folders: FolderRules,
    pub tenants: Vec<Tenant>,
    pub mailboxes: Vec<Mailbox>,
    pub waves: Vec<Wave>,
    pub thresholds: Thresholds,
    pub window: Option<MaintenanceWindow>,
    pub roles: Roles,
    pub presync_ahead: u32,
    pub control_group: Option<String>,
    pub handoff: Handoff,
    pub dns: Option<crate::dns::DnsSection>,
    pub telemetry: Option<crate::telemetry::TelemetrySection>,
}

impl Plan {
    /// Mailboxes of one wave, in plan order.
    pub fn wave_mailboxes(&self, wave: usize) -> impl Iterator<Item = &Mailbox> {
        self.mailboxes.iter().filter(move |m| m.wave == wave)
    }

    /// Looks a mailbox up by its source login.
    #[must_use]
    pub fn mailbox(&self, source_login: &str) -> Option<&Mailbox> {
        self.mailboxes.iter().find(|m| m.source == source_login)
    }

    /// Tenants whose mailboxes are in a wave.
    #[must_use]
    pub fn wave_tenants(&self, wave: usize) -> Vec<String> {
        let mut tenants: Vec<String> = self
            .wave_mailboxes(wave)
            .map(|m| m.tenant.clone())
            .collect();
        tenants.sort();
        tenants.dedup();
        tenants
    }

    /// Looks a wave up by name.
    #[must_use]
    pub fn wave_index(&self, name: &str) -> Option<usize> {
        self.waves.iter().position(|w| w.name == name)
    }
}

/// Which side of the migration an endpoint is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    Source,
    Destination,
}

impl Side {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Source => "source",
            Side::Destination => "destination",
        }
    }
}

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    Tls,
    StartTls,
    Plain,
}

/// One IMAP server and how to log in to it.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub side: Side,
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub ca_file: Option<PathBuf>,
    pub auth: Auth,
    pub timeout: Duration,
}

impl Endpoint {
    /// `host:port`, for messages and latency labels.
    #[must_use]
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// How cutover proves who it is.
#[derive(Debug, Clone)]
pub enum Auth {
    /// Each mailbox logs in with its own password.
    User { passwords: HashMap<String, Secret> },
    /// An admin logs in on behalf of every mailbox.
    Master {
        user: String,
        method: MasterMethod,
        separator: String,
        password: Secret,
    },
}

/// The two ways an admin acts for a mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MasterMethod {
    /// `LOGIN "mailbox*admin" password` (Dovecot's master user form).
    Login,
    /// SASL PLAIN with the mailbox as authorization identity.
    Plain,
}

/// A tenant: a customer whose mailboxes move together.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub name: String,
    pub partition: Option<String>,
}

/// One mailbox to migrate.
#[derive(Debug, Clone)]
pub struct Mailbox {
    pub source: String,
    pub destination: String,
    pub tenant: String,
    /// Index into [`Plan::waves`].
    pub wave: usize,
}

/// A cohort that cuts over together.
#[derive(Debug, Clone)]
pub struct Wave {
    pub name: String,
    pub owner: Option<String>,
    pub contact: Option<String>,
    pub cutover_hook: Option<String>,
    pub rollback_hook: Option<String>,
    pub steps: Vec<Step>,
    pub decision_rights: DecisionRights,
    pub planned_at: Option<DateTime<Utc>>,
}

/// When in a wave's life a playbook step must be done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepStage {
    BeforeDelta,
    BeforeCutover,
    AfterCutover,
}

impl StepStage {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            StepStage::BeforeDelta => "before-delta",
            StepStage::BeforeCutover => "before-cutover",
            StepStage::AfterCutover => "after-cutover",
        }
    }
}

/// Who may tick a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepWho {
    /// Anyone with at least this role (`lead` or `operator`).
    Role(String),
    /// This Unix user only.
    User(String),
}

/// One playbook step.
#[derive(Debug, Clone)]
pub struct Step {
    pub title: String,
    pub stage: StepStage,
    pub who: StepWho,
    pub check: Option<String>,
    pub check_interval_secs: u64,
}

/// The window promised to customers for user-visible changes.
#[derive(Debug, Clone, Copy)]
pub struct MaintenanceWindow {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}
