//! The live loop in a real terminal, against a stand-in engine that holds
//! the demo snapshot and answers commands. Ignored by default because it
//! needs a terminal; drive it in tmux:
//!
//! ```text
//! tmux new-session -d -s warroom -x 80 -y 24 \
//!     'CUTOVER_TUI_ROLE=lead cargo test --test tui_live -- --ignored --nocapture'
//! tmux send-keys -t warroom h; tmux send-keys -t warroom y
//! tmux capture-pane -p -t warroom
//! ```
//!
//! `CUTOVER_TUI_ROLE` picks the role (viewer, operator, lead); q then y quits.
//! With `CUTOVER_TUI_PANIC` set, `r` (resume) also panics a task elsewhere,
//! to show the war room taking the terminal back.

use cutover::control::{Action, Role, allowed};
use cutover::engine::{ConnectionState, EngineState, Reply};
use cutover::tui::{TuiOptions, demo_snapshot, run};
use tokio::sync::{mpsc, watch};

#[tokio::test]
#[ignore = "needs a terminal; see the module documentation"]
async fn war_room_against_a_stand_in_engine() {
    let role = match std::env::var("CUTOVER_TUI_ROLE").as_deref() {
        Ok("viewer") => Role::Viewer,
        Ok("operator") => Role::Operator,
        _ => Role::Lead,
    };
    let mut snapshot = demo_snapshot();
    let shift = chrono::Utc::now() - snapshot.taken_at;
    if let Some(w) = &mut snapshot.window {
        w.start += shift;
        w.end += shift;
        w.planned_end += shift;
        w.forecast_end = w.forecast_end.map(|f| f + shift);
    }
    let (snapshots_tx, snapshots) = watch::channel(Some(snapshot.clone()));
    let (_connection_tx, connection) = watch::channel(ConnectionState::Embedded);
    let (commands, mut requests) =
        mpsc::channel::<(Action, tokio::sync::oneshot::Sender<Reply>)>(8);

    let engine = tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
        let mut log = Vec::new();
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    snapshot.taken_at = chrono::Utc::now();
                    if snapshots_tx.send(Some(snapshot.clone())).is_err() {
                        return log;
                    }
                }
                request = requests.recv() => {
                    let Some((action, reply)) = request else { return log };
                    if action == Action::Resume && std::env::var_os("CUTOVER_TUI_PANIC").is_some() {
                        tokio::spawn(async { panic!("a stand-in engine task panicked") });
                    }
                    let answer = if let Err(why) = allowed(action.kind(), role) {
                        Reply::refused(why)
                    } else if action == Action::HaltNextWave {
                        snapshot.halted = true;
                        snapshot.state = EngineState::Halted;
                        Reply::accepted("halted: wave-2-globex will not start")
                    } else {
                        Reply::accepted(format!("{action:?} accepted"))
                    };
                    log.push(action);
                    let _ = reply.send(answer);
                }
            }
        }
    });

    let opts = TuiOptions::new("alice".into(), role, "acme-globex-weekend".into());
    run(opts, snapshots, connection, commands).await.unwrap();
    engine.abort();
    println!("war room closed");
}
