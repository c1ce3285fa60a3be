//! Shared harness for the integration tests: the Dovecot testbed, corpus
//! fill/wipe, plan files in temporary directories, running the `cutover`
//! binary, and the independent server comparison (scripts/compare-servers.py).
//!
//! Every test file does `mod common;` and uses what it needs; the rest is
//! dead code for that binary, hence the `allow` below.
//!
//! # Who owns which account
//!
//! Tests run in parallel (within a binary and across binaries), so every test
//! gets accounts of its own: it wipes and refills them at its start and nobody
//! else touches them. The testbed is started with `CUTOVER_TESTBED_USERS=40`.
//!
//! | account(s)          | owner                                                         |
//! |---------------------|---------------------------------------------------------------|
//! | `user1`, `user2`    | `sync_engine::full_copy_is_identical_and_manifest_verified`   |
//! | `user3`             | `sync_engine::rerun_copies_nothing`                           |
//! | `user4`             | `sync_engine::delta_copies_new_mail_and_flag_changes`         |
//! | `user5`             | `sync_engine::kill_9_at_random_moments_loses_and_duplicates_nothing` |
//! | `user6`, `user7`    | `sync_engine::wrong_password_fails_one_mailbox_only` (`user7` gets the wrong password) |
//! | `user8`             | `sync_engine::check_connect_reports_counts`                   |
//! | `user9`             | `sync_engine::tls_needs_the_ca_file`                          |
//! | `user10`..`user12`  | spare, reserved for `sync_engine`                             |
//! | `quotauser`         | `sync_engine::over_quota_is_refused_without_loss` (the only account with a quota) |
//! | `user13`..`user40`  | other test files — never used by `sync_engine`:               |
//! | `user13`..`user24`  |   `waves.rs`                                                  |
//! | `user25`..`user32`  |   `faults.rs`: the 5 % fault-proxy wave (its quota and restart tests use a private testbed, /tmp/cutover-faults-testbed on ports 11143/21143, with its own `user1`..`user3` and `quotauser`) |
//! | `user33`, `user34`  |   `secrets.rs` (its two tests take turns on them)              |
//! | `user35`..`user38`  |   `war_room.rs` (tmux end-to-end)                             |
//! | `user39`            |   `waves.rs` (cutover hook)                                   |
//!
//! `tests/plan_errors.rs` needs no server and no account.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Accounts the testbed creates (user1..userN).
pub const TESTBED_USERS: u32 = 40;
/// Longest any single child process (cutover or a script) may run.
pub const CHILD_TIMEOUT: Duration = Duration::from_mins(10);

/// Master password environment variables, set on the cutover child only.
pub const SRC_PASS_ENV: &str = "CUTOVER_TEST_SRC_PASS";
pub const DST_PASS_ENV: &str = "CUTOVER_TEST_DST_PASS";
pub const MASTER_USER: &str = "master";
pub const MASTER_PASS: &str = "masterpass";

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn script(name: &str) -> PathBuf {
    repo_root().join("scripts").join(name)
}

fn env_port(var: &str, default: u16) -> u16 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn src_port() -> u16 {
    env_port("CUTOVER_SRC_PORT", 10143)
}
pub fn dst_port() -> u16 {
    env_port("CUTOVER_DST_PORT", 20143)
}
pub fn src_imaps_port() -> u16 {
    env_port("CUTOVER_SRC_IMAPS_PORT", 10993)
}
pub fn dst_imaps_port() -> u16 {
    env_port("CUTOVER_DST_IMAPS_PORT", 20993)
}

/// The testbed's state directory (same rule as scripts/testbed.sh).
pub fn testbed_dir() -> PathBuf {
    std::env::var_os("CUTOVER_TESTBED_DIR")
        .map_or_else(|| PathBuf::from("/tmp/cutover-testbed"), PathBuf::from)
}

/// The testbed's self-signed certificate (its own trust anchor).
pub fn testbed_cert() -> PathBuf {
    testbed_dir().join("tls").join("cert.pem")
}

// ---------------------------------------------------------------- processes --

/// Runs a command to completion with a deadline, collecting its output.
/// Panics (naming the command) if it cannot start or overruns the deadline.
pub fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> Output {
    let shown = format!("{cmd:?}");
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {shown}: {e}"));
    let out_reader = reader(child.stdout.take().expect("stdout piped"));
    let err_reader = reader(child.stderr.take().expect("stderr piped"));
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                let stdout = out_reader.join().unwrap_or_default();
                let stderr = err_reader.join().unwrap_or_default();
                panic!(
                    "{shown} still running after {timeout:?}: killed\n--- stdout\n{}\n--- stderr\n{}",
                    String::from_utf8_lossy(&stdout),
                    String::from_utf8_lossy(&stderr)
                );
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("waiting for {shown}: {e}"),
        }
    };
    Output {
        status,
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    }
}

fn reader(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        buf
    })
}

/// Exit status, stdout and stderr, for failure messages.
pub fn describe(out: &Output) -> String {
    format!(
        "status: {}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs a helper script and panics with its output unless it exits 0.
fn run_script(name: &str, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(script(name));
    cmd.args(args).current_dir(repo_root());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = run_with_timeout(&mut cmd, CHILD_TIMEOUT);
    assert!(
        out.status.success(),
        "scripts/{name} {} failed\n{}",
        args.join(" "),
        describe(&out)
    );
    out
}

// ------------------------------------------------------------------ testbed --

static TESTBED: OnceLock<()> = OnceLock::new();

/// Starts (or reloads) the two Dovecots once per test binary. A testbed that
/// cannot start fails the test: a missing server is never a skip.
pub fn testbed() {
    TESTBED.get_or_init(|| {
        let users = TESTBED_USERS.to_string();
        let mut cmd = Command::new(script("testbed.sh"));
        cmd.arg("start")
            .current_dir(repo_root())
            .env("CUTOVER_TESTBED_USERS", &users);
        let out = run_with_timeout(&mut cmd, CHILD_TIMEOUT);
        assert!(
            out.status.success(),
            "scripts/testbed.sh start failed (the tests need the Dovecot testbed; \
             run as root on Debian, see scripts/test.sh)\n{}",
            describe(&out)
        );
    });
}

/// What make-corpus.py reported for one account.
#[derive(Debug, Clone, Copy)]
pub struct Filled {
    pub messages: u64,
    pub bytes: u64,
}

/// Wipes one source account and fills it with the deterministic corpus
/// (no multi-megabyte messages).
pub fn fill(user: &str, messages: u32, seed: u64) -> Filled {
    fill_with(user, messages, seed, 0.0)
}

/// As [`fill`], with a share of 1–10 MB messages.
pub fn fill_with(user: &str, messages: u32, seed: u64, big_ratio: f64) -> Filled {
    testbed();
    let (users, messages, seed, big) = (
        TESTBED_USERS.to_string(),
        messages.to_string(),
        seed.to_string(),
        big_ratio.to_string(),
    );
    let port = src_port().to_string();
    let out = run_script(
        "make-corpus.py",
        &[
            "--port",
            &port,
            "--users",
            &users,
            "--only-user",
            user,
            "--messages",
            &messages,
            "--seed",
            &seed,
            "--wipe",
            "--big-ratio",
            &big,
            "--jobs",
            "1",
        ],
        &[],
    );
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("make-corpus.py printed no JSON ({e})\n{}", describe(&out)));
    assert_eq!(
        v["failed"],
        0,
        "make-corpus.py failed for {user}\n{}",
        describe(&out)
    );
    Filled {
        messages: v["messages"].as_u64().expect("messages"),
        bytes: v["bytes"].as_u64().expect("bytes"),
    }
}

/// Empties one destination account (every folder and message).
pub fn wipe_dst(user: &str) {
    testbed();
    let users = TESTBED_USERS.to_string();
    let port = dst_port().to_string();
    run_script(
        "make-corpus.py",
        &[
            "--port",
            &port,
            "--users",
            &users,
            "--only-user",
            user,
            "--wipe-only",
        ],
        &[],
    );
}

/// Fresh source corpus and empty destination for each account.
pub fn fresh(users: &[&str], messages: u32, seed: u64) -> Vec<Filled> {
    users
        .iter()
        .enumerate()
        .map(|(i, u)| {
            wipe_dst(u);
            fill(u, messages, seed + i as u64)
        })
        .collect()
}

/// Runs scripts/deliver.py against the source (logs in as USER*master).
pub fn deliver(args: &[&str]) -> Value {
    testbed();
    let port = src_port().to_string();
    let mut all = vec!["--port", &port];
    all.extend_from_slice(args);
    let out = run_script("deliver.py", &all, &[]);
    let text = stdout(&out);
    let last = text.lines().rev().find(|l| l.trim_start().starts_with('{'));
    last.and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or(Value::Null)
}

// ---------------------------------------------------------------- comparing --

/// Compares the accounts on both servers with scripts/compare-servers.py
/// (bytes, flags, internal dates; independent of cutover and its journal).
pub fn compare(users: &[&str]) -> Value {
    testbed();
    let (src, dst) = (src_port().to_string(), dst_port().to_string());
    let mut cmd = Command::new(script("compare-servers.py"));
    cmd.current_dir(repo_root())
        .args(["--src-port", &src, "--dst-port", &dst]);
    for u in users {
        cmd.args(["--user", u]);
    }
    let out = run_with_timeout(&mut cmd, CHILD_TIMEOUT);
    let code = out.status.code();
    assert!(
        matches!(code, Some(0 | 1)),
        "compare-servers.py could not compare {users:?}\n{}",
        describe(&out)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "compare-servers.py printed no JSON ({e})\n{}",
            describe(&out)
        )
    });
    assert_eq!(
        v["ok"].as_bool(),
        Some(code == Some(0)),
        "compare-servers.py exit status and `ok` disagree\n{}",
        describe(&out)
    );
    v
}

/// The comparison JSON, shortened for failure messages.
pub fn show(v: &Value) -> String {
    let mut text = serde_json::to_string_pretty(v).unwrap_or_default();
    if text.len() > 20_000 {
        text.truncate(20_000);
        text.push_str("\n... (truncated)");
    }
    text
}

/// Both servers hold the same messages, flags and dates for every account.
pub fn assert_identical(v: &Value, context: &str) {
    assert_eq!(
        v["ok"].as_bool(),
        Some(true),
        "{context}: source and destination differ (compare-servers.py):\ntotals: {}\n{}",
        v["totals"],
        show(v)
    );
}

/// Both servers hold the same for one account of a comparison.
pub fn assert_user_identical(v: &Value, user: &str, context: &str) {
    assert_eq!(
        v["users"][user]["ok"].as_bool(),
        Some(true),
        "{context}: {user} differs between source and destination:\n{}",
        show(&v["users"][user])
    );
}

/// A number from the comparison's totals.
pub fn total(v: &Value, key: &str) -> u64 {
    v["totals"][key]
        .as_u64()
        .unwrap_or_else(|| panic!("compare-servers.py totals lack {key}:\n{}", show(v)))
}

/// Per folder ("/"-separated path) of one account: how many messages the source has.
pub fn source_counts(v: &Value, user: &str) -> std::collections::BTreeMap<String, u64> {
    v["users"][user]["folders"]
        .as_object()
        .unwrap_or_else(|| panic!("no folders for {user} in:\n{}", show(v)))
        .iter()
        .map(|(path, f)| (path.clone(), f["src"].as_u64().unwrap_or(0)))
        .collect()
}

// -------------------------------------------------------------------- plans --

/// Quotes a string as a TOML basic string.
pub fn toml_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// How cutover logs in to one side.
#[derive(Debug, Clone)]
pub enum Auth {
    /// The master user, password from an environment variable; `method`
    /// is the plan's `method` (`login` or `plain`).
    Master {
        method: &'static str,
        env_var: &'static str,
        password: String,
    },
    /// Each mailbox's own login, from a chmod 600 passwords-file.
    Users(Vec<(String, String)>),
}

#[derive(Debug, Clone)]
pub struct Side {
    pub host: String,
    pub port: u16,
    pub security: &'static str,
    pub ca_file: Option<PathBuf>,
    pub auth: Auth,
}

/// Builds a plan file in a fresh temporary directory.
#[derive(Debug, Clone)]
pub struct PlanBuilder {
    name: String,
    source: Side,
    destination: Side,
    mailboxes: Vec<String>,
    extra: String,
}

impl PlanBuilder {
    /// Plain IMAP on loopback, master user on both sides (LOGIN
    /// `user*master` on the source, SASL PLAIN with authzid on the destination).
    pub fn master(name: &str, mailboxes: &[&str]) -> Self {
        Self {
            name: name.to_owned(),
            source: Side {
                host: "127.0.0.1".into(),
                port: src_port(),
                security: "plain",
                ca_file: None,
                auth: Auth::Master {
                    method: "login",
                    env_var: SRC_PASS_ENV,
                    password: MASTER_PASS.into(),
                },
            },
            destination: Side {
                host: "127.0.0.1".into(),
                port: dst_port(),
                security: "plain",
                ca_file: None,
                auth: Auth::Master {
                    method: "plain",
                    env_var: DST_PASS_ENV,
                    password: MASTER_PASS.into(),
                },
            },
            mailboxes: mailboxes.iter().map(|m| (*m).to_owned()).collect(),
            extra: String::new(),
        }
    }

    /// Per-mailbox logins: `(login, password)` pairs for each side.
    #[must_use]
    pub fn user_auth(mut self, source: &[(&str, &str)], destination: &[(&str, &str)]) -> Self {
        let own = |list: &[(&str, &str)]| {
            list.iter()
                .map(|(l, p)| ((*l).to_owned(), (*p).to_owned()))
                .collect()
        };
        self.source.auth = Auth::Users(own(source));
        self.destination.auth = Auth::Users(own(destination));
        self
    }

    /// Implicit TLS (IMAPS) on both sides, optionally trusting `ca_file`.
    #[must_use]
    pub fn tls(mut self, ca_file: Option<&Path>) -> Self {
        self.source.security = "tls";
        self.source.port = src_imaps_port();
        self.source.ca_file = ca_file.map(Path::to_path_buf);
        self.destination.security = "tls";
        self.destination.port = dst_imaps_port();
        self.destination.ca_file = ca_file.map(Path::to_path_buf);
        self
    }

    /// STARTTLS on the plain ports of both sides, optionally trusting `ca_file`.
    #[must_use]
    pub fn starttls(mut self, ca_file: Option<&Path>) -> Self {
        for side in [&mut self.source, &mut self.destination] {
            side.security = "starttls";
            side.ca_file = ca_file.map(Path::to_path_buf);
        }
        self.source.port = src_port();
        self.destination.port = dst_port();
        self
    }

    /// Extra TOML appended to the plan (after the mailboxes).
    #[must_use]
    pub fn extra(mut self, toml: &str) -> Self {
        self.extra.push_str(toml);
        self.extra.push('\n');
        self
    }

    pub fn build(self) -> Plan {
        let dir = tempfile::Builder::new()
            .prefix(&format!("cutover-test-{}-", self.name))
            .tempdir()
            .expect("temporary directory");
        let root = dir.path().to_path_buf();
        let mut env = Vec::new();
        let mut text = String::new();
        let _ = writeln!(text, "name = {}", toml_str(&self.name));
        let _ = writeln!(
            text,
            "state-dir = {}",
            toml_str(&root.join("state").to_string_lossy())
        );
        for (table, side, file) in [
            ("source", &self.source, "src-passwords"),
            ("destination", &self.destination, "dst-passwords"),
        ] {
            let _ = writeln!(text, "\n[{table}]");
            let _ = writeln!(text, "host = {}", toml_str(&side.host));
            let _ = writeln!(text, "port = {}", side.port);
            let _ = writeln!(text, "security = {}", toml_str(side.security));
            if let Some(ca) = &side.ca_file {
                let _ = writeln!(text, "ca-file = {}", toml_str(&ca.to_string_lossy()));
            }
            let _ = writeln!(text, "timeout-secs = 60");
            match &side.auth {
                Auth::Master {
                    method,
                    env_var,
                    password,
                } => {
                    let _ = writeln!(
                        text,
                        "auth = {{ mode = \"master\", user = {}, method = {}, password-env = {} }}",
                        toml_str(MASTER_USER),
                        toml_str(method),
                        toml_str(env_var)
                    );
                    env.push(((*env_var).to_owned(), password.clone()));
                }
                Auth::Users(list) => {
                    let path = root.join(file);
                    let body = list.iter().fold(String::new(), |mut body, (l, p)| {
                        let _ = writeln!(body, "{l} {p}");
                        body
                    });
                    write_private(&path, &body);
                    let _ = writeln!(
                        text,
                        "auth = {{ mode = \"user\", passwords-file = {} }}",
                        toml_str(&path.to_string_lossy())
                    );
                }
            }
        }
        text.push_str("\n[[tenant]]\nname = \"test\"\n");
        for m in &self.mailboxes {
            let _ = write!(
                text,
                "\n[[mailbox]]\nsource = {}\ntenant = \"test\"\n",
                toml_str(m)
            );
        }
        if !self.extra.is_empty() {
            text.push('\n');
            text.push_str(&self.extra);
        }
        let path = root.join("plan.toml");
        std::fs::write(&path, &text).expect("write plan");
        Plan {
            dir,
            path,
            env,
            text,
        }
    }
}

/// Writes a file readable by its owner only (chmod 600).
pub fn write_private(path: &Path, body: &str) {
    std::fs::write(path, body).expect("write private file");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod 600");
}

/// A plan file in its own temporary directory (journal, logs, XDG state too).
pub struct Plan {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
    /// Environment for the cutover child only (password variables).
    pub env: Vec<(String, String)>,
    pub text: String,
}

impl Plan {
    pub fn log_file(&self) -> PathBuf {
        self.dir.path().join("cutover.log")
    }

    /// The `cutover` command with this plan's environment, not yet started.
    pub fn command<S: AsRef<OsStr>>(&self, args: &[S]) -> Command {
        cutover_command(self.dir.path(), &self.env, args)
    }

    /// Runs `cutover ARGS` to completion.
    pub fn cutover<S: AsRef<OsStr>>(&self, args: &[S]) -> Output {
        run_with_timeout(&mut self.command(args), CHILD_TIMEOUT)
    }

    /// `cutover COMMAND PLAN EXTRA...`
    pub fn run(&self, command: &str, extra: &[&str]) -> Output {
        let mut args: Vec<&OsStr> = vec![OsStr::new(command), self.path.as_os_str()];
        args.extend(extra.iter().map(OsStr::new));
        self.cutover(&args)
    }

    /// `cutover sync PLAN --json`.
    pub fn sync_json(&self) -> Output {
        self.run("sync", &["--json"])
    }

    /// The last lines of cutover's log, for failure messages.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(self.log_file()).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Output plus the plan and the log's tail: what a failing assertion shows.
    pub fn context(&self, out: &Output) -> String {
        format!(
            "{}\n--- plan {}\n{}\n--- log tail ({})\n{}",
            describe(out),
            self.path.display(),
            self.text,
            self.log_file().display(),
            self.log_tail(40)
        )
    }

    /// `cutover manifest PLAN MAILBOX`, parsed.
    pub fn manifest(&self, mailbox: &str) -> Value {
        let out = self.run("manifest", &[mailbox]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "cutover manifest {mailbox} failed\n{}",
            self.context(&out)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "cutover manifest printed no JSON ({e})\n{}",
                self.context(&out)
            )
        })
    }
}

/// The `cutover` binary with a clean environment: no inherited `CUTOVER_*`
/// variable, logs and XDG state inside `work`, plus `env`.
pub fn cutover_command<S: AsRef<OsStr>>(
    work: &Path,
    env: &[(String, String)],
    args: &[S],
) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cutover"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("CUTOVER_") {
            cmd.env_remove(&key);
        }
    }
    cmd.args(args)
        .current_dir(work)
        .env("CUTOVER_LOG_FILE", work.join("cutover.log"))
        .env("XDG_STATE_HOME", work.join("xdg-state"))
        .env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Runs `cutover ARGS` in `work` to completion.
pub fn cutover_in<S: AsRef<OsStr>>(work: &Path, env: &[(String, String)], args: &[S]) -> Output {
    run_with_timeout(&mut cutover_command(work, env, args), CHILD_TIMEOUT)
}

/// Spawns cutover without waiting (for kill tests); output discarded.
pub fn spawn_quiet(mut cmd: Command) -> Child {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn cutover")
}

// ------------------------------------------------------------ sync --json --

/// Every JSON line `cutover sync --json` printed.
pub fn json_lines(out: &Output) -> Vec<Value> {
    stdout(out)
        .lines()
        .filter(|l| l.trim_start().starts_with('{'))
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The `{"event":"summary","summary":{...}}` line's summary.
pub fn summary(out: &Output) -> Value {
    json_lines(out)
        .into_iter()
        .rev()
        .find(|v| v["event"] == "summary")
        .map_or_else(
            || panic!("no summary line in the --json output\n{}", describe(out)),
            |v| v["summary"].clone(),
        )
}

/// A counter from a summary.
pub fn counter(summary: &Value, key: &str) -> u64 {
    summary[key]
        .as_u64()
        .unwrap_or_else(|| panic!("summary lacks {key}: {summary}"))
}

/// Small deterministic pseudo-random numbers (a 64-bit LCG, Knuth's MMIX).
pub struct Lcg(u64);

impl Lcg {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u32(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as u32
    }

    /// Uniform in `lo..=hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + u64::from(self.next_u32()) % (hi - lo + 1)
    }
}

/// A Unix user (`cutover-viewer`) in a group (`cutover-test`) that a plan's
/// `control-group` can name, created once for the tests that need a second,
/// real uid on the control socket. CI runs as root, so useradd works.
pub fn socket_group_user() -> &'static str {
    let run = |args: &[&str]| {
        let out = Command::new(args[0])
            .args(&args[1..])
            .output()
            .expect("user tools");
        out.status.success() || String::from_utf8_lossy(&out.stderr).contains("already exists")
    };
    assert!(
        run(&["groupadd", "-f", "cutover-test"]),
        "groupadd failed (tests run as root)"
    );
    assert!(
        run(&[
            "useradd",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            "-G",
            "cutover-test",
            "cutover-viewer"
        ]),
        "useradd failed (tests run as root)"
    );
    "cutover-viewer"
}
