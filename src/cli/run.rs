//! `cutover run PLAN`: the engine with its control socket, and either the
//! war room (on a terminal) or a headless log of wave transitions.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

use cutover::control::{lock, socket};
use cutover::engine::{Engine, Handle, RunOptions, Snapshot};
use cutover::journal::Journal;
use cutover::telemetry::Metrics;

use super::{Exit, load_plan, state_dir_for};

/// How `run` presents itself.
#[derive(Debug, Clone, Default)]
pub struct RunView {
    pub headless: bool,
    pub json: bool,
    pub tui: super::TuiFlags,
}

pub async fn run(path: &Path, state_dir: &Path, view: RunView) -> anyhow::Result<Exit> {
    let plan = match load_plan(path) {
        Ok(p) => p,
        Err(exit) => return Ok(exit),
    };
    let journal_path = cutover::journal_path(&state_dir_for(&plan, state_dir), &plan.name);
    let _lock = match lock::acquire(&journal_path) {
        Ok(l) => l,
        Err(lock::LockError::Held(_)) => {
            eprintln!(
                "cutover: an engine is already running for plan {:?}; it was not started twice.\n\
                 Watch it with:   cutover attach {}\n\
                 Command it with: cutover ctl {} status",
                plan.name,
                path.display(),
                path.display()
            );
            return Ok(Exit::Access);
        }
        Err(e) => return Err(e.into()),
    };
    let journal = Arc::new(Journal::open(&journal_path)?);
    let headless = view.headless || !std::io::stdout().is_terminal();
    let plan = Arc::new(plan);
    let options = RunOptions {
        exit_when_finished: headless,
        schedule: true,
    };
    let metrics = Arc::new(Metrics::new());
    let (handle, engine, scheduler) =
        Engine::start(plan.clone(), journal, metrics.clone(), options)?;
    let outputs = super::outputs::start(&plan, &engine, &handle, metrics);
    let listener = socket::bind(
        &socket::socket_path(&journal_path),
        plan.control_group.as_deref(),
    )?;
    tokio::spawn(socket::serve(listener, handle.clone(), plan.roles.clone()));
    tracing::info!(plan = %plan.name, "engine started");

    if headless {
        let printer = tokio::spawn(print_transitions(handle.clone(), view.json));
        let _ = scheduler.await;
        // One last tick so the final phases are printed.
        tokio::time::sleep(cutover::engine::TICK * 2).await;
        printer.abort();
        super::outputs::finish(&engine, outputs).await;
        let last = handle.snapshots.borrow().clone();
        return Ok(last.map_or(Exit::Internal, |s| outcome(&s)));
    }
    let exit = super::attach::embedded(handle, &plan, view.tui).await;
    super::outputs::finish(&engine, outputs).await;
    exit
}

/// 0 when every wave is done; 4 when one failed validation; 5 otherwise.
fn outcome(s: &Snapshot) -> Exit {
    if s.waves.iter().all(|w| w.phase == "done") {
        Exit::Ok
    } else if s.waves.iter().any(|w| w.phase == "failed") {
        Exit::Validation
    } else {
        Exit::Refused
    }
}

/// Prints each wave transition as a line (or a JSON object with `--json`).
async fn print_transitions(handle: Handle, json: bool) {
    let mut snapshots = handle.snapshots.clone();
    let mut last: HashMap<String, (String, Option<String>, std::time::Instant)> = HashMap::new();
    let mut state = None;
    loop {
        let snapshot = snapshots.borrow_and_update().clone();
        if let Some(s) = snapshot {
            if state != Some(s.state) {
                state = Some(s.state);
                emit(
                    json,
                    &serde_json::json!({"event": "engine", "state": s.state}),
                    &format!("engine {}", s.state.as_str()),
                );
            }
            for w in &s.waves {
                // A held wave's figures move every tick: print its reason again
                // at most every 30 s, a new phase at once.
                let changed = match last.get(&w.name) {
                    None => true,
                    Some((phase, reason, at)) => {
                        phase != &w.phase || (reason != &w.reason && at.elapsed().as_secs() >= 30)
                    }
                };
                if changed {
                    let text = format!(
                        "wave {} {}{} ({}/{} verified)",
                        w.name,
                        w.phase,
                        w.reason
                            .as_ref()
                            .map(|r| format!(" — {r}"))
                            .unwrap_or_default(),
                        w.verified,
                        w.mailboxes
                    );
                    emit(
                        json,
                        &serde_json::json!({"event": "wave", "wave": w}),
                        &text,
                    );
                    last.insert(
                        w.name.clone(),
                        (w.phase.clone(), w.reason.clone(), std::time::Instant::now()),
                    );
                }
            }
        }
        if snapshots.changed().await.is_err() {
            return;
        }
    }
}

fn emit(json: bool, value: &serde_json::Value, text: &str) {
    if json {
        println!("{value}");
    } else {
        println!("{} {text}", chrono::Utc::now().format("%H:%M:%SZ"));
    }
}
