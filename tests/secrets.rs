//! Secret hygiene: full waves with known passwords, then every file cutover
//! left behind (log, journal bytes with its WAL, cutover lists, manifests,
//! hand-off files, the XDG state) and everything it printed (the headless
//! run, `ctl status --json` snapshots taken while the engine ran, `cutover
//! manifest`, `check --connect`) is searched for the passwords, in clear and
//! as SASL PLAIN base64. None may appear.
//!
//! * user-auth mode: the plan's passwords-files hold the accounts' real
//!   passwords (the passwords-files themselves are the only place allowed
//!   to hold them);
//! * master mode: the admin password `masterpass` from the environment,
//!   SASL PLAIN on the destination;
//! * a wrong password: the error paths (authentication failures in the log,
//!   the journal and the JSON output) must not echo it either.
//!
//! The waves also publish the public status page (with mailbox names shown)
//! and post to a webhook received by the test: the page's files and every
//! webhook body are searched too, as is everything for the webhook URL's
//! secret path (only its private url-file may hold it).
//!
//! TLS (self-signed certificate refused by default with an error naming the
//! certificate, accepted with `ca-file`) is covered by
//! `tests/sync_engine.rs::tls_needs_the_ca_file` and not repeated here.
//!
//! Accounts: user33, user34 (see tests/common/mod.rs).

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::{MASTER_PASS, MASTER_USER, Plan, PlanBuilder, compare, fresh, wipe_dst};

const USERS: [&str; 2] = ["user33", "user34"];

/// The tests share user33 and user34: one at a time.
static ACCOUNTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn accounts() -> std::sync::MutexGuard<'static, ()> {
    ACCOUNTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
const FAST_GATES: &str = "[thresholds]\nwindow-secs = 20\nhold-down-secs = 1\n";
const WAVE: &str = "[[wave]]\nname = \"cohort\"\nmailboxes = [\"user33\", \"user34\"]\n";

/// What to look for: each secret in clear, plus the SASL PLAIN blobs that
/// would carry it (`authzid NUL authcid NUL password`, base64).
fn needles(secrets: &[&str], plain_logins: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = secrets
        .iter()
        .map(|s| ((*s).to_owned(), s.as_bytes().to_vec()))
        .collect();
    for (authzid, password) in plain_logins {
        let blob = format!("{authzid}\0{MASTER_USER}\0{password}");
        let encoded = base64(blob.as_bytes());
        out.push((format!("base64 PLAIN of {authzid}"), encoded.into_bytes()));
    }
    out
}

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Every regular file below `dir`.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match std::fs::symlink_metadata(&path) {
                Ok(m) if m.is_dir() => todo.push(path),
                Ok(m) if m.is_file() => out.push(path),
                _ => {} // sockets, links
            }
        }
    }
    out.sort();
    out
}

/// The secret part of the webhook URL.
const HOOK_TOKEN: &str = "T0KEN-hook-s3cr3t-4242";

/// Bodies of the HTTP requests a local webhook endpoint received.
type Bodies = std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>;

/// A tiny HTTP endpoint on 127.0.0.1:0 answering 200 to every request.
fn webhook_receiver() -> (u16, Bodies) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let bodies = Bodies::default();
    let seen = bodies.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let mut raw = Vec::new();
            let mut buf = [0u8; 8192];
            let complete = loop {
                let Ok(n) = stream.read(&mut buf) else {
                    break None;
                };
                if n == 0 {
                    break None;
                }
                raw.extend_from_slice(&buf[..n]);
                let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
                    continue;
                };
                let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                if raw.len() >= end + 4 + length {
                    // The body only: the request line carries the URL itself.
                    break Some(raw[end + 4..].to_vec());
                }
            };
            if let Some(request) = complete {
                seen.lock().expect("bodies").push(request);
            }
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (port, bodies)
}

/// The plan's telemetry: the status page (mailboxes shown) and a webhook
/// whose URL sits in a chmod 600 file beside the plan.
const TELEMETRY: &str = "[telemetry.status-page]\ndir = \"status-page\"\nshow-mailboxes = true\n\n\
                         [[telemetry.webhook]]\nurl-file = \"hook.url\"\nstyle = \"json\"\n";

fn write_hook_url(plan: &Plan, port: u16) {
    common::write_private(
        &plan.dir.path().join("hook.url"),
        &format!("http://127.0.0.1:{port}/hooks/{HOOK_TOKEN}\n"),
    );
}

/// Everything cutover wrote or printed for one plan, by name.
struct Evidence {
    items: Vec<(String, Vec<u8>)>,
}

impl Evidence {
    fn new() -> Self {
        Self { items: Vec::new() }
    }

    fn add(&mut self, name: impl Into<String>, bytes: &[u8]) {
        self.items.push((name.into(), bytes.to_vec()));
    }

    fn output(&mut self, name: &str, out: &Output) {
        self.add(format!("{name} (stdout)"), &out.stdout);
        self.add(format!("{name} (stderr)"), &out.stderr);
    }

    /// Every file of the plan's folder but the passwords-files it was given.
    fn plan_files(&mut self, plan: &Plan) {
        for path in files_under(plan.dir.path()) {
            let name = path.file_name().and_then(OsStr::to_str).unwrap_or_default();
            if name == "src-passwords" || name == "dst-passwords" || name == "hook.url" {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap_or_default();
            self.add(path.display().to_string(), &bytes);
        }
    }

    /// Panics naming every place a needle shows up.
    fn assert_clean(&self, needles: &[(String, Vec<u8>)], context: &str) {
        let mut found = Vec::new();
        for (name, bytes) in &self.items {
            for (what, needle) in needles {
                if let Some(at) = bytes
                    .windows(needle.len())
                    .position(|w| w == needle.as_slice())
                {
                    let from = at.saturating_sub(80);
                    let to = (at + needle.len() + 80).min(bytes.len());
                    found.push(format!(
                        "{what:?} in {name} at byte {at}: ...{}...",
                        String::from_utf8_lossy(&bytes[from..to])
                    ));
                }
            }
        }
        assert!(
            found.is_empty(),
            "{context}: secrets leaked:\n{}",
            found.join("\n")
        );
        let files = self.items.len();
        let bytes: usize = self.items.iter().map(|(_, b)| b.len()).sum();
        eprintln!("{context}: {files} files and outputs, {bytes} bytes searched, clean");
    }

    fn names(&self) -> Vec<&str> {
        self.items.iter().map(|(n, _)| n.as_str()).collect()
    }
}

/// Runs `cutover run PLAN --headless` to its end, taking `ctl status --json`
/// snapshots while the engine is up.
fn run_wave(plan: &Plan, evidence: &mut Evidence) -> Output {
    let out_dir = tempfile::tempdir().expect("tempdir");
    let (out_path, err_path) = (out_dir.path().join("out"), out_dir.path().join("err"));
    let mut cmd = plan.command(&[
        OsStr::new("run"),
        plan.path.as_os_str(),
        OsStr::new("--headless"),
    ]);
    cmd.stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("out"))
        .stderr(std::fs::File::create(&err_path).expect("err"));
    let mut child = cmd.spawn().expect("start cutover run");
    let started = Instant::now();
    let mut snapshots = 0;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > common::CHILD_TIMEOUT {
            let _ = child.kill();
            panic!("cutover run did not finish\n{}", plan.log_tail(40));
        }
        let out = plan.run("ctl", &["status", "--json"]);
        if out.status.success() && !out.stdout.is_empty() {
            snapshots += 1;
            evidence.output(&format!("ctl status --json #{snapshots}"), &out);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = Output {
        status,
        stdout: std::fs::read(&out_path).unwrap_or_default(),
        stderr: std::fs::read(&err_path).unwrap_or_default(),
    };
    evidence.output("run --headless", &out);
    assert!(
        snapshots > 0,
        "no `ctl status --json` snapshot could be taken while the engine ran ({:.1} s)",
        started.elapsed().as_secs_f64()
    );
    eprintln!(
        "wave ran {:.1} s; {snapshots} status snapshots taken",
        started.elapsed().as_secs_f64()
    );
    out
}

/// The wave, then the commands that read what it left behind.
fn wave_and_afterwards(plan: &Plan, bodies: &Bodies) -> Evidence {
    let mut evidence = Evidence::new();
    let out = run_wave(plan, &mut evidence);
    let posted = bodies.lock().expect("bodies").clone();
    assert!(
        !posted.is_empty(),
        "the webhook received nothing\n{}",
        plan.context(&out)
    );
    eprintln!("webhook: {} request(s) received", posted.len());
    for (i, body) in posted.iter().enumerate() {
        evidence.add(format!("webhook request #{}", i + 1), body);
    }
    assert_eq!(
        out.status.code(),
        Some(0),
        "the wave must finish\n{}",
        plan.context(&out)
    );
    assert!(
        common::stdout(&out).contains("wave cohort done"),
        "{}",
        plan.context(&out)
    );
    common::assert_identical(&compare(&USERS), "after the wave");

    let manifests = plan.run("manifest", &[]);
    assert!(manifests.status.success(), "{}", plan.context(&manifests));
    evidence.output("manifest", &manifests);
    for user in USERS {
        let m = plan.manifest(user);
        assert_eq!(
            m["verified"].as_bool(),
            Some(true),
            "manifest of {user}: {m}"
        );
    }
    let file = plan.dir.path().join("manifests.json");
    let written = plan.run("manifest", &["--output", file.to_str().unwrap_or_default()]);
    assert!(written.status.success(), "{}", plan.context(&written));
    let handoff = plan.run("handoff", &["cohort"]);
    evidence.output("handoff", &handoff);
    let check = plan.run("check", &["--connect", "--json"]);
    evidence.output("check --connect --json", &check);
    evidence.plan_files(plan);
    let names = evidence.names();
    for must in [
        "cutover.log",
        "cutover-lists",
        "manifests.json",
        "status-page/index.html",
        "status-page/status.json",
    ] {
        assert!(
            names.iter().any(|n| n.contains(must)),
            "nothing like {must} was searched: {names:?}"
        );
    }
    assert!(
        names.iter().any(|n| {
            n.contains("journal")
                || Path::new(n).extension().is_some_and(|e| e == "db")
                || n.contains("sqlite")
        }),
        "the journal was not searched: {names:?}"
    );
    evidence
}

fn own_passwords() -> Vec<(&'static str, &'static str)> {
    vec![("user33", "pass33"), ("user34", "pass34")]
}

#[test]
fn no_password_in_any_output_user_auth_and_master() {
    let _turn = accounts();
    fresh(&USERS, 80, 330);

    // 1. user-auth mode: the accounts' own passwords.
    let (port, bodies) = webhook_receiver();
    let plan = PlanBuilder::master("secrets-user", &USERS)
        .user_auth(&own_passwords(), &own_passwords())
        .extra(FAST_GATES)
        .extra(WAVE)
        .extra(TELEMETRY)
        .build();
    write_hook_url(&plan, port);
    assert!(
        !plan.text.contains("pass33") && !plan.text.contains("pass34"),
        "the plan itself names a password:\n{}",
        plan.text
    );
    let evidence = wave_and_afterwards(&plan, &bodies);
    evidence.assert_clean(
        &needles(&["pass33", "pass34", HOOK_TOKEN], &[]),
        "user-auth wave",
    );

    // 2. master mode: the admin password, SASL PLAIN on the destination.
    for user in USERS {
        wipe_dst(user);
    }
    let (port, bodies) = webhook_receiver();
    let plan = PlanBuilder::master("secrets-master", &USERS)
        .extra(FAST_GATES)
        .extra(WAVE)
        .extra(TELEMETRY)
        .build();
    write_hook_url(&plan, port);
    assert!(!plan.text.contains(MASTER_PASS), "{}", plan.text);
    let evidence = wave_and_afterwards(&plan, &bodies);
    evidence.assert_clean(
        &needles(
            &[MASTER_PASS, HOOK_TOKEN],
            &[("user33", MASTER_PASS), ("user34", MASTER_PASS)],
        ),
        "master-mode wave",
    );
}

#[test]
fn a_wrong_password_is_not_echoed() {
    // Nothing is written to either server: the destination login fails.
    let _turn = accounts();
    common::testbed();
    let wrong = "Wr0ng-Secret-For-user34";
    let plan = PlanBuilder::master("secrets-wrong", &USERS)
        .user_auth(&own_passwords(), &[("user33", "pass33"), ("user34", wrong)])
        .build();
    let mut evidence = Evidence::new();
    let check = plan.run("check", &["--connect", "--json"]);
    assert_eq!(check.status.code(), Some(3), "{}", plan.context(&check));
    evidence.output("check --connect --json", &check);
    let sync = plan.run("sync", &["--json", "--mailbox", "user34"]);
    assert_eq!(sync.status.code(), Some(3), "{}", plan.context(&sync));
    assert!(
        common::stdout(&sync).contains("authentication"),
        "{}",
        plan.context(&sync)
    );
    evidence.output("sync --json", &sync);
    evidence.plan_files(&plan);
    evidence.assert_clean(
        &needles(&[wrong, "pass33", "pass34"], &[]),
        "wrong password",
    );
}

/// Known leak, reported rather than fixed here (src/cli/logging.rs is not
/// this test's to change): at `--log-level trace` async-imap logs every
/// command it sends, LOGIN with its password and AUTHENTICATE PLAIN's
/// base64 blob included. The fix is to cap the `async_imap` target in the
/// log filter (e.g. add the directive `async_imap=debug`) whatever level the
/// operator asks for.
#[test]
fn trace_logging_does_not_leak_passwords() {
    let _turn = accounts();
    common::testbed();
    let plan = PlanBuilder::master("secrets-trace", &USERS)
        .user_auth(&own_passwords(), &own_passwords())
        .build();
    let mut cmd = plan.command(&[
        OsStr::new("--log-level"),
        OsStr::new("trace"),
        OsStr::new("check"),
        plan.path.as_os_str(),
        OsStr::new("--connect"),
    ]);
    let out = common::run_with_timeout(&mut cmd, common::CHILD_TIMEOUT);
    assert!(out.status.success(), "{}", plan.context(&out));
    let mut evidence = Evidence::new();
    evidence.output("check --connect at trace", &out);
    evidence.plan_files(&plan);
    evidence.assert_clean(&needles(&["pass33", "pass34"], &[]), "trace log");
}

#[test]
fn base64_matches_the_standard() {
    assert_eq!(
        base64(b"user33\0master\0masterpass"),
        "dXNlcjMzAG1hc3RlcgBtYXN0ZXJwYXNz"
    );
    assert_eq!(base64(b"ab"), "YWI=");
    assert_eq!(base64(b"a"), "YQ==");
}
