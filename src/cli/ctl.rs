//! `cutover ctl PLAN status|halt|resume|extend 30m --reason …|pause|skip|retry M|rollback W`:
//! talks to the running engine over its control socket.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Subcommand;
use cutover::control::client::Client;
use cutover::control::protocol::{ClientMessage, ServerMessage};
use cutover::control::{Action, socket};
use cutover::engine::Snapshot;

use super::{Exit, load_plan_for_control, state_dir_for};

/// What to ask the engine.
#[derive(Debug, Clone, Subcommand)]
pub enum CtlCommand {
    /// Print the engine's state: waves, gates, window, errors.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Halt the next wave: the running phase finishes, nothing new starts.
    Halt,
    /// Lift a halt.
    Resume,
    /// Extend the maintenance window, e.g. `extend 30m --reason "slow tenant"`.
    Extend {
        /// Minutes, as `30`, `30m` or `1h`.
        duration: String,
        #[arg(long)]
        reason: String,
    },
    /// Pause a mailbox.
    Pause { mailbox: String },
    /// Skip a mailbox for this run.
    Skip { mailbox: String },
    /// Retry a failed, paused or skipped mailbox.
    Retry { mailbox: String },
    /// Roll a cut-over wave back.
    Rollback { wave: String },
    /// Tick a runbook step (its check runs first when it has one).
    Tick { wave: String, step: u32 },
    /// Reopen a runbook step.
    Untick { wave: String, step: u32 },
    /// Print who the engine thinks you are.
    Whoami,
}

/// Parses `30`, `30m`, `2h`.
pub fn minutes(text: &str) -> Result<u32, String> {
    let text = text.trim();
    let (number, scale) = match text.strip_suffix('h') {
        Some(n) => (n, 60),
        None => (text.strip_suffix('m').unwrap_or(text), 1),
    };
    number
        .parse::<u32>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| format!("{text:?} is not a duration like 30m or 1h"))
}

/// The socket of a plan's engine.
pub fn socket_for(
    plan_path: &Path,
    state_dir: &Path,
    explicit: Option<&Path>,
) -> Result<PathBuf, Exit> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    let plan = load_plan_for_control(plan_path)?;
    Ok(socket::socket_path(&cutover::journal_path(
        &state_dir_for(&plan, state_dir),
        &plan.name,
    )))
}

pub async fn run(
    plan: &Path,
    state_dir: &Path,
    socket: Option<&Path>,
    command: CtlCommand,
) -> anyhow::Result<Exit> {
    let path = match socket_for(plan, state_dir, socket) {
        Ok(p) => p,
        Err(exit) => return Ok(exit),
    };
    let mut client = match Client::connect(&path).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cutover: {e}");
            return Ok(Exit::Access);
        }
    };
    let action = match command {
        CtlCommand::Status { json } => return status(&mut client, json).await,
        CtlCommand::Whoami => {
            if let ServerMessage::Whoami { caller } = client.ask(&ClientMessage::Whoami).await? {
                println!("{} (uid {}) is {}", caller.user, caller.uid, caller.role);
            }
            return Ok(Exit::Ok);
        }
        CtlCommand::Halt => Action::HaltNextWave,
        CtlCommand::Resume => Action::Resume,
        CtlCommand::Extend { duration, reason } => match minutes(&duration) {
            Ok(minutes) => Action::ExtendWindow { minutes, reason },
            Err(e) => {
                eprintln!("cutover: {e}");
                return Ok(Exit::Internal);
            }
        },
        CtlCommand::Pause { mailbox } => Action::PauseMailbox { mailbox },
        CtlCommand::Skip { mailbox } => Action::SkipMailbox { mailbox },
        CtlCommand::Retry { mailbox } => Action::RetryMailbox { mailbox },
        CtlCommand::Rollback { wave } => Action::Rollback { wave },
        CtlCommand::Tick { wave, step } => Action::TickStep { wave, step },
        CtlCommand::Untick { wave, step } => Action::UntickStep { wave, step },
    };
    match client.ask(&ClientMessage::Command { action }).await? {
        ServerMessage::Reply { reply, caller } => {
            if reply.is_accepted() {
                println!("accepted: {}", reply.text());
                Ok(Exit::Ok)
            } else {
                println!(
                    "refused for {} ({}): {}",
                    caller.user,
                    caller.role,
                    reply.text()
                );
                Ok(Exit::Refused)
            }
        }
        other => {
            eprintln!("cutover: unexpected answer {other:?}");
            Ok(Exit::Internal)
        }
    }
}

async fn status(client: &mut Client, json: bool) -> anyhow::Result<Exit> {
    let mut answer = client.ask(&ClientMessage::Snapshot).await?;
    // The first snapshot may not be published yet right after start.
    for _ in 0..20 {
        if matches!(answer, ServerMessage::Snapshot { .. }) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        answer = client.ask(&ClientMessage::Snapshot).await?;
    }
    let ServerMessage::Snapshot { snapshot } = answer else {
        eprintln!("cutover: the engine has no snapshot yet");
        return Ok(Exit::Internal);
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&snapshot)?);
    } else {
        print_status(&snapshot);
    }
    Ok(Exit::Ok)
}

/// A plain-text status for scripts and slow links.
pub fn print_status(s: &Snapshot) {
    println!(
        "plan {}  engine {}{}",
        s.plan,
        s.state.as_str(),
        if s.halted { "  HALTED" } else { "" }
    );
    if let Some(w) = &s.window {
        println!(
            "window {} → {} ({} extension(s))",
            w.start.format("%Y-%m-%d %H:%MZ"),
            w.end.format("%Y-%m-%d %H:%MZ"),
            w.extensions.len()
        );
    }
    for w in &s.waves {
        println!(
            "wave {:<12} {:<14} {}/{} verified, {} failed{}",
            w.name,
            w.phase,
            w.verified,
            w.mailboxes,
            w.failed,
            w.reason
                .as_ref()
                .map(|r| format!("  — {r}"))
                .unwrap_or_default()
        );
    }
    for e in &s.errors {
        println!("errors {:<18} {}", e.category.as_str(), e.count);
    }
}

#[cfg(test)]
mod tests {
    use super::minutes;

    #[test]
    fn durations() {
        assert_eq!(minutes("30"), Ok(30));
        assert_eq!(minutes("30m"), Ok(30));
        assert_eq!(minutes("2h"), Ok(120));
        assert!(minutes("soon").is_err());
    }
}
