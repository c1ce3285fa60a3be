//! Cutover: flip each mailbox's flag, run the wave's hook, and write the
//! list the helpdesk works from. A failing hook leaves the wave not cut over.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde::Serialize;

use super::context::Context;
use super::error::{EngineError, Result};
use crate::plan::Mailbox;
use crate::telemetry::Category;

/// One line of a wave's cutover list.
#[derive(Debug, Clone, Serialize)]
pub struct CutoverEntry {
    pub mailbox: String,
    pub destination: String,
    pub tenant: String,
    pub manifest_root_digest: String,
    pub time: String,
}

/// How long a hook may run before it counts as failed.
const HOOK_TIMEOUT: Duration = Duration::from_mins(5);

/// Runs a hook as `sh -c HOOK cutover|rollback WAVE LIST_FILE` and records
/// its exit status and first lines of output as an event.
///
/// # Errors
/// The hook failed, timed out or could not start.
pub async fn run_hook(
    ctx: &Context,
    kind: &str,
    wave: &str,
    hook: &str,
    list: &Path,
) -> Result<()> {
    let child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(hook)
        .arg(kind)
        .arg(wave)
        .arg(list)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(HOOK_TIMEOUT, child)
        .await
        .map_err(|_| EngineError::Other(Category::Protocol, format!("{kind} hook timed out")))?
        .map_err(|e| {
            EngineError::Other(
                Category::Protocol,
                format!("{kind} hook could not start: {e}"),
            )
        })?;
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    let first: Vec<&str> = text.lines().take(5).collect();
    let status = output
        .status
        .code()
        .map_or_else(|| "killed".to_owned(), |c| c.to_string());
    ctx.journal.event(
        "hook",
        Some(wave),
        None,
        &format!("{kind} hook exit {status}: {}", first.join(" | ")),
    )?;
    if output.status.success() {
        Ok(())
    } else {
        Err(EngineError::Other(
            Category::Protocol,
            format!("{kind} hook exited {status}: {}", first.join(" | ")),
        ))
    }
}

/// Directory for cutover lists and hook inputs.
pub fn lists_dir(ctx: &Context) -> PathBuf {
    ctx.journal
        .path()
        .parent()
        .unwrap_or(Path::new("."))
        .join("cutover-lists")
}

/// Writes the mailbox list a hook receives (one source login per line).
///
/// # Errors
/// The file cannot be written.
pub fn write_mailbox_list(ctx: &Context, wave: &str, mailboxes: &[&Mailbox]) -> Result<PathBuf> {
    let dir = lists_dir(ctx);
    std::fs::create_dir_all(&dir).map_err(|e| io(&dir, &e))?;
    let path = dir.join(format!("{wave}.mailboxes"));
    let text: String = mailboxes
        .iter()
        .flat_map(|m| [m.source.as_str(), "\n"])
        .collect();
    std::fs::write(&path, text).map_err(|e| io(&path, &e))?;
    Ok(path)
}

/// Writes `<wave>.csv` and `<wave>.json` for the helpdesk.
///
/// # Errors
/// The files cannot be written.
pub fn write_cutover_list(
    ctx: &Context,
    wave: &str,
    entries: &[CutoverEntry],
) -> Result<(PathBuf, PathBuf)> {
    let dir = lists_dir(ctx);
    std::fs::create_dir_all(&dir).map_err(|e| io(&dir, &e))?;
    let csv_path = dir.join(format!("{wave}.csv"));
    let mut csv =
        csv::Writer::from_path(&csv_path).map_err(|e| io(&csv_path, &std::io::Error::other(e)))?;
    for e in entries {
        csv.serialize(e)
            .map_err(|e| io(&csv_path, &std::io::Error::other(e)))?;
    }
    csv.flush().map_err(|e| io(&csv_path, &e))?;
    let json_path = dir.join(format!("{wave}.json"));
    let json = serde_json::to_string_pretty(entries).unwrap_or_default();
    std::fs::write(&json_path, json + "\n").map_err(|e| io(&json_path, &e))?;
    Ok((csv_path, json_path))
}

fn io(path: &Path, e: &std::io::Error) -> EngineError {
    EngineError::Other(Category::Journal, format!("{}: {e}", path.display()))
}

/// Cuts a wave over: hook first (a failing hook changes nothing), then the
/// flags, then the list.
///
/// # Errors
/// The hook failed, or the journal or list could not be written.
pub async fn cut_over(
    ctx: &Context,
    wave: usize,
    mailboxes: &[&Mailbox],
) -> Result<Vec<CutoverEntry>> {
    let plan_wave = &ctx.plan.waves[wave];
    if let Some(hook) = &plan_wave.cutover_hook {
        let list = write_mailbox_list(ctx, &plan_wave.name, mailboxes)?;
        run_hook(ctx, "cutover", &plan_wave.name, hook, &list).await?;
    }
    let mut entries = Vec::with_capacity(mailboxes.len());
    for m in mailboxes {
        ctx.journal.set_cutover(&m.source, true)?;
        let row = ctx.journal.mailbox(&m.source)?;
        entries.push(CutoverEntry {
            mailbox: m.source.clone(),
            destination: m.destination.clone(),
            tenant: m.tenant.clone(),
            manifest_root_digest: row.and_then(|r| r.root_digest).unwrap_or_default(),
            time: crate::journal::now(),
        });
    }
    write_cutover_list(ctx, &plan_wave.name, &entries)?;
    Ok(entries)
}
