//! The plan file's shape, as the operator writes it (TOML, kebab-case keys).
//!
//! Fields that validation must point at are wrapped in [`Spanned`] so an
//! error can name the exact line and column of the offending value.

use serde::Deserialize;
use toml::Spanned;

/// A whole plan file before validation.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RawPlan {
    pub name: Spanned<String>,
    #[serde(default)]
    pub state_dir: Option<String>,
    pub source: RawEndpoint,
    pub destination: RawEndpoint,
    #[serde(default)]
    pub concurrency: Concurrency,
    #[serde(default)]
    pub folders: FolderRules,
    #[serde(default, rename = "tenant")]
    pub tenants: Vec<RawTenant>,
    #[serde(default, rename = "mailbox")]
    pub mailboxes: Vec<RawMailbox>,
    #[serde(default)]
    pub mailboxes_csv: Option<Spanned<String>>,
    #[serde(default, rename = "wave")]
    pub waves: Vec<RawWave>,
    #[serde(default)]
    pub thresholds: Thresholds,
    #[serde(default)]
    pub maintenance_window: Option<RawWindow>,
    #[serde(default)]
    pub roles: Roles,
    #[serde(default)]
    pub presync_ahead: Option<u32>,
    #[serde(default)]
    pub handoff: Option<Handoff>,
    /// `CloudWatch`, the public status page and webhooks.
    #[serde(default)]
    pub telemetry: Option<crate::telemetry::TelemetrySection>,
    /// DNS records to watch and gate cutover on.
    #[serde(default)]
    pub dns: Option<crate::dns::DnsSection>,
    /// Unix group given access to the control socket (mode 0660).
    #[serde(default)]
    pub control_group: Option<Spanned<String>>,
}

/// One IMAP server as the plan names it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RawEndpoint {
    pub host: Spanned<String>,
    pub port: Option<u16>,
    pub security: Spanned<String>,
    #[serde(default)]
    pub allow_plaintext: bool,
    #[serde(default)]
    pub ca_file: Option<Spanned<String>>,
    pub auth: RawAuth,
    /// Seconds to wait for any single server response before giving up.
    #[serde(default)]
    pub timeout_secs: Option<u64>,
}

/// How cutover logs in to one server.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RawAuth {
    /// `user` (each mailbox's own login) or `master` (an admin logs in for everyone).
    pub mode: Spanned<String>,
    /// The admin login, for `mode = "master"`.
    #[serde(default)]
    pub user: Option<Spanned<String>>,
    /// `login` sends `LOGIN "mailbox*admin"` (Dovecot); `plain` sends SASL PLAIN
    /// with the mailbox as authorization identity.
    #[serde(default)]
    pub method: Option<Spanned<String>>,
    /// Separator of Dovecot's `user*master` form.
    #[serde(default)]
    pub master_separator: Option<String>,
    #[serde(default)]
    pub password_env: Option<Spanned<String>>,
    #[serde(default)]
    pub password_file: Option<Spanned<String>>,
    /// For `mode = "user"`: a file of `login password` lines, one per mailbox.
    #[serde(default)]
    pub passwords_file: Option<Spanned<String>>,
}

/// Limits on how hard cutover drives the servers.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Concurrency {
    /// Connections cutover may hold open to each server at once.
    #[serde(default = "default_connections")]
    pub connections_per_server: usize,
    /// Folders of one mailbox copied at the same time.
    #[serde(default = "default_folders")]
    pub folders_per_mailbox: usize,
    /// Messages sent in one APPEND batch (MULTIAPPEND or pipelined APPENDs).
    #[serde(default = "default_batch")]
    pub append_batch: usize,
    /// Upper bound on message bytes held in memory by one folder copy.
    #[serde(default = "default_batch_bytes")]
    pub append_batch_bytes: usize,
}

fn default_connections() -> usize {
    16
}
fn default_folders() -> usize {
    4
}
fn default_batch() -> usize {
    64
}
fn default_batch_bytes() -> usize {
    4 * 1024 * 1024
}

impl Default for Concurrency {
    fn default() -> Self {
        Self {
            connections_per_server: default_connections(),
            folders_per_mailbox: default_folders(),
            append_batch: default_batch(),
            append_batch_bytes: default_batch_bytes(),
        }
    }
}

/// Which folders move and under which name.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct FolderRules {
    /// Glob patterns (`*`, `?`) over source folder paths written with `/`.
    #[serde(default)]
    pub exclude: Vec<String>,
    #[serde(default, rename = "rename")]
    pub renames: Vec<FolderRename>,
}

/// One folder rename, applied to the folder and everything below it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct FolderRename {
    pub from: String,
    pub to: String,
}

/// A tenant: a customer whose mailboxes move together.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RawTenant {
    pub name: Spanned<String>,
    #[serde(default)]
    pub partition: Option<String>,
}

/// One mailbox listed inline in the plan.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RawMailbox {
    pub source: Spanned<String>,
    #[serde(default)]
    pub destination: Option<String>,
    pub tenant: Spanned<String>,
    #[serde(default)]
    pub wave: Option<Spanned<String>>,
}

/// A wave: a cohort of tenants or mailboxes that cuts over together.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RawWave {
    pub name: Spanned<String>,
    #[serde(default)]
    pub tenants: Vec<Spanned<String>>,
    #[serde(default)]
    pub mailboxes: Vec<Spanned<String>>,
    /// Unix user who owns the wave (shown in the war room).
    #[serde(default)]
    pub owner: Option<String>,
    /// Command run at cutover: `sh -c HOOK cutover WAVE MAILBOX_LIST_FILE`.
    #[serde(default)]
    pub cutover_hook: Option<String>,
    /// Command run after a rollback, with the same arguments.
    #[serde(default)]
    pub rollback_hook: Option<String>,
    /// How to reach the owner during the cutover.
    #[serde(default)]
    pub contact: Option<String>,
    /// The playbook: steps people tick, at a stage of the wave.
    #[serde(default, rename = "step")]
    pub steps: Vec<RawStep>,
    /// Narrows who may halt this wave or extend the window while it runs:
    /// user names, or `owner` for the wave's owner. The action table's
    /// least role still applies.
    #[serde(default)]
    pub decision_rights: Option<DecisionRights>,
    /// When the wave is planned to cut over, for the helpdesk hand-off.
    #[serde(default)]
    pub planned_at: Option<String>,
}

/// One playbook step of a wave.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RawStep {
    pub title: Spanned<String>,
    /// `before-delta`, `before-cutover` or `after-cutover`.
    pub stage: Spanned<String>,
    /// Who may tick it: a role (`lead`, `operator`) or `user:NAME`.
    pub who: Spanned<String>,
    /// A command whose exit status 0 means the step is done.
    #[serde(default)]
    pub check: Option<String>,
    #[serde(default)]
    pub check_interval_secs: Option<u64>,
}

/// Per-wave narrowing of the action table's decision rights.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct DecisionRights {
    #[serde(default)]
    pub halt: Vec<String>,
    #[serde(default)]
    pub extend: Vec<String>,
}

/// What the helpdesk hand-off tells users to change.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Handoff {
    #[serde(default)]
    pub imap_host: String,
    #[serde(default)]
    pub smtp_host: String,
    #[serde(default)]
    pub webmail_url: String,
    /// Steps per client kind (desktop, mobile, webmail); `{imap-host}`,
    /// `{smtp-host}` and `{webmail-url}` are filled in.
    #[serde(default, rename = "client")]
    pub clients: Vec<ClientSteps>,
}

/// Reconfiguration steps for one kind of mail client.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ClientSteps {
    pub kind: String,
    pub steps: Vec<String>,
}

/// Limits that hold the next wave when crossed.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Thresholds {
    /// Errors per IMAP operation over the window, per server (0.0–1.0).
    #[serde(default = "default_error_rate")]
    pub max_error_rate: f64,
    #[serde(default = "default_p95")]
    pub max_p95_append_ms: u64,
    #[serde(default = "default_p95")]
    pub max_p95_fetch_ms: u64,
    #[serde(default = "default_window")]
    pub window_secs: u64,
    #[serde(default = "default_hold_down")]
    pub hold_down_secs: u64,
}

fn default_error_rate() -> f64 {
    0.05
}
fn default_p95() -> u64 {
    2000
}
fn default_window() -> u64 {
    300
}
fn default_hold_down() -> u64 {
    60
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            max_error_rate: default_error_rate(),
            max_p95_append_ms: default_p95(),
            max_p95_fetch_ms: default_p95(),
            window_secs: default_window(),
            hold_down_secs: default_hold_down(),
        }
    }
}

/// The maintenance window promised to customers, in UTC.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RawWindow {
    pub start: Spanned<String>,
    pub end: Spanned<String>,
}

/// Unix user names per role.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Roles {
    #[serde(default)]
    pub lead: Vec<String>,
    #[serde(default)]
    pub operator: Vec<String>,
    #[serde(default)]
    pub viewer: Vec<String>,
}
