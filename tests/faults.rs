//! The engine under faults, checked on the servers themselves with
//! scripts/compare-servers.py:
//!
//! * 5 % of the connections to both servers go through a fault proxy
//!   (tests/support/proxy.rs) that resets, stalls, slows or cuts a literal:
//!   the wave still ends verified, nothing lost, nothing duplicated, and the
//!   faults show up as retried errors in their categories;
//! * the destination Dovecot is restarted in the middle of a sync;
//! * a destination user over quota and a message over the destination's
//!   20 MB limit are refused with their own categories while the other
//!   mailboxes finish, and a rerun loses nothing.
//!
//! The proxy test uses the shared testbed (accounts user25..user32, see
//! tests/common/mod.rs). The restart and the quota tests run on a private
//! testbed pair (scripts/testbed.sh with its own state dir and ports), so
//! that restarting a Dovecot and filling `quotauser` never disturb tests
//! running at the same time against the shared one; those two tests take
//! turns through a lock.

mod common;
#[path = "support/proxy.rs"]
mod proxy;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use common::{
    PlanBuilder, assert_identical, compare, counter, describe, dst_port, fresh, json_lines,
    run_with_timeout, script, show, src_port, summary, total,
};
use proxy::{Fault, FaultConfig, Proxy};
use serde_json::Value;

/// Points a built plan at other ports and sets its per-command timeout.
fn retarget(plan: &mut common::Plan, from: (u16, u16), to: (u16, u16), timeout_secs: u32) {
    let text = plan
        .text
        .replacen(
            &format!("port = {}\n", from.0),
            &format!("port = {}\n", to.0),
            1,
        )
        .replacen(
            &format!("port = {}\n", from.1),
            &format!("port = {}\n", to.1),
            1,
        )
        .replace(
            "timeout-secs = 60\n",
            &format!("timeout-secs = {timeout_secs}\n"),
        );
    assert_ne!(text, plan.text, "plan not retargeted:\n{}", plan.text);
    std::fs::write(&plan.path, &text).expect("rewrite plan");
    plan.text = text;
}

/// The `retry` events of a `--json` run.
fn retries(out: &Output) -> Vec<Value> {
    json_lines(out)
        .into_iter()
        .filter(|v| v["event"] == "retry")
        .collect()
}

/// The `finished` event of one mailbox.
fn finished(out: &Output, mailbox: &str) -> Value {
    json_lines(out)
        .into_iter()
        .rev()
        .find(|v| v["event"] == "finished" && v["mailbox"] == mailbox)
        .unwrap_or_else(|| panic!("no finished event for {mailbox}\n{}", describe(out)))
}

/// `summary.errors` as a map category -> count.
fn error_counts(summary: &Value) -> BTreeMap<String, u64> {
    summary["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|pair| Some((pair[0].as_str()?.to_owned(), pair[1].as_u64()?)))
        .collect()
}

const TRANSIENT: [&str; 3] = ["connection", "timeout", "protocol"];

/// Manifest verified, with a root digest and the source's message count.
fn assert_manifest_verified(plan: &common::Plan, cmp: &Value, user: &str) {
    let m = plan.manifest(user);
    assert_eq!(
        m["verified"].as_bool(),
        Some(true),
        "manifest of {user} not verified:\n{}",
        show(&m)
    );
    let expected: u64 = common::source_counts(cmp, user).values().sum();
    assert_eq!(
        m["messages"].as_u64(),
        Some(expected),
        "manifest message total of {user}:\n{}",
        show(&m)
    );
}

// ------------------------------------------------------------ 5 % faults --

#[test]
fn five_percent_of_connections_faulted_loses_and_duplicates_nothing() {
    let users = [
        "user25", "user26", "user27", "user28", "user29", "user30", "user31", "user32",
    ];
    let filled = fresh(&users, 60, 250);
    // Seeds whose 5 % draw faults a few of the first 40 connections, so the
    // run (about 70 connections per server) surely meets some faults.
    let (src_seed, dst_seed) = (0x5EED_0005, 0x5EED_0024);
    for seed in [src_seed, dst_seed] {
        let early = proxy::armed_indices(seed, 0.05, 40);
        assert!(
            early.len() >= 2,
            "seed {seed:#x} faults too few early connections: {early:?}"
        );
    }
    // Source connections carry the message literals (FETCH BODY[]): cut one first.
    let mut src_faults = FaultConfig::new(src_seed, 0.05);
    src_faults.kinds = vec![Fault::CutLiteral, Fault::Reset, Fault::Stall, Fault::Slow];
    let src = Proxy::start(src_port(), src_faults);
    let dst = Proxy::start(dst_port(), FaultConfig::new(dst_seed, 0.05));
    // Many folder workers per mailbox: many connections, each a chance of a fault.
    let mut plan = PlanBuilder::master("faults-5pct", &users)
        .extra("[concurrency]\nconnections-per-server = 32\nfolders-per-mailbox = 8\n")
        .build();
    retarget(
        &mut plan,
        (src_port(), dst_port()),
        (src.port(), dst.port()),
        3,
    );

    let started = Instant::now();
    let out = plan.sync_json();
    let took = started.elapsed();
    let (src_counts, dst_counts) = (src.counts(), dst.counts());
    drop((src, dst));
    eprintln!(
        "5% faults: sync took {:.1} s\n  source proxy:      {src_counts}\n  destination proxy: {dst_counts}",
        took.as_secs_f64()
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "sync through the fault proxies must end with every mailbox verified \
         (source proxy: {src_counts}; destination proxy: {dst_counts})\n{}",
        plan.context(&out)
    );
    let s = summary(&out);
    assert_eq!(counter(&s, "verified"), users.len() as u64, "summary: {s}");
    assert_eq!(counter(&s, "failed"), 0, "summary: {s}");

    let cmp = compare(&users);
    assert_identical(&cmp, "after a sync through 5 % faulted connections");
    assert_eq!(total(&cmp, "missing"), 0, "{}", show(&cmp));
    assert_eq!(total(&cmp, "extra"), 0, "{}", show(&cmp));
    let expected: u64 = filled.iter().map(|f| f.messages).sum();
    assert_eq!(total(&cmp, "dst_messages"), expected, "{}", show(&cmp));
    for u in users {
        assert_manifest_verified(&plan, &cmp, u);
    }

    // The faults were seen, retried, and filed under transient categories.
    let all = src_counts + dst_counts;
    assert!(all.armed > 0, "no connection was faulted: {all}");
    let retried = retries(&out);
    let errors = error_counts(&s);
    eprintln!(
        "  retries: {} ({:?}); summary errors: {errors:?}",
        retried.len(),
        retried
            .iter()
            .map(|r| format!("{} {}", r["mailbox"], r["category"]))
            .collect::<Vec<_>>()
    );
    if all.disruptive() > 0 {
        assert!(
            !retried.is_empty(),
            "{} disruptive faults ({all}) but no retry event\n{}",
            all.disruptive(),
            plan.context(&out)
        );
    }
    for r in &retried {
        let category = r["category"].as_str().unwrap_or_default();
        assert!(
            TRANSIENT.contains(&category),
            "a fault was retried under category {category:?}: {r}"
        );
    }
    for (category, n) in &errors {
        assert!(
            TRANSIENT.contains(&category.as_str()),
            "summary counts {n} error(s) of category {category} under network faults: {s}"
        );
    }
    let from_events: BTreeSet<&str> = retried
        .iter()
        .filter_map(|r| r["category"].as_str())
        .collect();
    for category in from_events {
        assert!(
            errors.contains_key(category),
            "retried {category} errors are missing from the summary's errors: {s}"
        );
    }
}

// ------------------------------------------------------ private testbed --

/// A second testbed pair for the tests that restart a server or need
/// `quotauser`: its own state dir and ports, started by scripts/testbed.sh.
struct PrivateTestbed {
    _turn: MutexGuard<'static, ()>,
}

static PRIVATE: Mutex<()> = Mutex::new(());

const PRIVATE_DIR: &str = "/tmp/cutover-faults-testbed";
const P_SRC: u16 = 11143;
const P_DST: u16 = 21143;
const P_SRC_TLS: u16 = 11993;
const P_DST_TLS: u16 = 21993;

impl PrivateTestbed {
    fn script(action: &str) -> Output {
        let mut cmd = Command::new(script("testbed.sh"));
        cmd.args([action, PRIVATE_DIR])
            .current_dir(common::repo_root())
            .env("CUTOVER_TESTBED_USERS", common::TESTBED_USERS.to_string())
            .env("CUTOVER_SRC_PORT", P_SRC.to_string())
            .env("CUTOVER_DST_PORT", P_DST.to_string())
            .env("CUTOVER_SRC_IMAPS_PORT", P_SRC_TLS.to_string())
            .env("CUTOVER_DST_IMAPS_PORT", P_DST_TLS.to_string());
        run_with_timeout(&mut cmd, common::CHILD_TIMEOUT)
    }

    fn start() -> Self {
        let turn = PRIVATE
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let out = Self::script("start");
        assert!(
            out.status.success(),
            "private testbed did not start\n{}",
            describe(&out)
        );
        Self { _turn: turn }
    }

    /// `scripts/testbed.sh restart-dst`, then ends the old instance's IMAP
    /// sessions if they outlived their master (a stopped Dovecot does not
    /// always take its running `imap` processes with it; a real restart or
    /// crash does). Returns the script's output and how many were ended.
    #[expect(
        clippy::unused_self,
        reason = "&self proves the private testbed is up and held by us"
    )]
    fn restart_dst(&self) -> (Output, usize) {
        let pid_file = format!("{PRIVATE_DIR}/dst/run/master.pid");
        let master: Option<u32> = std::fs::read_to_string(pid_file)
            .ok()
            .and_then(|t| t.trim().parse().ok());
        let sessions: Vec<u32> = master.map(imap_children).unwrap_or_default();
        let out = Self::script("restart-dst");
        let mut ended = 0;
        for pid in sessions {
            if process_is(pid, "imap") {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
                ended += 1;
            }
        }
        (out, ended)
    }

    fn corpus(port: u16, user: &str, extra: &[&str]) -> Output {
        let mut cmd = Command::new(script("make-corpus.py"));
        cmd.current_dir(common::repo_root()).args([
            "--port",
            &port.to_string(),
            "--users",
            &common::TESTBED_USERS.to_string(),
            "--only-user",
            user,
            "--jobs",
            "1",
        ]);
        cmd.args(extra);
        let out = run_with_timeout(&mut cmd, common::CHILD_TIMEOUT);
        assert!(
            out.status.success(),
            "make-corpus.py for {user} on port {port}\n{}",
            describe(&out)
        );
        out
    }

    /// Empty destination, fresh source corpus; returns the message count.
    #[expect(
        clippy::unused_self,
        reason = "&self proves the private testbed is up and held by us"
    )]
    fn fresh(&self, user: &str, messages: u32, seed: u64) -> u64 {
        Self::corpus(P_DST, user, &["--wipe-only"]);
        let out = Self::corpus(
            P_SRC,
            user,
            &[
                "--wipe",
                "--messages",
                &messages.to_string(),
                "--seed",
                &seed.to_string(),
                "--big-ratio",
                "0",
            ],
        );
        let v: Value = serde_json::from_slice(&out.stdout).expect("make-corpus JSON");
        v["messages"].as_u64().expect("messages")
    }

    #[expect(
        clippy::unused_self,
        reason = "&self proves the private testbed is up and held by us"
    )]
    fn compare(&self, users: &[&str]) -> Value {
        let mut cmd = Command::new(script("compare-servers.py"));
        cmd.current_dir(common::repo_root()).args([
            "--src-port",
            &P_SRC.to_string(),
            "--dst-port",
            &P_DST.to_string(),
        ]);
        for u in users {
            cmd.args(["--user", u]);
        }
        let out = run_with_timeout(&mut cmd, common::CHILD_TIMEOUT);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "compare-servers.py on the private testbed\n{}",
            describe(&out)
        );
        serde_json::from_slice(&out.stdout).expect("compare JSON")
    }

    /// A master-user plan for this testbed.
    #[expect(
        clippy::unused_self,
        reason = "&self proves the private testbed is up and held by us"
    )]
    fn plan(&self, name: &str, users: &[&str], timeout_secs: u32) -> common::Plan {
        let mut plan = PlanBuilder::master(name, users).build();
        retarget(
            &mut plan,
            (src_port(), dst_port()),
            (P_SRC, P_DST),
            timeout_secs,
        );
        plan
    }
}

impl Drop for PrivateTestbed {
    fn drop(&mut self) {
        let _ = Self::script("stop");
    }
}

// ------------------------------------------------ destination restarted --

/// `(command name, parent pid)` of a process, from /proc.
fn proc_stat(pid: u32) -> Option<(String, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat[open + 1..close].to_owned();
    let parent = stat[close + 1..].split_whitespace().nth(1)?.parse().ok()?;
    Some((comm, parent))
}

fn process_is(pid: u32, comm: &str) -> bool {
    proc_stat(pid).is_some_and(|(c, _)| c == comm)
}

/// The `imap` session processes a Dovecot master started.
fn imap_children(master: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| proc_stat(pid).is_some_and(|(c, p)| c == "imap" && p == master))
        .collect()
}

/// Appends one message of about `bytes` to a source INBOX (as USER*master).
fn append_big(port: u16, user: &str, bytes: usize) {
    let code = r#"
import imaplib, sys
port, user, size = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcd\r\n"
head = (b"From: big@example.com\r\nTo: " + user.encode() + b"@example.com\r\n"
        b"Subject: over the destination's size limit\r\n"
        b"X-Corpus-Id: " + user.encode() + b"/INBOX/too-big\r\n\r\n")
body = line * (size // len(line) + 1)
c = imaplib.IMAP4("127.0.0.1", port)
c.login(user + "*master", "masterpass")
typ, data = c.append("INBOX", None, None, head + body)
assert typ == "OK", data
c.logout()
"#;
    let mut cmd = Command::new("python3");
    cmd.args(["-c", code, &port.to_string(), user, &bytes.to_string()]);
    let out = run_with_timeout(&mut cmd, common::CHILD_TIMEOUT);
    assert!(
        out.status.success(),
        "appending the big message\n{}",
        describe(&out)
    );
}

/// Runs `cutover sync --json` on `plan` and restarts the destination once a
/// fifth of its `messages` are copied. Returns the sync's output and whether
/// the sync was still running when the destination came back.
fn sync_with_a_dst_restart(
    tb: &PrivateTestbed,
    plan: &common::Plan,
    messages: u64,
) -> (Output, bool) {
    let mut cmd = plan.command(&[
        std::ffi::OsStr::new("sync"),
        plan.path.as_os_str(),
        std::ffi::OsStr::new("--json"),
    ]);
    let err_path: PathBuf = plan.dir.path().join("sync.stderr");
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&err_path).expect("stderr file"));
    let mut child = cmd.spawn().expect("start cutover sync");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });

    // Restart once a fifth of the mailbox is on the destination.
    let started = Instant::now();
    let mut lines = Vec::new();
    let mut copied = 0u64;
    let mut restarted_at = None;
    while restarted_at.is_none() {
        assert!(
            started.elapsed() < Duration::from_mins(5),
            "the sync never got a fifth through: {copied} copied"
        );
        let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) else {
            assert!(
                child.try_wait().expect("wait").is_none(),
                "the sync ended before the restart ({copied} copied):\n{}",
                lines.join("\n")
            );
            continue;
        };
        if let Ok(v) = serde_json::from_str::<Value>(&line)
            && v["event"] == "copied"
        {
            copied += v["messages"].as_u64().unwrap_or(0);
        }
        lines.push(line);
        if copied * 5 >= messages {
            let (out, ended) = tb.restart_dst();
            assert!(out.status.success(), "restart-dst\n{}", describe(&out));
            eprintln!("restart: {ended} session(s) of the old destination ended");
            restarted_at = Some(copied);
        }
    }
    let still_running = child.try_wait().expect("wait").is_none();

    let deadline = Instant::now() + Duration::from_mins(5);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!(
                "the sync did not finish after the restart\n{}",
                plan.log_tail(40)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    reader.join().expect("reader");
    lines.extend(rx.try_iter());
    let out = Output {
        status,
        stdout: lines.join("\n").into_bytes(),
        stderr: std::fs::read(&err_path).unwrap_or_default(),
    };
    eprintln!(
        "restart: dst restarted after {} of {messages} messages; sync took {:.1} s",
        restarted_at.unwrap_or(0),
        started.elapsed().as_secs_f64()
    );
    (out, still_running)
}

#[test]
fn destination_restart_in_the_middle_of_a_sync_is_survived() {
    let tb = PrivateTestbed::start();
    let users = ["user1"];
    let messages = tb.fresh("user1", 1500, 401);
    let plan = tb.plan("dst-restart", &users, 10);

    let (out, still_running) = sync_with_a_dst_restart(&tb, &plan, messages);
    assert!(
        still_running,
        "the sync had already finished when the destination came back"
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "the sync must recover from the destination restart\n{}",
        plan.context(&out)
    );
    let retried = retries(&out);
    for r in &retried {
        eprintln!(
            "  retry {}: [{}] {}",
            r["attempt"], r["category"], r["text"]
        );
    }
    assert!(
        !retried.is_empty(),
        "the restart should show as a retried error\n{}",
        plan.context(&out)
    );
    for r in &retried {
        let category = r["category"].as_str().unwrap_or_default();
        assert!(
            TRANSIENT.contains(&category),
            "restart retried under {category:?}: {r}"
        );
    }
    let s = summary(&out);
    assert_eq!(counter(&s, "verified"), 1, "summary: {s}");

    let cmp = tb.compare(&users);
    assert_identical(&cmp, "after a destination restart mid-sync");
    assert_eq!(total(&cmp, "dst_messages"), messages, "{}", show(&cmp));
    assert_manifest_verified(&plan, &cmp, "user1");
}

// -------------------------------------------------- quota and size limit --

/// The missing message ids of one account, as `folder:id`.
fn missing_ids(cmp: &Value, user: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for (folder, f) in cmp["users"][user]["folders"]
        .as_object()
        .into_iter()
        .flatten()
    {
        for id in f["missing"].as_array().into_iter().flatten() {
            ids.insert(format!("{folder}:{}", id.as_str().unwrap_or_default()));
        }
    }
    ids
}

/// Messages one account holds on the destination, over all its folders.
fn dst_messages(cmp: &Value, user: &str) -> u64 {
    cmp["users"][user]["folders"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(_, f)| f["dst"].as_u64().unwrap_or(0))
        .sum()
}

/// What both runs of the refusals test must leave on the destination:
/// user3 identical, user2 without only its 21 MB message, quotauser partly
/// copied; `when` names the run.
fn check_refusals(cmp: &Value, when: &str) {
    assert_eq!(
        cmp["users"]["user3"]["ok"].as_bool(),
        Some(true),
        "{when}: user3\n{}",
        show(cmp)
    );
    for key in [
        "extra",
        "flag_mismatch",
        "date_mismatch",
        "folders_missing",
        "folders_extra",
    ] {
        assert_eq!(total(cmp, key), 0, "{when}: {key}\n{}", show(cmp));
    }
    let big = missing_ids(cmp, "user2");
    assert_eq!(
        big.len(),
        1,
        "{when}: user2 should lack only the 21 MB message: {big:?}"
    );
    assert!(
        big.iter().next().is_some_and(|id| id.contains("too-big")),
        "{when}: user2 lacks {big:?}, not the 21 MB message"
    );
    assert!(
        !missing_ids(cmp, "quotauser").is_empty(),
        "{when}: everything fitted?\n{}",
        show(cmp)
    );
    assert!(
        dst_messages(cmp, "quotauser") > 0,
        "{when}: nothing fitted?\n{}",
        show(cmp)
    );
}

#[test]
fn over_quota_and_too_big_are_refused_while_the_rest_verifies() {
    let tb = PrivateTestbed::start();
    // quotauser: ~40 messages of ~10 KB, well over its 200K on the destination.
    tb.fresh("quotauser", 40, 71);
    // user2: a regular mailbox plus one message over the destination's 20 MB.
    tb.fresh("user2", 20, 72);
    append_big(P_SRC, "user2", 21 * 1024 * 1024);
    // user3: nothing special; it must finish verified next to the others.
    tb.fresh("user3", 30, 73);
    let users = ["quotauser", "user2", "user3"];
    let plan = tb.plan("refusals", &users, 60);

    let out = plan.sync_json();
    assert_eq!(
        out.status.code(),
        Some(5),
        "refused messages end with exit code 5\n{}",
        plan.context(&out)
    );
    let categories: BTreeMap<&str, String> = users
        .iter()
        .map(|u| {
            let f = finished(&out, u);
            (*u, f["category"].as_str().unwrap_or("").to_owned())
        })
        .collect();
    assert_eq!(categories["quotauser"], "over-quota", "{categories:?}");
    assert_eq!(categories["user2"], "too-big", "{categories:?}");
    assert_eq!(categories["user3"], "", "{categories:?}");
    assert_eq!(finished(&out, "user3")["phase"], "verified");
    let s = summary(&out);
    for f in s["failures"].as_array().into_iter().flatten() {
        eprintln!("  refused: {} [{}] {}", f[0], f[1], f[2]);
    }
    assert_eq!(counter(&s, "verified"), 1, "summary: {s}");
    assert_eq!(counter(&s, "failed"), 2, "summary: {s}");
    let failures: BTreeMap<String, String> = s["failures"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f[0].as_str().unwrap_or_default().to_owned(),
                f[1].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        failures.get("quotauser").map(String::as_str),
        Some("over-quota"),
        "{s}"
    );
    assert_eq!(
        failures.get("user2").map(String::as_str),
        Some("too-big"),
        "{s}"
    );
    assert_manifest_verified(&plan, &tb.compare(&["user3"]), "user3");

    let first = tb.compare(&users);
    check_refusals(&first, "after the first sync");

    let again = plan.sync_json();
    assert_eq!(
        again.status.code(),
        Some(5),
        "rerun\n{}",
        plan.context(&again)
    );
    let second = tb.compare(&users);
    check_refusals(&second, "after the rerun");
    for user in ["quotauser", "user2"] {
        let (before, after) = (missing_ids(&first, user), missing_ids(&second, user));
        assert!(
            after.is_subset(&before),
            "{user}: the rerun lost {:?}",
            after.difference(&before).collect::<Vec<_>>()
        );
    }
    assert!(
        total(&second, "dst_messages") >= total(&first, "dst_messages"),
        "the rerun lost messages: {} -> {}",
        total(&first, "dst_messages"),
        total(&second, "dst_messages")
    );
}
