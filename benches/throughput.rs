//! Copy throughput against the raw-read lower bound and mbsync, in one run.
//!
//! Needs the Dovecot testbed (`scripts/testbed.sh start`) and a corpus on the
//! source (`scripts/bench.sh` does both). Prints messages/s, MB/s and peak
//! RSS for each, and the ratios. Run: `cargo bench --bench throughput`.
//!
//! Environment: `BENCH_USERS` (default 20), `BENCH_PARALLEL` (mailboxes at
//! once, default 4), `BENCH_STATE` (testbed state dir).

use std::fmt::Write as _;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use cutover::imap::Connection;
use cutover::plan::{Auth, Endpoint, MasterMethod, Secret, Security, Side};
use cutover::telemetry::Metrics;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn source() -> Endpoint {
    Endpoint {
        side: Side::Source,
        host: "127.0.0.1".into(),
        port: 10143,
        security: Security::Plain,
        ca_file: None,
        auth: Auth::Master {
            user: "master".into(),
            method: MasterMethod::Login,
            separator: "*".into(),
            password: Secret::new("masterpass".into()),
        },
        timeout: std::time::Duration::from_mins(1),
    }
}

/// Reads every message of every user, `parallel` mailboxes at a time, with
/// one connection per mailbox and nothing else: the floor for any copy.
async fn raw_read(users: usize, parallel: usize) -> (u64, u64, f64) {
    let started = Instant::now();
    let slots = Arc::new(tokio::sync::Semaphore::new(parallel));
    let metrics = Arc::new(Metrics::new());
    let tasks = (1..=users).map(|n| {
        let (slots, metrics) = (slots.clone(), metrics.clone());
        tokio::spawn(async move {
            let _slot = slots.acquire_owned().await;
            let mut conn = Connection::open(&source(), &format!("user{n}"), metrics)
                .await
                .expect("login");
            let (mut messages, mut bytes) = (0u64, 0u64);
            for folder in conn
                .list_folders()
                .await
                .expect("list")
                .into_iter()
                .filter(|f| f.selectable)
            {
                let status = conn.open_folder(&folder.wire, true).await.expect("examine");
                if status.exists == 0 {
                    continue;
                }
                let uids: Vec<u32> = conn
                    .fetch_meta("1:*")
                    .await
                    .expect("meta")
                    .iter()
                    .map(|m| m.uid)
                    .collect();
                conn.fetch_bodies(&uids, |_, body| {
                    messages += 1;
                    bytes += body.len() as u64;
                    Ok(())
                })
                .await
                .expect("fetch");
            }
            (messages, bytes)
        })
    });
    let (mut messages, mut bytes) = (0, 0);
    for t in futures::future::join_all(tasks).await {
        let (m, b) = t.expect("task");
        messages += m;
        bytes += b;
    }
    (messages, bytes, started.elapsed().as_secs_f64())
}

fn wipe_destination(users: usize) {
    let status = Command::new("python3")
        .args([
            "scripts/make-corpus.py",
            "--port",
            "20143",
            "--users",
            &users.to_string(),
            "--wipe-only",
        ])
        .status()
        .expect("make-corpus.py");
    assert!(status.success(), "wiping the destination failed");
}

/// Runs a command under `/usr/bin/time -v`, returning seconds and peak RSS (KiB).
fn timed(program: &str, args: &[&str], envs: &[(&str, &str)]) -> (f64, u64, bool) {
    let started = Instant::now();
    let output = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(program)
        .args(args)
        .envs(envs.iter().copied())
        .output()
        .expect("run under /usr/bin/time (apt-get install time)");
    let seconds = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let rss = stderr
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    if !output.status.success() {
        eprintln!(
            "{program} failed:\n{}\n{stderr}",
            String::from_utf8_lossy(&output.stdout)
        );
    }
    (seconds, rss, output.status.success())
}

fn plan_file(dir: &std::path::Path, users: usize, parallel: usize) -> std::path::PathBuf {
    let mut text = format!(
        "name = \"bench\"\nstate-dir = \"{}\"\n\n[source]\nhost = \"127.0.0.1\"\nport = 10143\nsecurity = \"plain\"\n\
         auth = {{ mode = \"master\", user = \"master\", password-env = \"BENCH_PASS\" }}\n\n\
         [destination]\nhost = \"127.0.0.1\"\nport = 20143\nsecurity = \"plain\"\n\
         auth = {{ mode = \"master\", user = \"master\", password-env = \"BENCH_PASS\" }}\n\n\
         [concurrency]\nconnections-per-server = {}\nfolders-per-mailbox = 4\n\n[[tenant]]\nname = \"bench\"\n",
        dir.join("state").display(),
        parallel * 4
    );
    for n in 1..=users {
        let _ = write!(
            text,
            "\n[[mailbox]]\nsource = \"user{n}\"\ntenant = \"bench\"\n"
        );
    }
    let path = dir.join("bench.toml");
    std::fs::write(&path, text).expect("write plan");
    path
}

fn mbsync_config(dir: &std::path::Path, users: usize) -> std::path::PathBuf {
    let mut text = String::new();
    for n in 1..=users {
        for (side, port) in [("src", 10143), ("dst", 20143)] {
            let _ = write!(
                text,
                "IMAPAccount {side}{n}\nHost 127.0.0.1\nPort {port}\nUser user{n}*master\nPass masterpass\nSSLType None\nAuthMechs LOGIN\n\n\
                 IMAPStore {side}{n}-store\nAccount {side}{n}\n\n"
            );
        }
        let _ = write!(
            text,
            "Channel user{n}\nFar :src{n}-store:\nNear :dst{n}-store:\nPatterns *\nCreate Near\nSync Pull\nExpunge None\nSyncState {}/\n\n",
            dir.join(format!("mbsync-state-{n}")).display()
        );
        std::fs::create_dir_all(dir.join(format!("mbsync-state-{n}"))).expect("mbsync state dir");
    }
    let path = dir.join("mbsyncrc");
    std::fs::write(&path, text).expect("write mbsyncrc");
    path
}

#[expect(clippy::cast_precision_loss, reason = "rates for display")]
fn rate(n: u64, secs: f64) -> f64 {
    n as f64 / secs.max(1e-6)
}

#[expect(
    clippy::cast_precision_loss,
    reason = "corpus sizes are printed in whole or tenth MB; f64 is exact far past any corpus this bench sees"
)]
fn megabytes(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn main() {
    // `cargo test --all-targets` runs bench binaries too; this one empties
    // destination accounts, so it only runs under `cargo bench`.
    if !std::env::args().any(|a| a == "--bench") {
        println!("throughput: skipped (run it with `cargo bench --bench throughput`)");
        return;
    }
    let users = env_usize("BENCH_USERS", 20);
    let parallel = env_usize("BENCH_PARALLEL", 4);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");

    let (messages, bytes, read_secs) = runtime.block_on(raw_read(users, parallel));
    println!(
        "corpus: {users} mailboxes, {messages} messages, {:.0} MB",
        megabytes(bytes)
    );
    println!(
        "raw read (lower bound, {parallel} mailboxes at once): {read_secs:.1} s, {:.0} msg/s, {:.1} MB/s",
        rate(messages, read_secs),
        megabytes(bytes) / read_secs
    );

    wipe_destination(users);
    let plan = plan_file(dir.path(), users, parallel);
    let binary = env!("CARGO_BIN_EXE_cutover");
    let log = dir.path().join("bench.log");
    let (secs, rss, ok) = timed(
        binary,
        &[
            "sync",
            plan.to_str().unwrap_or_default(),
            "--log-file",
            log.to_str().unwrap_or_default(),
        ],
        &[("BENCH_PASS", "masterpass")],
    );
    let cutover_rate = rate(messages, secs);
    println!(
        "cutover sync (copy + SHA-256 both sides + read-back validation): {secs:.1} s, {cutover_rate:.0} msg/s, {:.1} MB/s, peak RSS {} MiB{}",
        megabytes(bytes) / secs,
        rss / 1024,
        if ok { "" } else { " (FAILED)" }
    );
    let (copy_secs, _, _) = {
        wipe_destination(users);
        let _ = std::fs::remove_dir_all(dir.path().join("state"));
        timed(
            binary,
            &[
                "sync",
                plan.to_str().unwrap_or_default(),
                "--no-verify",
                "--log-file",
                log.to_str().unwrap_or_default(),
            ],
            &[("BENCH_PASS", "masterpass")],
        )
    };
    println!(
        "cutover sync --no-verify (copy + hash, no read-back): {copy_secs:.1} s, {:.0} msg/s",
        rate(messages, copy_secs)
    );
    println!(
        "ratio cutover/raw-read: {:.2}",
        cutover_rate / rate(messages, read_secs)
    );

    if Command::new("mbsync").arg("--version").output().is_ok() {
        wipe_destination(users);
        let config = mbsync_config(dir.path(), users);
        let channels: Vec<String> = (1..=users).map(|n| format!("user{n}")).collect();
        let script = format!(
            "printf '%s\\n' {} | xargs -P {parallel} -I{{}} mbsync -q -c {} {{}}",
            channels.join(" "),
            config.display()
        );
        let (mb_secs, _, mb_ok) = timed("sh", &["-c", &script], &[]);
        let mbsync_rate = rate(messages, mb_secs);
        println!(
            "mbsync ({parallel} at once, no verification): {mb_secs:.1} s, {mbsync_rate:.0} msg/s{}",
            if mb_ok { "" } else { " (reported errors)" }
        );
        println!("ratio cutover/mbsync: {:.2}", cutover_rate / mbsync_rate);
    } else {
        println!("mbsync: not installed (apt-get install isync) — no comparison");
    }
}
