//! What the war room looks like: insta snapshots of whole frames for each
//! persona and size, of each panel alone, of overlays, in ASCII, and a
//! sweep of sizes from 0x0 up that must never panic.

use chrono::{DateTime, Duration, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use cutover::control::Role;
use cutover::engine::{ConnectionState, Snapshot};
use cutover::tui::fixture::{demo_dns, demo_time};
use cutover::tui::screen::{buffer_text, render_buffer};
use cutover::tui::view::Panel;
use cutover::tui::{
    App, Theme, TuiOptions, ViewState, demo_snapshot, dns, errors, events, figures, footer, header,
    latency, mailboxes, outputs, runbook, waves,
};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;

#[derive(Clone, Copy, Debug)]
enum Mode {
    Normal,
    ReadOnly,
    Kiosk,
}

fn opts(role: Role, mode: Mode) -> TuiOptions {
    let mut opts = TuiOptions::new("alice".into(), role, "acme-globex-weekend".into());
    opts.read_only = matches!(mode, Mode::ReadOnly);
    opts.kiosk = matches!(mode, Mode::Kiosk);
    opts
}

fn now() -> DateTime<Utc> {
    demo_time() + Duration::seconds(1)
}

/// The view a fresh war room starts with, after the first snapshot.
fn app(opts: &TuiOptions) -> App {
    let mut app = App::new(opts.access());
    app.observe(Some(demo_snapshot()));
    app
}

fn draw(width: u16, height: u16, opts: &TuiOptions, view: &ViewState) -> String {
    let snapshot = demo_snapshot();
    let buffer = render_buffer(
        width,
        height,
        Some(&snapshot),
        view,
        opts,
        &ConnectionState::Embedded,
        now(),
    );
    buffer_text(&buffer)
}

fn personas() -> Vec<(&'static str, TuiOptions)> {
    vec![
        ("lead", opts(Role::Lead, Mode::Normal)),
        ("operator", opts(Role::Operator, Mode::Normal)),
        ("viewer", opts(Role::Viewer, Mode::Normal)),
        ("read_only_lead", opts(Role::Lead, Mode::ReadOnly)),
        ("kiosk", opts(Role::Lead, Mode::Kiosk)),
    ]
}

#[test]
fn full_frames_for_every_persona_and_size() {
    for (who, opts) in personas() {
        let view = app(&opts).view;
        for (width, height) in [(80, 24), (120, 40), (160, 48)] {
            let name = format!("frame_{width}x{height}_{who}");
            insta::assert_snapshot!(name, draw(width, height, &opts, &view));
        }
    }
}

#[test]
fn too_small_says_what_it_needs() {
    for (who, opts) in personas() {
        let view = app(&opts).view;
        let text = draw(59, 15, &opts, &view);
        assert!(text.contains("terminal too small"), "{who}: {text}");
        insta::assert_snapshot!(format!("too_small_59x15_{who}"), text);
    }
}

#[test]
fn no_size_panics() {
    let snapshot = demo_snapshot();
    for (_, opts) in personas() {
        let mut view = app(&opts).view;
        view.overlay = Some(cutover::tui::view::Overlay::Help);
        for width in (0..=200).step_by(7).chain([1, 59, 60, 61, 119, 120]) {
            for height in (0..=64).step_by(5).chain([1, 15, 16, 17, 33, 34]) {
                for snapshot in [None, Some(&snapshot)] {
                    let _ = render_buffer(
                        width,
                        height,
                        snapshot,
                        &view,
                        &opts,
                        &ConnectionState::Embedded,
                        now(),
                    );
                }
            }
        }
    }
}

#[test]
fn ascii_frames_use_only_ascii() {
    for (who, mut opts) in personas() {
        opts.ascii = true;
        let view = app(&opts).view;
        for (width, height) in [(80, 24), (160, 48)] {
            let text = draw(width, height, &opts, &view);
            let odd: String = text.chars().filter(|c| !c.is_ascii()).collect();
            assert!(odd.is_empty(), "{who} {width}x{height} draws {odd:?}");
            if who == "lead" || who == "kiosk" {
                insta::assert_snapshot!(format!("ascii_{width}x{height}_{who}"), text);
            }
        }
    }
}

#[test]
fn every_theme_draws_the_same_words_and_glyphs() {
    let lead = opts(Role::Lead, Mode::Normal);
    let view = app(&lead).view;
    let reference = draw(160, 48, &lead, &view);
    for name in Theme::BUILTIN {
        let mut themed = lead.clone();
        themed.theme = Theme::builtin(name).unwrap();
        assert_eq!(
            draw(160, 48, &themed, &view),
            reference,
            "theme {name} changes the text"
        );
    }
}

#[test]
fn waiting_for_the_first_snapshot() {
    let lead = opts(Role::Lead, Mode::Normal);
    let view = App::new(lead.access()).view;
    let buffer = render_buffer(
        80,
        24,
        None,
        &view,
        &lead,
        &ConnectionState::Embedded,
        now(),
    );
    insta::assert_snapshot!("frame_80x24_no_snapshot", buffer_text(&buffer));
}

#[test]
fn stale_and_disconnected_data_say_so() {
    let lead = opts(Role::Lead, Mode::Normal);
    let view = app(&lead).view;
    let snapshot = demo_snapshot();
    let late = demo_time() + Duration::seconds(47);
    let text = buffer_text(&render_buffer(
        80,
        24,
        Some(&snapshot),
        &view,
        &lead,
        &ConnectionState::Embedded,
        late,
    ));
    assert!(text.lines().next().unwrap().contains("STALE 47s"), "{text}");

    let reconnecting = ConnectionState::Reconnecting {
        next_try_secs: 4,
        attempt: 2,
    };
    let text = buffer_text(&render_buffer(
        120,
        40,
        Some(&snapshot),
        &view,
        &lead,
        &reconnecting,
        now(),
    ));
    let top = text.lines().next().unwrap();
    assert!(
        top.contains("STALE") && top.contains("reconnecting in 4s (try 2)"),
        "{top}"
    );

    let kiosk = opts(Role::Viewer, Mode::Kiosk);
    let kiosk_view = app(&kiosk).view;
    let gone = ConnectionState::Gone {
        reason: "engine finished".into(),
    };
    let text = buffer_text(&render_buffer(
        80,
        24,
        Some(&snapshot),
        &kiosk_view,
        &kiosk,
        &gone,
        late,
    ));
    insta::assert_snapshot!("frame_80x24_kiosk_stale", text);
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

#[test]
fn overlays_and_dialogs() {
    let lead = opts(Role::Lead, Mode::Normal);
    let open = |keys: &[KeyEvent], name: &str, opts: &TuiOptions| {
        let mut app = app(opts);
        for k in keys {
            let _ = app.on_key(*k);
        }
        insta::assert_snapshot!(name.to_string(), draw(80, 24, opts, &app.view));
    };
    open(&[key('?')], "help_80x24_lead", &lead);
    open(
        &[key('?')],
        "help_80x24_viewer",
        &opts(Role::Viewer, Mode::Normal),
    );
    open(
        &[key('?')],
        "help_80x24_read_only",
        &opts(Role::Operator, Mode::ReadOnly),
    );
    open(&[key('h')], "dialog_halt_80x24", &lead);
    open(
        &[
            key('e'),
            key('3'),
            key('0'),
            KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE),
            key('s'),
            key('l'),
            key('o'),
            key('w'),
        ],
        "dialog_extend_80x24",
        &lead,
    );
    open(&[key('j'), key('R')], "dialog_rollback_80x24", &lead);
    open(&[key('q')], "dialog_quit_80x24", &lead);
    open(&[key('7'), key('X')], "dialog_untick_80x24", &lead);
    open(
        &[key('7'), key('j')],
        "runbook_80x24_operator",
        &opts(Role::Operator, Mode::Normal),
    );
    open(
        &[key('3'), key('j'), key('s')],
        "dialog_skip_80x24",
        &opts(Role::Operator, Mode::Normal),
    );
    open(
        &[key('h')],
        "refused_halt_80x24_operator",
        &opts(Role::Operator, Mode::Normal),
    );
    open(
        &[key('/'), key('g'), key('l'), key('o')],
        "mailboxes_filtering_80x24",
        &lead,
    );
    open(
        &[key('3'), key('o'), key('o'), key('O')],
        "mailboxes_sorted_80x24",
        &lead,
    );
}

/// Renders one panel alone into a `width` x `height` terminal.
fn panel(width: u16, height: u16, draw: impl FnOnce(&mut ratatui::Frame, Rect)) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    let completed = terminal.draw(|f| draw(f, f.area())).unwrap();
    buffer_text(completed.buffer)
}

#[test]
fn each_panel_alone_small_and_large() {
    let snapshot = demo_snapshot();
    let records = demo_dns();
    let theme = Theme::default();
    let lead = opts(Role::Lead, Mode::Normal);
    let mut view = app(&lead).view;
    for (size, (width, height)) in [("small", (60, 12)), ("large", (130, 26))] {
        let s = &snapshot;
        let mut shot =
            |name: &str, focus: Panel, draw: &dyn Fn(&mut ratatui::Frame, Rect, &ViewState)| {
                view.focus = Some(focus);
                let text = panel(width, height, |f, area| draw(f, area, &view));
                insta::assert_snapshot!(format!("panel_{name}_{size}"), text);
            };
        shot("waves", Panel::Waves, &|f, a, v| {
            waves::render(f, a, s, v, &theme);
        });
        shot("errors", Panel::Errors, &|f, a, v| {
            errors::render(f, a, s, v, &theme);
        });
        shot("mailboxes", Panel::Mailboxes, &|f, a, v| {
            mailboxes::render(f, a, s, v, &theme);
        });
        shot("latency", Panel::Latency, &|f, a, v| {
            latency::render(f, a, s, v, &theme);
        });
        shot("dns", Panel::Dns, &|f, a, v| {
            dns::render(f, a, &records, v, &theme);
        });
        shot("dns_none", Panel::Dns, &|f, a, v| {
            dns::render(f, a, &[], v, &theme);
        });
        shot("events", Panel::Events, &|f, a, v| {
            events::render(f, a, s, v, &theme);
        });
        shot("runbook", Panel::Runbook, &|f, a, v| {
            runbook::render(f, a, s, v, &theme);
        });
        shot("runbook_failing_selected", Panel::Runbook, &|f, a, v| {
            let failing = ViewState {
                step: 1,
                ..v.clone()
            };
            runbook::render(f, a, s, &failing, &theme);
        });
        let bare = Snapshot {
            runbook: Vec::new(),
            ..snapshot.clone()
        };
        shot("runbook_none", Panel::Runbook, &|f, a, v| {
            runbook::render(f, a, &bare, v, &theme);
        });
        shot("figures", Panel::Waves, &|f, a, _| {
            figures::render(f, a, s, &ConnectionState::Embedded, now(), &theme);
        });
        shot("header", Panel::Waves, &|f, a, _| {
            let chrome = cutover::tui::Chrome {
                opts: &lead,
                connection: &ConnectionState::Embedded,
                now: now(),
            };
            header::render(f, a, Some(s), &chrome, &theme);
        });
        shot("footer", Panel::Waves, &|f, a, v| {
            footer::render(f, a, v, lead.access(), &theme);
        });
    }
}

#[test]
fn the_held_wave_and_its_reason_show_at_80x24() {
    for (who, opts) in personas() {
        let view = app(&opts).view;
        let text = draw(80, 24, &opts, &view);
        assert!(text.contains("wave-2-globex"), "{who}");
        assert!(
            text.contains("held: p95 APPEND 840 ms > 500 ms for 3 min"),
            "{who}:\n{text}"
        );
        assert!(text.contains("04:30Z"), "{who}: window end");
        assert!(text.contains("timeout"), "{who}: errors");
    }
}

#[test]
fn the_runbook_shows_at_every_size() {
    let lead = opts(Role::Lead, Mode::Normal);
    let mut app = app(&lead);
    let _ = app.on_key(key('7'));
    for (width, height) in [(80, 24), (120, 34), (120, 40), (160, 48)] {
        let text = draw(width, height, &lead, &app.view);
        assert!(text.contains("runbook"), "{width}x{height}:\n{text}");
        assert!(
            text.contains("Lower the TTL of imap"),
            "{width}x{height}:\n{text}"
        );
    }
    let text = draw(160, 48, &lead, &app.view);
    for words in [
        "olga 22:14Z",
        "✗ failing, exit 1",
        "○ open",
        "before-cutover",
    ] {
        assert!(text.contains(words), "{words}:\n{text}");
    }
    let _ = app.on_key(key('j'));
    let text = draw(80, 24, &lead, &app.view);
    assert!(
        text.contains("check exit 1 at 23:45Z: profile missing"),
        "{text}"
    );
    assert!(text.contains("Globex Mail 2025"), "{text}");
}

#[test]
fn telemetry_health_reads_without_colour() {
    let theme = Theme::default();
    let mut s = demo_snapshot();
    let line = |s: &Snapshot, width: usize| outputs::line(s, &theme, width).map(|l| l.to_string());
    let wide = line(&s, 160).unwrap();
    assert!(wide.contains("cloudwatch ✓ ok"), "{wide}");
    assert!(wide.contains("webhook ✗ FAILING: HTTP 502"), "{wide}");
    assert!(wide.contains("alarm cutover-append-p95 ✓ OK"), "{wide}");
    let narrow = line(&s, 80).unwrap();
    assert!(narrow.chars().count() <= 80, "{narrow}");
    assert!(
        narrow.contains("webhook ✗ FAILING") && narrow.contains("✓ 3 ok"),
        "{narrow}"
    );

    s.outputs[3].state = "ALARM".into();
    let narrow = line(&s, 80).unwrap();
    assert!(
        narrow.contains("alarm cutover-append-p95 ✗ ALARM"),
        "{narrow}"
    );

    for o in &mut s.outputs {
        o.state = if o.name.starts_with("alarm") {
            "OK"
        } else {
            "ok"
        }
        .into();
    }
    assert_eq!(line(&s, 30).unwrap(), "telemetry ✓ all 4 ok");

    s.outputs.clear();
    assert_eq!(line(&s, 160), None);
    let lead = opts(Role::Lead, Mode::Normal);
    let view = app(&lead).view;
    let text = buffer_text(&render_buffer(
        80,
        24,
        Some(&s),
        &view,
        &lead,
        &ConnectionState::Embedded,
        now(),
    ));
    let third = text.lines().nth(2).unwrap();
    assert!(third.starts_with("┌ waves"), "no telemetry row:\n{text}");
}

#[test]
fn a_halted_engine_says_halted() {
    let lead = opts(Role::Lead, Mode::Normal);
    let mut snapshot: Snapshot = demo_snapshot();
    snapshot.halted = true;
    let view = app(&lead).view;
    let text = buffer_text(&render_buffer(
        80,
        24,
        Some(&snapshot),
        &view,
        &lead,
        &ConnectionState::Embedded,
        now(),
    ));
    assert!(text.lines().next().unwrap().contains("HALTED"), "{text}");
}

#[test]
fn latency_trend_after_a_few_minutes() {
    let lead = opts(Role::Lead, Mode::Normal);
    let mut app = App::new(lead.access());
    let base = demo_snapshot();
    let mut snapshot = base.clone();
    for i in 0..24_u32 {
        snapshot.taken_at = demo_time() + Duration::seconds(i64::from(i) * 10);
        for (row, start) in snapshot.latency.iter_mut().zip(&base.latency) {
            let swing = f64::from((i * 7) % 12) / 10.0;
            row.p95_ms = (start.p95_ms * (0.5 + swing)).round();
            row.p99_ms = start.p99_ms.max(row.p95_ms * 1.3).round();
        }
        app.observe(Some(snapshot.clone()));
    }
    app.view.focus = Some(Panel::Latency);
    let theme = Theme::default();
    let text = panel(130, 12, |f, area| {
        latency::render(f, area, &snapshot, &app.view, &theme);
    });
    insta::assert_snapshot!("panel_latency_trend", text);
}
