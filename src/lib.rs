//! cutover: moves mailboxes from one IMAP server to another in waves, proves
//! every message arrived, and runs the war room that watches it happen.
//!
//! The folders under `src/` are the architecture: `plan` (what to move),
//! `imap` (talking to servers), `journal` (state that survives crashes),
//! `engine` (copy, delta, verification), `telemetry` (latency and errors),
//! and the front ends built on them.

pub mod control;
pub mod dns;
pub mod engine;
pub mod imap;
pub mod journal;
pub mod plan;
pub mod telemetry;
pub mod tui;

/// Where a plan's journal lives: `<state dir>/<plan name>.journal`.
#[must_use]
pub fn journal_path(state_dir: &std::path::Path, plan_name: &str) -> std::path::PathBuf {
    let safe: String = plan_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    state_dir.join(format!("{safe}.journal"))
}

/// The default state directory: `$XDG_STATE_HOME/cutover`, else
/// `~/.local/state/cutover`.
pub fn default_state_dir() -> std::path::PathBuf {
    if let Some(dir) = std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
        return std::path::PathBuf::from(dir).join("cutover");
    }
    let home = std::env::var_os("HOME")
        .map_or_else(|| std::path::PathBuf::from("."), std::path::PathBuf::from);
    home.join(".local/state/cutover")
}
