//! Waves against the Dovecot testbed: a plan of three waves runs to done;
//! gates hold on error rate and latency; halt, resume and extend from
//! `cutover ctl` (refused for a viewer, audited either way); `kill -9` at
//! random moments resumes to done; rollback brings back mail that users
//! received on the destination after cutover.
//!
//! Accounts (see tests/common/mod.rs): user13..user24.

mod common;

use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::{PlanBuilder, compare, describe, fresh, stdout, testbed};
use serde_json::Value;

/// Prepends top-level keys (they must come before the first table).
fn with_top(plan: &common::Plan, top: &str) {
    std::fs::write(&plan.path, format!("{top}\n{}", plan.text)).expect("rewrite plan");
}

fn waves(spec: &[(&str, &[&str])]) -> String {
    let mut text = String::new();
    for (name, mailboxes) in spec {
        let list: Vec<String> = mailboxes.iter().map(|m| format!("\"{m}\"")).collect();
        let _ = write!(
            text,
            "[[wave]]\nname = \"{name}\"\nmailboxes = [{}]\n\n",
            list.join(", ")
        );
    }
    text
}

/// `cutover ctl PLAN status --json`, parsed.
fn status(plan: &common::Plan) -> Option<Value> {
    let out = plan.run("ctl", &["status", "--json"]);
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).ok())
        .flatten()
}

fn wave<'a>(snapshot: &'a Value, name: &str) -> &'a Value {
    snapshot["waves"]
        .as_array()
        .and_then(|w| w.iter().find(|w| w["name"] == name))
        .unwrap_or(&Value::Null)
}

/// Polls the running engine until `done` says yes, or panics after `limit`.
fn wait_for(
    plan: &common::Plan,
    limit: Duration,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let started = Instant::now();
    let mut last = Value::Null;
    while started.elapsed() < limit {
        if let Some(s) = status(plan) {
            if done(&s) {
                return s;
            }
            last = s;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!(
        "timed out waiting for {what}; last status:\n{}\n--- log\n{}",
        common::show(&last),
        plan.log_tail(40)
    );
}

struct Engine(Child);

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_engine(plan: &common::Plan) -> Engine {
    let mut cmd = plan.command(&["run", plan.path.to_str().unwrap_or_default(), "--headless"]);
    Engine(common::spawn_quiet(std::mem::replace(
        &mut cmd,
        Command::new("true"),
    )))
}

const FAST_GATES: &str = "[thresholds]\nwindow-secs = 20\nhold-down-secs = 1\n";

#[test]
fn three_waves_run_to_done() {
    testbed();
    fresh(&["user13", "user14", "user15"], 40, 13);
    let plan = PlanBuilder::master("three-waves", &["user13", "user14", "user15"])
        .extra(FAST_GATES)
        .extra(&waves(&[
            ("pilot", &["user13"]),
            ("early", &["user14"]),
            ("main", &["user15"]),
        ]))
        .build();
    let out = plan.run("run", &["--headless"]);
    assert_eq!(out.status.code(), Some(0), "{}", plan.context(&out));
    let text = stdout(&out);
    for name in ["pilot", "early", "main"] {
        assert!(
            text.contains(&format!("wave {name} done")),
            "wave {name} not done:\n{text}"
        );
    }
    common::assert_identical(
        &compare(&["user13", "user14", "user15"]),
        "after three waves",
    );
    let list = std::fs::read_to_string(plan.dir.path().join("state/cutover-lists/early.csv"))
        .expect("cutover list");
    assert!(
        list.starts_with("mailbox,destination,tenant,manifest_root_digest,time"),
        "{list}"
    );
    assert!(list.contains("user14,user14,test,"), "{list}");
}

#[test]
fn a_cohort_whose_destination_logins_fail_is_held_by_the_error_rate() {
    testbed();
    fresh(&["user16", "user17"], 10, 16);
    let plan = PlanBuilder::master("error-gate", &["user16", "user17"])
        .user_auth(
            &[("user16", "pass16"), ("user17", "pass17")],
            &[("user16", "wrong"), ("user17", "wrong")],
        )
        .extra(FAST_GATES)
        .extra(&waves(&[("cohort", &["user16", "user17"])]))
        .build();
    let _engine = start_engine(&plan);
    let s = wait_for(&plan, Duration::from_mins(1), "the error-rate hold", |s| {
        wave(s, "cohort")["reason"]
            .as_str()
            .is_some_and(|r| r.contains("destination error rate"))
    });
    let reason = wave(&s, "cohort")["reason"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        wave(&s, "cohort")["phase"] == "held",
        "{}",
        common::show(&s)
    );
    assert!(
        reason.starts_with("held: destination error rate") && reason.contains("> 5.0 %"),
        "{reason}"
    );
    assert!(
        s["errors"]
            .as_array()
            .is_some_and(|e| e.iter().any(|e| e["category"] == "authentication"))
    );
}

#[test]
fn latency_above_the_threshold_holds_the_wave() {
    testbed();
    fresh(&["user18"], 30, 18);
    let plan = PlanBuilder::master("latency-gate", &["user18"])
        .extra("[thresholds]\nmax-p95-append-ms = 0\nwindow-secs = 600\nhold-down-secs = 1\n")
        .extra(&waves(&[("slow", &["user18"])]))
        .build();
    let _engine = start_engine(&plan);
    let s = wait_for(&plan, Duration::from_mins(1), "the latency hold", |s| {
        wave(s, "slow")["reason"]
            .as_str()
            .is_some_and(|r| r.contains("p95 APPEND"))
    });
    let reason = wave(&s, "slow")["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("ms > 0 ms"), "{reason}");
}

#[test]
fn halt_resume_and_extend_from_ctl_with_roles_and_audit() {
    testbed();
    fresh(&["user19"], 20, 19);
    let viewer = common::socket_group_user();
    let plan = PlanBuilder::master("ctl", &["user19"])
        .extra("[thresholds]\nmax-p95-append-ms = 0\nhold-down-secs = 1\n")
        .extra("[maintenance-window]\nstart = \"2026-01-01T00:00:00Z\"\nend = \"2030-01-01T00:00:00Z\"\n")
        .extra("[roles]\nlead = [\"root\"]\n")
        .extra(&waves(&[("w1", &["user19"]), ("w2", &[])]))
        .build();
    with_top(&plan, "control-group = \"cutover-test\"");
    std::fs::set_permissions(plan.dir.path(), std::fs::Permissions::from_mode(0o711))
        .expect("chmod");
    let _engine = start_engine(&plan);
    wait_for(&plan, Duration::from_mins(1), "the wave to hold", |s| {
        wave(s, "w1")["phase"] == "held"
    });

    let second = plan.run("run", &["--headless"]);
    assert_eq!(
        second.status.code(),
        Some(3),
        "a second engine must not start\n{}",
        describe(&second)
    );
    assert!(
        common::stderr(&second).contains("already running"),
        "{}",
        describe(&second)
    );

    let halt = plan.run("ctl", &["halt"]);
    assert!(
        halt.status.success() && stdout(&halt).contains("accepted"),
        "{}",
        describe(&halt)
    );
    wait_for(&plan, Duration::from_secs(20), "the halt", |s| {
        s["halted"] == true && wave(s, "w1")["phase"] == "halted"
    });

    let socket = plan.dir.path().join("state/ctl.sock");
    let refused = Command::new("runuser")
        .args([
            "-u",
            viewer,
            "--",
            env!("CARGO_BIN_EXE_cutover"),
            "--log-file",
            "/dev/null",
            "ctl",
            "unused.toml",
            "--socket",
        ])
        .arg(&socket)
        .arg("resume")
        .output()
        .expect("runuser");
    assert_eq!(refused.status.code(), Some(5), "{}", describe(&refused));
    assert!(
        stdout(&refused)
            .contains("refused for cutover-viewer (viewer): resume needs the lead role"),
        "{}",
        describe(&refused)
    );

    let extend = plan.run("ctl", &["extend", "30m", "--reason", "tenant acme is slow"]);
    assert!(
        stdout(&extend).contains("2030-01-01 00:30Z"),
        "{}",
        describe(&extend)
    );
    let resume = plan.run("ctl", &["resume"]);
    assert!(resume.status.success(), "{}", describe(&resume));
    let s = wait_for(&plan, Duration::from_secs(20), "the resume", |s| {
        s["halted"] == false
    });

    let audit: Vec<(String, String, String)> = s["audit"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    let text = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
                    (text("user"), text("action"), text("decision"))
                })
                .collect()
        })
        .unwrap_or_default();
    let expected = [
        ("root", "halt", "accepted"),
        ("cutover-viewer", "resume", "refused"),
        ("root", "extend", "accepted"),
        ("root", "resume", "accepted"),
    ];
    let got: Vec<(&str, &str, &str)> = audit
        .iter()
        .map(|(u, a, d)| (u.as_str(), a.as_str(), d.as_str()))
        .collect();
    assert_eq!(got, expected, "audit log");
    assert_eq!(
        s["window"]["extensions"][0]["reason"],
        "tenant acme is slow"
    );
}

#[test]
fn kill_9_during_the_waves_resumes_to_done_without_loss() {
    testbed();
    let users = ["user20", "user21", "user22"];
    for (i, user) in users.iter().enumerate() {
        common::fill_with(user, 120, 20 + i as u64, 0.02);
        common::wipe_dst(user);
    }
    let plan = PlanBuilder::master("kill-waves", &users)
        .extra(FAST_GATES)
        .extra(&waves(&[
            ("a", &["user20"]),
            ("b", &["user21"]),
            ("c", &["user22"]),
        ]))
        .build();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for round in 0..5 {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let wait = 300 + (seed >> 33) % 2500;
        let mut engine = start_engine(&plan);
        std::thread::sleep(Duration::from_millis(wait));
        // SIGKILL: no chance to tidy up.
        let _ = engine.0.kill();
        let _ = engine.0.wait();
        eprintln!("round {round}: killed after {wait} ms");
    }
    let out = plan.run("run", &["--headless"]);
    assert_eq!(out.status.code(), Some(0), "{}", plan.context(&out));
    let v = compare(&users);
    common::assert_identical(&v, "after repeated kill -9");
    assert_eq!(
        common::total(&v, "extra"),
        0,
        "duplicates on the destination"
    );
}

#[test]
fn rollback_brings_back_mail_received_after_cutover() {
    testbed();
    fresh(&["user23"], 30, 23);
    let plan = PlanBuilder::master("rollback", &["user23"])
        .extra(FAST_GATES)
        .extra("[roles]\nlead = [\"root\"]\n")
        .extra(&waves(&[("only", &["user23"])]))
        .build();
    let out = plan.run("run", &["--headless"]);
    assert_eq!(out.status.code(), Some(0), "{}", plan.context(&out));

    common::deliver(&[
        "--port",
        "20143",
        "--user",
        "user23",
        "--folder",
        "INBOX",
        "--count",
        "3",
        "--tag",
        "after-cutover",
    ]);
    common::deliver(&[
        "--port",
        "20143",
        "--user",
        "user23",
        "--folder",
        "INBOX",
        "--flag",
        "\\Flagged",
        "--uids",
        "first:2",
    ]);
    let back = plan.run("rollback", &["only"]);
    assert_eq!(back.status.code(), Some(0), "{}", plan.context(&back));
    assert!(
        stdout(&back).contains("3 message(s) received after cutover copied back"),
        "{}",
        describe(&back)
    );
    common::assert_identical(
        &compare(&["user23"]),
        "source and destination after rollback",
    );
}

fn dns_set(args: &[&str]) {
    let out = Command::new(common::script("dns-testbed.sh"))
        .args(args)
        .output()
        .expect("dns-testbed.sh");
    assert!(
        out.status.success(),
        "dns-testbed.sh {args:?} failed\n{}",
        describe(&out)
    );
}

#[test]
fn a_wave_waits_for_its_dns_ttl_then_cuts_over_and_is_done_when_dns_switched() {
    testbed();
    dns_set(&["start"]);
    dns_set(&["set", "engine-gate", "A", "5", "127.0.0.1"]);
    fresh(&["user24"], 10, 24);
    let plan = PlanBuilder::master("dns-gate", &["user24"])
        .extra(FAST_GATES)
        .extra(&waves(&[("pilot", &["user24"])]))
        .extra(
            "[dns]\ninterval-secs = 1\ntimeout-ms = 500\n\
             [[dns.nameserver]]\nname = \"ns1\"\naddress = \"127.0.0.1:5353\"\nrole = \"authoritative\"\n\
             [[dns.record]]\nname = \"engine-gate.example.test\"\ntype = \"A\"\nbefore = [\"127.0.0.1\"]\n\
             after = [\"127.0.0.2\"]\ntarget-ttl = 2\nwave = \"pilot\"\n",
        )
        .build();
    let _engine = start_engine(&plan);
    let s = wait_for(&plan, Duration::from_mins(1), "the DNS hold", |s| {
        wave(s, "pilot")["reason"]
            .as_str()
            .is_some_and(|r| r.contains("TTL 5 s > 2 s"))
    });
    assert_eq!(wave(&s, "pilot")["phase"], "held", "{}", common::show(&s));
    assert!(
        s["dns"][0]["state"] == "ttl-high",
        "{}",
        common::show(&s["dns"])
    );

    dns_set(&["set", "engine-gate", "A", "2", "127.0.0.1"]);
    wait_for(
        &plan,
        Duration::from_mins(1),
        "cutover once the old TTL ran out",
        |s| wave(s, "pilot")["phase"] == "cut-over",
    );
    dns_set(&["set", "engine-gate", "A", "2", "127.0.0.2"]);
    let s = wait_for(
        &plan,
        Duration::from_mins(1),
        "done once DNS switched",
        |s| wave(s, "pilot")["phase"] == "done",
    );
    assert_eq!(s["dns"][0]["state"], "done", "{}", common::show(&s["dns"]));
}

#[test]
fn a_failing_cutover_hook_leaves_the_wave_not_cut_over() {
    testbed();
    fresh(&["user39"], 10, 39);
    let plan = PlanBuilder::master("hook", &["user39"])
        .extra(FAST_GATES)
        .extra("[[wave]]\nname = \"hooked\"\nmailboxes = [\"user39\"]\ncutover-hook = \"echo dns api said no; exit 3\"\n")
        .build();
    let _engine = start_engine(&plan);
    let s = wait_for(&plan, Duration::from_mins(1), "the failed hook", |s| {
        wave(s, "hooked")["reason"]
            .as_str()
            .is_some_and(|r| r.contains("cutover hook exited 3"))
    });
    assert_eq!(wave(&s, "hooked")["phase"], "held", "{}", common::show(&s));
    assert!(
        s["mailboxes"][0]["cutover"] == false,
        "no mailbox may be flagged cut over: {}",
        common::show(&s["mailboxes"])
    );
    let events = common::show(&s["events"]);
    assert!(
        events.contains("dns api said no"),
        "the hook's output is recorded: {events}"
    );
}
