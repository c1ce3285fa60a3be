//! The runbook: steps gate their stage, only the right people tick them, a
//! failing check keeps a step open with its output, and the helpdesk
//! hand-off for the demo plan is stable.

use std::sync::Arc;
use std::time::Duration;

use cutover::control::{Action, Caller, Role};
use cutover::engine::{Engine, RunOptions, Stage, held_reason};
use cutover::journal::Journal;
use cutover::telemetry::Metrics;

const PLAN: &str = r#"
name = "runbook"

[source]
host = "127.0.0.1"
port = 1
security = "plain"
auth = { mode = "master", user = "master", password-env = "CUTOVER_RUNBOOK_PASS" }

[destination]
host = "127.0.0.1"
port = 2
security = "plain"
auth = { mode = "master", user = "master", password-env = "CUTOVER_RUNBOOK_PASS" }

[thresholds]
hold-down-secs = 0

[roles]
lead = ["alice"]
operator = ["bob", "olga"]
viewer = ["wall"]

[[tenant]]
name = "acme"

[[wave]]
name = "pilot"
tenants = ["acme"]
owner = "olga"
decision-rights = { halt = ["owner"] }

[[wave.step]]
title = "Lower the MX TTL to 300 s"
stage = "before-delta"
who = "user:olga"

[[wave.step]]
title = "Mobile profile published"
stage = "before-cutover"
who = "operator"
check = "echo profile missing on portal; exit 3"
check-interval-secs = 3600

[[mailbox]]
source = "user1"
tenant = "acme"
"#;

fn caller(user: &str, role: Role) -> Caller {
    Caller {
        uid: 7000,
        user: user.into(),
        role,
    }
}

fn engine(dir: &std::path::Path) -> (Arc<Engine>, Arc<Journal>) {
    // SAFETY: set before the engine reads the environment.
    unsafe { std::env::set_var("CUTOVER_RUNBOOK_PASS", "unused") };
    let path = dir.join("plan.toml");
    std::fs::write(&path, PLAN).unwrap();
    let plan = Arc::new(cutover::plan::load(&path).unwrap());
    let journal = Arc::new(Journal::open(&dir.join("runbook.journal")).unwrap());
    let options = RunOptions {
        exit_when_finished: true,
        schedule: false,
    };
    let (_handle, engine, _task) =
        Engine::start(plan, journal.clone(), Arc::new(Metrics::new()), options).unwrap();
    (engine, journal)
}

#[tokio::test]
async fn an_open_step_holds_the_wave_until_its_owner_ticks_it() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, journal) = engine(dir.path());

    let held = held_reason(&engine.check_gates(0, Stage::BeforeDelta)).unwrap();
    assert!(
        held.contains("\"Lower the MX TTL to 300 s\" is open (owner: olga)"),
        "{held}"
    );

    let viewer = engine.handle(
        &caller("wall", Role::Viewer),
        &Action::TickStep {
            wave: "pilot".into(),
            step: 0,
        },
    );
    assert!(
        !viewer.is_accepted() && viewer.text().contains("needs the operator role"),
        "{}",
        viewer.text()
    );
    let other = engine.handle(
        &caller("bob", Role::Operator),
        &Action::TickStep {
            wave: "pilot".into(),
            step: 0,
        },
    );
    assert!(
        !other.is_accepted() && other.text().contains("belongs to olga"),
        "{}",
        other.text()
    );

    let owner = engine.handle(
        &caller("olga", Role::Operator),
        &Action::TickStep {
            wave: "pilot".into(),
            step: 0,
        },
    );
    assert!(owner.is_accepted(), "{}", owner.text());
    assert_eq!(
        held_reason(&engine.check_gates(0, Stage::BeforeDelta)),
        None
    );

    let audit = journal.recent_audit(10).unwrap();
    let refused: Vec<&str> = audit
        .iter()
        .filter(|a| a.decision == "refused")
        .map(|a| a.user.as_str())
        .collect();
    assert_eq!(refused, ["wall", "bob"]);
}

#[tokio::test]
async fn a_failing_check_keeps_the_step_open_with_its_output() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, journal) = engine(dir.path());
    let reply = engine.handle(
        &caller("bob", Role::Operator),
        &Action::TickStep {
            wave: "pilot".into(),
            step: 1,
        },
    );
    assert!(reply.is_accepted(), "{}", reply.text());

    let mut row = None;
    for _ in 0..50 {
        row = journal
            .steps()
            .unwrap()
            .into_iter()
            .find(|r| r.step == 1 && r.check_exit.is_some());
        if row.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let row = row.expect("the check ran");
    assert_eq!(row.check_exit, Some(3));
    assert_eq!(
        row.check_output.as_deref(),
        Some("profile missing on portal")
    );
    assert!(!row.done);
    let verdicts = engine.check_gates(0, Stage::BeforeCutover);
    assert!(
        verdicts.iter().any(|(gate, reason)| gate == "runbook"
            && reason
                .as_deref()
                .is_some_and(|r| r.contains("\"Mobile profile published\" is open"))),
        "{verdicts:?}"
    );
}

#[tokio::test]
async fn the_runbook_narrows_who_may_halt_its_wave() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _journal) = engine(dir.path());
    let lead = engine.handle(&caller("alice", Role::Lead), &Action::HaltNextWave);
    assert!(
        !lead.is_accepted() && lead.text().contains("gives this decision to owner only"),
        "{}",
        lead.text()
    );
}

#[test]
fn the_demo_plans_handoff_is_stable() {
    let out = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(["--log-file"])
        .arg(out.path().join("log"))
        .args(["--state-dir"])
        .arg(out.path().join("state"))
        .args(["handoff", "assets/demo-plan.toml", "pilot", "--out"])
        .arg(out.path())
        .env("CUTOVER_STATE_DIR", out.path().join("state"))
        .status()
        .unwrap();
    assert!(status.success());
    let md = std::fs::read_to_string(out.path().join("pilot-handoff.md")).unwrap();
    insta::assert_snapshot!("demo_pilot_handoff_md", md);
    let csv = std::fs::read_to_string(out.path().join("pilot-handoff.csv")).unwrap();
    insta::assert_snapshot!("demo_pilot_handoff_csv", csv);
}
