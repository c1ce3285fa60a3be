//! What thousands of mailboxes cost the engine and the war room: the time to
//! build one snapshot, its size on the wire (whole and as a change), and the
//! time to render one war-room frame, at `SCALE_MAILBOXES` (default 3,000).
//! No server is needed. Run: `cargo bench --bench scale`.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use cutover::control::Role;
use cutover::control::delta::{Encoder, Frame};
use cutover::engine::{ConnectionState, Engine, RunOptions};
use cutover::journal::Journal;
use cutover::telemetry::Metrics;
use cutover::tui::{TuiOptions, ViewState, render_frame};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn plan_text(mailboxes: usize) -> String {
    let mut text = String::from(
        "name = \"scale\"\n\n[source]\nhost = \"127.0.0.1\"\nport = 1\nsecurity = \"plain\"\n\
         auth = { mode = \"master\", user = \"m\", password-env = \"SCALE_BENCH_PASS\" }\n\n\
         [destination]\nhost = \"127.0.0.1\"\nport = 2\nsecurity = \"plain\"\n\
         auth = { mode = \"master\", user = \"m\", password-env = \"SCALE_BENCH_PASS\" }\n\n",
    );
    for t in 0..50 {
        let _ = write!(text, "[[tenant]]\nname = \"t{t}\"\n");
    }
    for w in 0..5 {
        let tenants: Vec<String> = (0..50)
            .filter(|t| t % 5 == w)
            .map(|t| format!("\"t{t}\""))
            .collect();
        let _ = write!(
            text,
            "[[wave]]\nname = \"w{w}\"\ntenants = [{}]\n",
            tenants.join(", ")
        );
    }
    for n in 0..mailboxes {
        let _ = write!(
            text,
            "[[mailbox]]\nsource = \"user{n}@tenant{}.example\"\ntenant = \"t{}\"\n",
            n % 50,
            n % 50
        );
    }
    text
}

fn mean_micros(runs: u32, mut f: impl FnMut()) -> f64 {
    f();
    let started = Instant::now();
    for _ in 0..runs {
        f();
    }
    started.elapsed().as_secs_f64() * 1e6 / f64::from(runs)
}

/// Bytes as KiB, for the printed report.
#[expect(
    clippy::cast_precision_loss,
    reason = "snapshot sizes are printed to one decimal KiB; f64 is exact far past any size this bench sees"
)]
fn kib(bytes: usize) -> f64 {
    bytes as f64 / 1024.0
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("scale: skipped (run it with `cargo bench --bench scale`)");
        return;
    }
    let mailboxes: usize = std::env::var("SCALE_MAILBOXES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    // SAFETY: set before any other thread exists.
    unsafe { std::env::set_var("SCALE_BENCH_PASS", "unused") };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("scale.toml");
    std::fs::write(&path, plan_text(mailboxes)).expect("plan");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let _guard = runtime.enter();

    let started = Instant::now();
    let plan = Arc::new(cutover::plan::load(&path).expect("plan loads"));
    let load_ms = started.elapsed().as_secs_f64() * 1000.0;
    let journal = Arc::new(Journal::open(&dir.path().join("scale.journal")).expect("journal"));
    let options = RunOptions {
        exit_when_finished: true,
        schedule: false,
    };
    let started = Instant::now();
    let (_handle, engine, _task) =
        Engine::start(plan, journal, Arc::new(Metrics::new()), options).expect("engine");
    let start_ms = started.elapsed().as_secs_f64() * 1000.0;

    let snapshot_us = mean_micros(50, || {
        std::hint::black_box(engine.snapshot_now());
    });
    let snapshot = engine.snapshot_now();
    let full = serde_json::to_vec(&snapshot).expect("json").len();
    let mut encoder = Encoder::default();
    let _ = encoder.next(&snapshot);
    let mut changed = snapshot.clone();
    changed.taken_at += chrono::Duration::seconds(1);
    for m in changed.mailboxes.iter_mut().take(16) {
        m.copied += 5;
    }
    let update = match encoder.next(&changed) {
        Frame::Update(u) => serde_json::to_vec(&u).expect("json").len(),
        _ => 0,
    };

    let opts = TuiOptions::new("bench".into(), Role::Lead, "scale".into());
    let view = ViewState::default();
    let now = chrono::Utc::now();
    let render = |width: u16, height: u16| {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
        mean_micros(100, || {
            terminal
                .draw(|frame| {
                    render_frame(
                        frame,
                        Some(&snapshot),
                        &view,
                        &opts,
                        &ConnectionState::Embedded,
                        now,
                    );
                })
                .expect("draw");
        })
    };
    let small = render(80, 24);
    let large = render(160, 48);

    println!("scale bench at {mailboxes} mailboxes in 5 waves");
    println!("  plan load (validation included)      {load_ms:8.1} ms");
    println!("  engine start (journal rows, live)    {start_ms:8.1} ms");
    println!(
        "  one snapshot                         {:8.3} ms",
        snapshot_us / 1000.0
    );
    println!(
        "  snapshot JSON, whole                 {:8.1} KiB",
        kib(full)
    );
    println!(
        "  snapshot JSON, change of 16 rows     {:8.1} KiB",
        kib(update)
    );
    println!(
        "  war-room frame 80x24                 {:8.3} ms  (target < 2 ms)",
        small / 1000.0
    );
    println!(
        "  war-room frame 160x48                {:8.3} ms  (target < 2 ms)",
        large / 1000.0
    );
}
