//! What the war room costs over SSH: frames drawn through the real
//! crossterm backend into memory, counting the bytes a terminal would
//! receive at 80x24, for an idle and for a busy engine, at several frame
//! rates. Run with `--nocapture` to see the figures.

use std::io::Write;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use cutover::control::Role;
use cutover::engine::ConnectionState;
use cutover::engine::snapshot::EventView;
use cutover::journal::MailboxPhase;
use cutover::telemetry::Category;
use cutover::tui::fixture::demo_time;
use cutover::tui::{App, Screen, TuiOptions, demo_snapshot};

/// A terminal that only counts what it is sent.
#[derive(Clone, Default)]
struct Tap(Arc<Mutex<Vec<u8>>>);

impl Tap {
    fn take(&self) -> usize {
        let mut bytes = self.0.lock().unwrap();
        let n = bytes.len();
        bytes.clear();
        n
    }
}

impl Write for Tap {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The engine publishes a snapshot this often (its tick).
const PUBLISH_MS: i64 = 500;

/// A minute of the engine at work, one publish at a time: messages copied,
/// mailboxes moving on, latency moving, errors and events arriving.
fn work(snapshot: &mut cutover::engine::Snapshot, step: u32, now: DateTime<Utc>) {
    for m in &mut snapshot.mailboxes {
        if matches!(
            m.phase,
            MailboxPhase::DeltaSyncing | MailboxPhase::PreSyncing
        ) {
            m.copied += 17;
            m.bytes += 17 * 61_440;
        }
    }
    if step.is_multiple_of(10)
        && let Some(m) = snapshot
            .mailboxes
            .iter_mut()
            .find(|m| m.phase == MailboxPhase::DeltaSyncing)
    {
        m.phase = MailboxPhase::Verified;
        m.verified = Some(true);
        snapshot.waves[1].done += 1;
        snapshot.waves[1].verified += 1;
    }
    if let Some(eta) = &mut snapshot.waves[1].eta_secs {
        *eta = eta.saturating_sub(1);
    }
    let jitter = f64::from(step * 37 % 120);
    for row in &mut snapshot.latency {
        row.p95_ms = (row.p95_ms * 0.9 + jitter).round();
        row.p99_ms = row.p99_ms.max(row.p95_ms * 1.4).round();
        row.count += 40;
    }
    if step.is_multiple_of(4) {
        if let Some(e) = snapshot
            .errors
            .iter_mut()
            .find(|e| e.category == Category::Timeout)
        {
            e.count += 1;
        }
        snapshot.events.push(EventView {
            at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            kind: "mailbox".into(),
            wave: Some("wave-1-acme".into()),
            mailbox: Some("nina.ross@acme.example".into()),
            text: format!("delta sync: {} messages copied", 1000 + step),
        });
        if snapshot.events.len() > 40 {
            snapshot.events.remove(0);
        }
    }
    if let Some(w) = &mut snapshot.window {
        w.forecast_end = w.forecast_end.map(|f| f + Duration::seconds(7));
    }
    snapshot.copied += 600;
}

struct Measure {
    first_frame: usize,
    per_minute: usize,
    frames_sent: usize,
}

/// Runs a minute of the live loop's drawing at `fps`, with the engine
/// publishing every half second.
fn minute(width: u16, height: u16, fps: u32, busy: bool, kiosk: bool) -> Measure {
    let tap = Tap::default();
    let mut screen = Screen::fixed(tap.clone(), width, height).unwrap();
    let mut opts = TuiOptions::new("alice".into(), Role::Lead, "acme-globex-weekend".into());
    opts.kiosk = kiosk;
    let mut app = App::new(opts.access());
    let mut snapshot = demo_snapshot();
    let start = demo_time();
    app.observe(Some(snapshot.clone()));
    screen
        .draw(
            app.snapshot.as_ref(),
            &app.view,
            &opts,
            &ConnectionState::Embedded,
            start,
        )
        .unwrap();
    let first_frame = tap.take();

    let tick_ms = 1000 / i64::from(fps);
    let mut published = start;
    let mut step = 0;
    let mut frames_sent = 0;
    let mut sent = 0;
    for i in 1..=i64::from(fps) * 60 {
        let now = start + Duration::milliseconds(i * tick_ms);
        while now - published >= Duration::milliseconds(PUBLISH_MS) {
            published += Duration::milliseconds(PUBLISH_MS);
            step += 1;
            snapshot.taken_at = published;
            if busy {
                work(&mut snapshot, step, published);
            }
            app.observe(Some(snapshot.clone()));
        }
        if screen
            .draw(
                app.snapshot.as_ref(),
                &app.view,
                &opts,
                &ConnectionState::Embedded,
                now,
            )
            .unwrap()
        {
            frames_sent += 1;
        }
        sent += tap.take();
    }
    Measure {
        first_frame,
        per_minute: sent,
        frames_sent,
    }
}

#[test]
fn bytes_a_minute_idle_and_busy() {
    println!("war room bytes to the terminal; the engine publishes every {PUBLISH_MS} ms");
    println!(
        "{:<8} {:<8} {:>4} {:>12} {:>14} {:>12}",
        "size", "load", "fps", "first frame", "bytes/minute", "frames sent"
    );
    let sizes: [(u16, u16, &[u32]); 2] = [(80, 24, &[1, 4, 10]), (160, 48, &[4])];
    for (width, height, rates) in sizes {
        for kiosk in [false, true] {
            for &fps in rates {
                let idle = minute(width, height, fps, false, kiosk);
                let busy = minute(width, height, fps, true, kiosk);
                for (load, m) in [("idle", &idle), ("busy", &busy)] {
                    let load = if kiosk {
                        format!("{load}/kiosk")
                    } else {
                        load.to_string()
                    };
                    let size = format!("{width}x{height}");
                    println!(
                        "{size:<8} {load:<8} {fps:>4} {:>12} {:>14} {:>12}",
                        m.first_frame, m.per_minute, m.frames_sent
                    );
                }
                assert!(
                    idle.per_minute < busy.per_minute,
                    "idle {} >= busy {}",
                    idle.per_minute,
                    busy.per_minute
                );
                assert!(busy.frames_sent <= usize::try_from(fps * 60).unwrap());
            }
        }
    }
}

#[test]
fn nothing_changed_sends_nothing() {
    let tap = Tap::default();
    let mut screen = Screen::fixed(tap.clone(), 80, 24).unwrap();
    let opts = TuiOptions::new("alice".into(), Role::Lead, "acme-globex-weekend".into());
    let mut app = App::new(opts.access());
    app.observe(Some(demo_snapshot()));
    let now = demo_time();
    assert!(
        screen
            .draw(
                app.snapshot.as_ref(),
                &app.view,
                &opts,
                &ConnectionState::Embedded,
                now
            )
            .unwrap()
    );
    let first = tap.take();
    assert!(
        first > 1000,
        "the first frame is drawn whole ({first} bytes)"
    );
    for _ in 0..100 {
        let drawn = screen
            .draw(
                app.snapshot.as_ref(),
                &app.view,
                &opts,
                &ConnectionState::Embedded,
                now,
            )
            .unwrap();
        assert!(!drawn);
    }
    assert_eq!(tap.take(), 0, "an unchanged frame sent bytes");
}

#[test]
fn frames_are_wrapped_in_synchronized_updates() {
    let tap = Tap::default();
    let mut screen = Screen::fixed(tap.clone(), 80, 24).unwrap();
    let opts = TuiOptions::new("alice".into(), Role::Lead, "acme-globex-weekend".into());
    let mut app = App::new(opts.access());
    app.observe(Some(demo_snapshot()));
    screen
        .draw(
            app.snapshot.as_ref(),
            &app.view,
            &opts,
            &ConnectionState::Embedded,
            demo_time(),
        )
        .unwrap();
    let bytes = tap.0.lock().unwrap().clone();
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.starts_with("\u{1b}[?2026h"),
        "no begin: {:?}",
        &text[..20.min(text.len())]
    );
    assert!(text.ends_with("\u{1b}[?2026l"), "no end");
}
