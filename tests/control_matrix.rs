//! Every action for every role, decided by the engine itself and written to
//! the audit log, accepted or refused. No server is needed: the engine is
//! started without its scheduler.

use std::sync::Arc;

use cutover::control::{ACTIONS, Action, ActionKind, Caller, Role};
use cutover::engine::{Engine, RunOptions};
use cutover::journal::Journal;
use cutover::telemetry::Metrics;

const PLAN: &str = r#"
name = "matrix"

[source]
host = "127.0.0.1"
port = 1
security = "plain"
auth = { mode = "master", user = "master", password-env = "CUTOVER_MATRIX_PASS" }

[destination]
host = "127.0.0.1"
port = 2
security = "plain"
auth = { mode = "master", user = "master", password-env = "CUTOVER_MATRIX_PASS" }

[maintenance-window]
start = "2026-01-01T00:00:00Z"
end = "2030-01-01T00:00:00Z"

[roles]
lead = ["alice"]
operator = ["bob"]
viewer = ["wall"]

[[tenant]]
name = "acme"

[[wave]]
name = "pilot"
tenants = ["acme"]

[[mailbox]]
source = "user1"
tenant = "acme"
"#;

fn action(kind: ActionKind) -> Action {
    match kind {
        ActionKind::HaltNextWave => Action::HaltNextWave,
        ActionKind::Resume => Action::Resume,
        ActionKind::ExtendWindow => Action::ExtendWindow {
            minutes: 30,
            reason: "slow tenant".into(),
        },
        ActionKind::PauseMailbox => Action::PauseMailbox {
            mailbox: "user1".into(),
        },
        ActionKind::SkipMailbox => Action::SkipMailbox {
            mailbox: "user1".into(),
        },
        ActionKind::RetryMailbox => Action::RetryMailbox {
            mailbox: "user1".into(),
        },
        ActionKind::Rollback => Action::Rollback {
            wave: "pilot".into(),
        },
        ActionKind::TickStep => Action::TickStep {
            wave: "pilot".into(),
            step: 0,
        },
        ActionKind::UntickStep => Action::UntickStep {
            wave: "pilot".into(),
            step: 0,
        },
    }
}

fn caller(role: Role) -> Caller {
    let user = match role {
        Role::Lead => "alice",
        Role::Operator => "bob",
        Role::Viewer => "wall",
    };
    Caller {
        uid: 4242,
        user: user.into(),
        role,
    }
}

#[tokio::test]
async fn every_action_for_every_role_is_decided_and_audited() {
    // SAFETY: set before any thread reads the environment.
    unsafe { std::env::set_var("CUTOVER_MATRIX_PASS", "not-used") };
    let dir = tempfile::tempdir().unwrap();
    let plan_path = dir.path().join("plan.toml");
    std::fs::write(&plan_path, PLAN).unwrap();
    let plan = Arc::new(cutover::plan::load(&plan_path).unwrap());

    let mut sent = 0;
    for spec in ACTIONS {
        for role in [Role::Viewer, Role::Operator, Role::Lead] {
            let journal = Arc::new(
                Journal::open(&dir.path().join(format!("{}-{role}.journal", spec.name))).unwrap(),
            );
            let options = RunOptions {
                exit_when_finished: true,
                schedule: false,
            };
            let (_handle, engine, _task) = Engine::start(
                plan.clone(),
                journal.clone(),
                Arc::new(Metrics::new()),
                options,
            )
            .unwrap();
            if spec.kind == ActionKind::Resume {
                assert!(
                    engine
                        .handle(&caller(Role::Lead), &Action::HaltNextWave)
                        .is_accepted()
                );
            }
            let reply = engine.handle(&caller(role), &action(spec.kind));
            sent += 1;
            let may = role >= spec.least_role;
            if may {
                // Rolling back needs a cut-over wave; this plan's wave has no
                // runbook steps to tick.
                let precondition = matches!(
                    spec.kind,
                    ActionKind::Rollback | ActionKind::TickStep | ActionKind::UntickStep
                );
                assert_eq!(
                    reply.is_accepted(),
                    !precondition,
                    "{} as {role}: {}",
                    spec.name,
                    reply.text()
                );
                if precondition {
                    let text = reply.text();
                    assert!(
                        text.contains("only a cut-over wave") || text.contains("has no step 0"),
                        "{text}"
                    );
                }
            } else {
                assert!(
                    !reply.is_accepted(),
                    "{} as {role} must be refused",
                    spec.name
                );
                assert!(
                    reply
                        .text()
                        .contains(&format!("needs the {} role", spec.least_role)),
                    "{}",
                    reply.text()
                );
            }
            let audit = journal.recent_audit(10).unwrap();
            let last = audit.last().expect("every command is audited");
            assert_eq!(last.action, spec.name);
            assert_eq!(last.user, caller(role).user);
            assert_eq!(last.role, role.as_str());
            assert_eq!(
                last.decision,
                if reply.is_accepted() {
                    "accepted"
                } else {
                    "refused"
                }
            );
        }
    }
    assert_eq!(sent, ACTIONS.len() * 3);
}

#[tokio::test]
async fn halt_resume_and_extend_change_the_snapshot() {
    unsafe { std::env::set_var("CUTOVER_MATRIX_PASS", "not-used") };
    let dir = tempfile::tempdir().unwrap();
    let plan_path = dir.path().join("plan.toml");
    std::fs::write(&plan_path, PLAN).unwrap();
    let plan = Arc::new(cutover::plan::load(&plan_path).unwrap());
    let journal = Arc::new(Journal::open(&dir.path().join("p.journal")).unwrap());
    let options = RunOptions {
        exit_when_finished: true,
        schedule: false,
    };
    let (handle, engine, _task) =
        Engine::start(plan, journal.clone(), Arc::new(Metrics::new()), options).unwrap();
    let lead = caller(Role::Lead);

    assert!(
        engine
            .handle(&lead, &Action::HaltNextWave)
            .text()
            .contains("pilot")
    );
    let again = engine.handle(&lead, &Action::HaltNextWave);
    assert!(
        !again.is_accepted() && again.text().contains("already halted by alice"),
        "{}",
        again.text()
    );
    let extend = engine.handle(
        &lead,
        &Action::ExtendWindow {
            minutes: 45,
            reason: "tenant acme slow".into(),
        },
    );
    assert!(
        extend.text().contains("2030-01-01 00:45Z"),
        "{}",
        extend.text()
    );
    let no_reason = engine.handle(
        &lead,
        &Action::ExtendWindow {
            minutes: 5,
            reason: " ".into(),
        },
    );
    assert!(!no_reason.is_accepted());

    let mut snapshots = handle.snapshots.clone();
    let snapshot = loop {
        if let Some(s) = snapshots.borrow_and_update().clone()
            && s.halted
            && s.window.as_ref().is_some_and(|w| w.extensions.len() == 1)
        {
            break s;
        }
        snapshots.changed().await.unwrap();
    };
    assert_eq!(
        snapshot.window.unwrap().extensions[0].reason,
        "tenant acme slow"
    );
    assert!(
        snapshot
            .audit
            .iter()
            .any(|a| a.action == "halt" && a.decision == "refused")
    );

    assert!(engine.handle(&lead, &Action::Resume).is_accepted());
    assert!(!engine.handle(&lead, &Action::Resume).is_accepted());
    assert!(
        journal
            .flag("halted")
            .unwrap()
            .unwrap_or_default()
            .is_empty()
    );
}
