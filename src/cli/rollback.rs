//! `cutover rollback PLAN WAVE`: through the running engine when there is
//! one, otherwise by starting an engine just for the rollback. Either way the
//! engine checks the caller's role and audits the command.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use cutover::control::client::Client;
use cutover::control::protocol::{ClientMessage, ServerMessage};
use cutover::control::{Action, Caller, lock, socket};
use cutover::engine::{Engine, RunOptions};
use cutover::journal::Journal;
use cutover::telemetry::Metrics;

use super::{Exit, load_plan, state_dir_for};

pub async fn run(path: &Path, state_dir: &Path, wave: &str) -> anyhow::Result<Exit> {
    let plan = match load_plan(path) {
        Ok(p) => p,
        Err(exit) => return Ok(exit),
    };
    let journal_path = cutover::journal_path(&state_dir_for(&plan, state_dir), &plan.name);
    let action = Action::Rollback {
        wave: wave.to_owned(),
    };
    let Ok(_lock) = lock::acquire(&journal_path) else {
        // An engine is running: ask it.
        let mut client = Client::connect(&socket::socket_path(&journal_path)).await?;
        return Ok(
            match client.ask(&ClientMessage::Command { action }).await? {
                ServerMessage::Reply { reply, .. } if reply.is_accepted() => {
                    println!(
                        "accepted: {} (follow it with `cutover ctl {} status`)",
                        reply.text(),
                        path.display()
                    );
                    Exit::Ok
                }
                ServerMessage::Reply { reply, .. } => {
                    println!("refused: {}", reply.text());
                    Exit::Refused
                }
                other => {
                    eprintln!("cutover: unexpected answer {other:?}");
                    Exit::Internal
                }
            },
        );
    };
    let journal = Arc::new(Journal::open(&journal_path)?);
    let plan = Arc::new(plan);
    let options = RunOptions {
        exit_when_finished: true,
        schedule: false,
    };
    let (handle, _engine, _scheduler) =
        Engine::start(plan.clone(), journal, Arc::new(Metrics::new()), options)?;
    let reply = handle.send(Caller::current(&plan.roles), action).await;
    if !reply.is_accepted() {
        println!("refused: {}", reply.text());
        return Ok(Exit::Refused);
    }
    println!("accepted: {}", reply.text());
    let mut snapshots = handle.snapshots.clone();
    loop {
        let phase = snapshots.borrow_and_update().as_ref().and_then(|s| {
            s.waves
                .iter()
                .find(|w| w.name == wave)
                .map(|w| (w.phase.clone(), w.reason.clone()))
        });
        if let Some((phase, reason)) = phase {
            if phase == "rolled-back" {
                println!("wave {wave} rolled back: {}", reason.unwrap_or_default());
                return Ok(Exit::Ok);
            }
            if reason
                .as_deref()
                .is_some_and(|r| r.starts_with("rollback failed"))
            {
                println!("wave {wave}: {}", reason.unwrap_or_default());
                return Ok(Exit::Refused);
            }
        }
        if tokio::time::timeout(Duration::from_hours(1), snapshots.changed())
            .await
            .is_err()
        {
            return Ok(Exit::Internal);
        }
    }
}
