//! What watching costs: bytes a minute from the engine to one attached
//! client, idle and during a busy wave, and the engine's copy throughput with
//! 0 and with 20 attached clients, measured in the same run.
//!
//! Needs the Dovecot testbed (`scripts/testbed.sh start`); fills user1..user4
//! on the source and empties them on the destination.
//! Run: `cargo bench --bench attach`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

const USERS: [&str; 4] = ["user1", "user2", "user3", "user4"];

fn script(args: &[&str]) {
    let status = Command::new(args[0])
        .args(&args[1..])
        .stdout(Stdio::null())
        .status()
        .expect("script");
    assert!(status.success(), "{} failed", args.join(" "));
}

fn plan(dir: &Path, name: &str, held: bool) -> PathBuf {
    let mut text = format!(
        "name = \"{name}\"\nstate-dir = \"{}\"\n\n[source]\nhost = \"127.0.0.1\"\nport = 10143\nsecurity = \"plain\"\n\
         auth = {{ mode = \"master\", user = \"master\", password-env = \"BENCH_PASS\" }}\n\n\
         [destination]\nhost = \"127.0.0.1\"\nport = 20143\nsecurity = \"plain\"\n\
         auth = {{ mode = \"master\", user = \"master\", password-env = \"BENCH_PASS\" }}\n\n\
         [concurrency]\nconnections-per-server = 16\nfolders-per-mailbox = 4\n\n[[tenant]]\nname = \"bench\"\n",
        dir.join(name).display()
    );
    if held {
        // A window that opens next year holds the wave after pre-sync.
        text.push_str("\n[maintenance-window]\nstart = \"2027-06-01T00:00:00Z\"\nend = \"2027-06-02T00:00:00Z\"\n");
    }
    for user in USERS {
        let _ = write!(
            text,
            "\n[[mailbox]]\nsource = \"{user}\"\ntenant = \"bench\"\n"
        );
    }
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).expect("plan");
    path
}

fn start_engine(plan: &Path, log: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(["--log-file"])
        .arg(log)
        .args(["run"])
        .arg(plan)
        .arg("--headless")
        .env("BENCH_PASS", "masterpass")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cutover run")
}

/// Attaches `clients` watchers to the socket and counts what they receive.
async fn watchers(socket: PathBuf, clients: usize, counter: Arc<AtomicU64>) {
    let started = Instant::now();
    while !socket.exists() && started.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for _ in 0..clients {
        let (socket, counter) = (socket.clone(), counter.clone());
        tokio::spawn(async move {
            let Ok(mut stream) = UnixStream::connect(&socket).await else {
                return;
            };
            if stream.write_all(b"{\"op\":\"watch\"}\n").await.is_err() {
                return;
            }
            let mut lines = BufReader::new(stream).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                counter.fetch_add(line.len() as u64 + 1, Ordering::Relaxed);
            }
        });
    }
}

/// Runs a full copy of the four mailboxes with `clients` watchers; returns
/// seconds and bytes received by all watchers together.
fn copy_run(runtime: &tokio::runtime::Runtime, dir: &Path, clients: usize) -> (f64, u64) {
    for user in USERS {
        script(&[
            "python3",
            "scripts/make-corpus.py",
            "--port",
            "20143",
            "--only-user",
            user,
            "--wipe-only",
        ]);
    }
    let name = format!("busy{clients}");
    let _ = std::fs::remove_dir_all(dir.join(&name));
    let plan = plan(dir, &name, false);
    let counter = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut engine = start_engine(&plan, &dir.join(format!("{name}.log")));
    runtime.spawn(watchers(
        dir.join(&name).join(format!("{name}.sock")),
        clients,
        counter.clone(),
    ));
    let status = engine.wait().expect("engine");
    assert!(status.success(), "the copy run failed: {status}");
    (
        started.elapsed().as_secs_f64(),
        counter.load(Ordering::Relaxed),
    )
}

/// Bytes as KiB, for the printed report.
#[expect(
    clippy::cast_precision_loss,
    reason = "byte counts are printed to one decimal KiB; f64 is exact far past any count this bench sees"
)]
fn kib(bytes: u64) -> f64 {
    bytes as f64 / 1024.0
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("attach: skipped (run it with `cargo bench --bench attach`)");
        return;
    }
    script(&["scripts/testbed.sh", "start"]);
    for user in USERS {
        script(&[
            "python3",
            "scripts/make-corpus.py",
            "--port",
            "10143",
            "--only-user",
            user,
            "--messages",
            "400",
            "--big-ratio",
            "0",
            "--wipe",
        ]);
    }
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");

    // Idle: a wave held at its gate (the window is not open), nothing moving.
    let idle_plan = plan(dir.path(), "idle", true);
    let mut engine = start_engine(&idle_plan, &dir.path().join("idle.log"));
    std::thread::sleep(Duration::from_secs(8));
    let counter = Arc::new(AtomicU64::new(0));
    runtime.block_on(watchers(
        dir.path().join("idle/idle.sock"),
        1,
        counter.clone(),
    ));
    std::thread::sleep(Duration::from_secs(2));
    let before = counter.load(Ordering::Relaxed);
    std::thread::sleep(Duration::from_secs(30));
    let idle_per_min = (counter.load(Ordering::Relaxed) - before) * 2;
    let _ = engine.kill();
    let _ = engine.wait();

    let (alone, _) = copy_run(&runtime, dir.path(), 0);
    let (one, bytes_one) = copy_run(&runtime, dir.path(), 1);
    let (twenty, _) = copy_run(&runtime, dir.path(), 20);
    println!(
        "attach bench (4 mailboxes x ~400 messages, engine to client over the control socket)"
    );
    println!(
        "  idle engine -> one client          {:8.1} KiB/min",
        kib(idle_per_min)
    );
    println!(
        "  busy wave -> one client            {:8.1} KiB/min",
        kib(bytes_one) / (one / 60.0)
    );
    println!("  copy with 0 clients                {alone:8.1} s");
    println!("  copy with 1 client                 {one:8.1} s");
    println!(
        "  copy with 20 clients               {twenty:8.1} s  (ratio to 0 clients: {:.3})",
        twenty / alone
    );
    println!(
        "  (client to terminal at 80x24: see `cargo test --test tui_bandwidth -- --nocapture`)"
    );
}
