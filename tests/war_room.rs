//! The war room end to end, in a real terminal (tmux): a lead halts the next
//! wave with the keyboard and sees the hold; a viewer presses the same key and
//! sees the refusal; an attached client from another Unix user is refused by
//! the engine itself, sees "reconnecting" when the engine dies and is live
//! again when it comes back.
//!
//! Accounts: user35..user38 (see tests/common/mod.rs).

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{PlanBuilder, fresh, testbed};

/// A tmux server of the test's own, killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn new(name: &str) -> Self {
        let socket = format!("cutover-test-{name}-{}", std::process::id());
        Self { socket }
    }

    fn tmux(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux (apt-get install tmux)")
    }

    /// Starts `command` (a shell line) in a detached 100×30 terminal.
    fn start(&self, session: &str, command: &str) {
        let out = self.tmux(&[
            "new-session",
            "-d",
            "-s",
            session,
            "-x",
            "100",
            "-y",
            "30",
            command,
        ]);
        assert!(
            out.status.success(),
            "tmux new-session failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn keys(&self, session: &str, keys: &[&str]) {
        for key in keys {
            self.tmux(&["send-keys", "-t", session, key]);
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    fn screen(&self, session: &str) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", session]).stdout)
            .into_owned()
    }

    /// Waits until the screen shows `text`, or panics with the last screen.
    fn wait_for(&self, session: &str, text: &str, limit: Duration) -> String {
        let started = Instant::now();
        loop {
            let screen = self.screen(session);
            if screen.contains(text) {
                return screen;
            }
            assert!(
                started.elapsed() < limit,
                "screen never showed {text:?}; last screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.tmux(&["kill-server"]);
    }
}

/// A shell line that runs cutover with the plan's environment.
fn shell_line(plan: &common::Plan, args: &str) -> String {
    let env: Vec<String> = plan.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!(
        "cd {} && env {} CUTOVER_LOG_FILE={}/cutover.log {} {args}; sleep 60",
        plan.dir.path().display(),
        env.join(" "),
        plan.dir.path().display(),
        env!("CARGO_BIN_EXE_cutover"),
    )
}

/// A plan whose first wave holds at its gate (latency threshold of 0 ms),
/// so there is always a next wave to halt.
fn held_plan(name: &str, mailbox: &str) -> common::Plan {
    PlanBuilder::master(name, &[mailbox])
        .extra("[thresholds]\nmax-p95-append-ms = 0\nhold-down-secs = 1\n")
        .extra("[roles]\nlead = [\"root\"]\n")
        .extra(&format!("[[wave]]\nname = \"first\"\nmailboxes = [\"{mailbox}\"]\n\n[[wave]]\nname = \"second\"\nmailboxes = []\n"))
        .build()
}

#[test]
fn a_lead_halts_the_next_wave_and_a_viewer_is_refused() {
    testbed();
    fresh(&["user35"], 20, 35);
    let plan = held_plan("tmux-lead", "user35");
    let tmux = Tmux::new("lead");
    tmux.start(
        "lead",
        &shell_line(&plan, &format!("run {}", plan.path.display())),
    );
    tmux.wait_for("lead", "held: p95 APPEND", Duration::from_mins(1));

    tmux.keys("lead", &["h"]);
    tmux.wait_for("lead", "halt?", Duration::from_secs(5));
    tmux.keys("lead", &["y"]);
    let screen = tmux.wait_for("lead", "HALTED", Duration::from_secs(10));
    assert!(screen.contains("halted by root"), "{screen}");
    tmux.keys("lead", &["q", "y"]);
    std::thread::sleep(Duration::from_secs(1));

    let viewer = held_plan("tmux-viewer", "user36");
    fresh(&["user36"], 10, 36);
    tmux.start(
        "viewer",
        &shell_line(
            &viewer,
            &format!("run {} --role viewer", viewer.path.display()),
        ),
    );
    tmux.wait_for("viewer", "(viewer)", Duration::from_secs(30));
    tmux.keys("viewer", &["h"]);
    let screen = tmux.wait_for("viewer", "needs the lead role", Duration::from_secs(10));
    assert!(
        !screen.contains("HALTED"),
        "a viewer's key must not halt:\n{screen}"
    );
}

#[test]
fn attached_clients_act_by_their_uid_and_reconnect_after_the_engine_restarts() {
    testbed();
    fresh(&["user37"], 20, 37);
    let user = common::socket_group_user();
    let plan = held_plan("tmux-attach", "user37");
    std::fs::write(
        &plan.path,
        format!("control-group = \"cutover-test\"\n{}", plan.text),
    )
    .expect("plan");
    std::fs::set_permissions(plan.dir.path(), std::fs::Permissions::from_mode(0o711))
        .expect("chmod");
    let socket = plan.dir.path().join("state/tmux-attach.sock");

    let engine_line = shell_line(&plan, &format!("run {} --headless", plan.path.display()));
    let tmux = Tmux::new("attach");
    tmux.start("engine", &engine_line);
    tmux.start(
        "lead",
        &shell_line(&plan, &format!("attach {}", plan.path.display())),
    );
    tmux.wait_for("lead", "held: p95 APPEND", Duration::from_mins(1));
    let attach_other = format!(
        "runuser -u {user} -- {} --log-file /dev/null attach unused.toml --socket {}; sleep 60",
        env!("CARGO_BIN_EXE_cutover"),
        socket.display()
    );
    tmux.start("other", &attach_other);
    tmux.wait_for("other", "held: p95 APPEND", Duration::from_secs(30));

    tmux.keys("lead", &["h", "y"]);
    tmux.wait_for("lead", "HALTED", Duration::from_secs(10));
    tmux.wait_for("other", "HALTED", Duration::from_secs(10));
    tmux.keys("other", &["r"]);
    tmux.wait_for("other", "needs the lead role", Duration::from_secs(10));

    let status = plan.run("ctl", &["status", "--json"]);
    let s: serde_json::Value = serde_json::from_slice(&status.stdout).expect("status json");
    let halts: Vec<&serde_json::Value> = s["audit"]
        .as_array()
        .map(|a| a.iter().filter(|e| e["action"] == "halt").collect())
        .unwrap_or_default();
    assert_eq!(halts.len(), 1, "{}", common::show(&s["audit"]));
    assert_eq!(halts[0]["user"], "root");
    assert_eq!(halts[0]["decision"], "accepted");

    // The engine dies: the client says so instead of showing old figures.
    // The engine writes its pid into its journal lock.
    let pid = std::fs::read_to_string(plan.dir.path().join("state/tmux-attach.lock"))
        .expect("engine lock");
    let killed = Command::new("kill")
        .args(["-KILL", pid.trim()])
        .status()
        .expect("kill");
    assert!(killed.success(), "could not kill engine pid {pid}");
    let started = Instant::now();
    while !tmux.screen("lead").contains("reconnecting") {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no reconnecting state; screen:\n{}\n--- log\n{}",
            tmux.screen("lead"),
            plan.log_tail(30)
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    tmux.tmux(&["kill-session", "-t", "engine"]);
    tmux.start("engine", &engine_line);
    let screen = tmux.wait_for("lead", "● connected", Duration::from_secs(40));
    assert!(!screen.contains("reconnecting"), "{screen}");
}
