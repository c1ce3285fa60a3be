//! The action x role x mode matrix for the war room: for every action in
//! the table, every role and every mode, pressing its key sends the command
//! only when the role allows it and the mode is not read-only or kiosk,
//! dangerous ones only after confirming; and the footer, the help overlay
//! and the drawn frame never offer an action the session may not use.
//! Mailbox actions act on the mailbox table's selection, runbook ticks on
//! the runbook panel's, the rest on the wave or the whole run.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use cutover::control::{ACTIONS, Action, ActionKind, ActionSpec, Role, allowed};
use cutover::engine::ConnectionState;
use cutover::tui::fixture::demo_time;
use cutover::tui::help::action_entry;
use cutover::tui::screen::{buffer_text, render_buffer};
use cutover::tui::view::{Dialog, Overlay, Panel};
use cutover::tui::{App, Effect, Theme, TuiOptions, demo_snapshot, footer, help, mailboxes};

const ROLES: [Role; 3] = [Role::Viewer, Role::Operator, Role::Lead];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Normal,
    ReadOnly,
    Kiosk,
}

const MODES: [Mode; 3] = [Mode::Normal, Mode::ReadOnly, Mode::Kiosk];

fn opts(role: Role, mode: Mode) -> TuiOptions {
    let mut opts = TuiOptions::new("alice".into(), role, "acme-globex-weekend".into());
    opts.read_only = mode == Mode::ReadOnly;
    opts.kiosk = mode == Mode::Kiosk;
    opts
}

fn app(role: Role, mode: Mode) -> App {
    let mut app = App::new(opts(role, mode).access());
    app.observe(Some(demo_snapshot()));
    app
}

fn char_key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn code(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

/// Whether this session may send the action from the war room.
fn may_send(spec: &ActionSpec, role: Role, mode: Mode) -> bool {
    mode == Mode::Normal && allowed(spec.kind, role).is_ok()
}

/// What the war room should send for the action with the demo snapshot
/// after [`select_target`]: the second mailbox row, the first wave, the
/// open step whose check fails (tick) or the done step (untick).
fn expected(kind: ActionKind, app: &App) -> Action {
    let snapshot = app.snapshot.as_ref().unwrap();
    let mailbox = mailboxes::visible(snapshot, &app.view)[1].source.clone();
    match kind {
        ActionKind::HaltNextWave => Action::HaltNextWave,
        ActionKind::Resume => Action::Resume,
        ActionKind::ExtendWindow => Action::ExtendWindow {
            minutes: 30,
            reason: "slow tenant".into(),
        },
        ActionKind::PauseMailbox => Action::PauseMailbox { mailbox },
        ActionKind::SkipMailbox => Action::SkipMailbox { mailbox },
        ActionKind::RetryMailbox => Action::RetryMailbox { mailbox },
        ActionKind::Rollback => Action::Rollback {
            wave: snapshot.waves[0].name.clone(),
        },
        ActionKind::TickStep => Action::TickStep {
            wave: "wave-2-globex".into(),
            step: 0,
        },
        ActionKind::UntickStep => Action::UntickStep {
            wave: "wave-1-acme".into(),
            step: 0,
        },
    }
}

/// Selects the second mailbox row (pause, skip and retry act on it).
fn select_mailbox(app: &mut App) {
    app.on_key(char_key('3'));
    app.on_key(char_key('j'));
}

/// Selects what the action acts on: the second mailbox row, or in the
/// runbook panel an open step to tick or a done one to untick.
fn select_target(app: &mut App, kind: ActionKind) {
    select_mailbox(app);
    match kind {
        ActionKind::TickStep => {
            app.on_key(char_key('7'));
            app.on_key(char_key('j'));
        }
        ActionKind::UntickStep => {
            app.on_key(char_key('7'));
        }
        _ => {}
    }
}

/// Fills in whatever dialog is open and confirms it.
fn confirm(app: &mut App) -> Option<Effect> {
    match &app.view.overlay {
        Some(Overlay::Dialog(Dialog::Extend(_))) => {
            for c in "30".chars() {
                app.on_key(char_key(c));
            }
            app.on_key(code(KeyCode::Tab));
            for c in "slow tenant".chars() {
                app.on_key(char_key(c));
            }
            app.on_key(code(KeyCode::Enter))
        }
        Some(Overlay::Dialog(_)) => app.on_key(char_key('y')),
        _ => None,
    }
}

#[test]
fn every_action_for_every_role_and_mode() {
    for spec in ACTIONS {
        for role in ROLES {
            for mode in MODES {
                let case = format!("{} as {role} in {mode:?}", spec.name);
                let mut app = app(role, mode);
                select_target(&mut app, spec.kind);
                let want = may_send(spec, role, mode).then(|| expected(spec.kind, &app));

                let first = app.on_key(char_key(spec.key));
                let mut sent: Vec<Action> = Vec::new();
                if let Some(Effect::Send(action)) = &first {
                    sent.push(action.clone());
                }
                if spec.dangerous {
                    assert!(sent.is_empty(), "{case}: sent without confirming");
                }
                if let Some(Effect::Send(action)) = confirm(&mut app) {
                    sent.push(action);
                }
                // Keys that would confirm a dialog send nothing without one.
                for key in [char_key('y'), code(KeyCode::Enter)] {
                    if let Some(Effect::Send(action)) = app.on_key(key) {
                        sent.push(action);
                    }
                }

                match want {
                    Some(action) => assert_eq!(sent, vec![action], "{case}"),
                    None => assert!(sent.is_empty(), "{case}: sent {sent:?}"),
                }
            }
        }
    }
}

#[test]
fn refusals_say_why_and_kiosk_says_nothing() {
    for spec in ACTIONS {
        for role in ROLES {
            for mode in MODES {
                let mut app = app(role, mode);
                select_target(&mut app, spec.kind);
                app.on_key(char_key(spec.key));
                let status = app
                    .view
                    .status
                    .as_ref()
                    .map(|s| s.text.clone())
                    .unwrap_or_default();
                match mode {
                    Mode::Kiosk => assert!(status.is_empty(), "{}: {status}", spec.name),
                    Mode::ReadOnly => {
                        assert!(status.contains("read-only"), "{}: {status}", spec.name);
                    }
                    Mode::Normal => {
                        if let Err(why) = allowed(spec.kind, role) {
                            assert_eq!(status, why);
                            assert!(app.view.overlay.is_none(), "{} opened a dialog", spec.name);
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn dangerous_actions_can_be_cancelled() {
    for spec in ACTIONS.iter().filter(|s| s.dangerous) {
        let mut app = app(Role::Lead, Mode::Normal);
        select_target(&mut app, spec.kind);
        assert_eq!(app.on_key(char_key(spec.key)), None);
        assert!(
            matches!(app.view.overlay, Some(Overlay::Dialog(_))),
            "{}",
            spec.name
        );
        assert_eq!(app.on_key(code(KeyCode::Esc)), None);
        assert!(app.view.overlay.is_none());
        assert!(app.view.status.as_ref().unwrap().text.contains("cancelled"));
    }
}

#[test]
fn the_halt_dialog_names_the_wave_it_will_hold() {
    let mut app = app(Role::Lead, Mode::Normal);
    app.on_key(char_key('h'));
    let Some(Overlay::Dialog(Dialog::Confirm { lines, .. })) = &app.view.overlay else {
        panic!("no confirmation");
    };
    assert!(lines[0].contains("wave-2-globex"), "{lines:?}");
}

#[test]
fn ticks_need_a_step_selected_in_the_runbook_panel() {
    for role in [Role::Operator, Role::Lead] {
        for key in ['x', 'X'] {
            let mut app = app(role, Mode::Normal);
            select_mailbox(&mut app);
            assert_eq!(app.on_key(char_key(key)), None);
            assert!(
                app.view.overlay.is_none(),
                "{key} as {role} opened a dialog"
            );
            let status = app.view.status.as_ref().unwrap().text.clone();
            assert!(
                status.contains("select a step in the runbook panel"),
                "{key} as {role}: {status}"
            );
        }
    }
}

#[test]
fn the_untick_dialog_names_the_step() {
    let mut app = app(Role::Operator, Mode::Normal);
    select_target(&mut app, ActionKind::UntickStep);
    app.on_key(char_key('X'));
    let Some(Overlay::Dialog(Dialog::Confirm { lines, .. })) = &app.view.overlay else {
        panic!("no confirmation");
    };
    let text = lines.join("\n");
    assert!(text.contains("Step 0 of wave-1-acme"), "{text}");
    assert!(
        text.contains("Lower the TTL of imap.acme.example"),
        "{text}"
    );
    assert!(text.contains("before-delta"), "{text}");
}

#[test]
fn the_footer_keeps_the_focused_panels_actions() {
    let theme = Theme::default();
    let lead = opts(Role::Lead, Mode::Normal).access();
    let on_waves = footer::hint_line(lead, Some(Panel::Waves), &theme, 80).to_string();
    assert!(on_waves.contains("R rollback"), "{on_waves}");
    let on_runbook = footer::hint_line(lead, Some(Panel::Runbook), &theme, 80).to_string();
    assert!(
        on_runbook.contains("x tick") && on_runbook.contains("X untick"),
        "{on_runbook}"
    );
}

#[test]
fn the_extend_form_wants_minutes_and_a_reason() {
    let mut app = app(Role::Lead, Mode::Normal);
    app.on_key(char_key('e'));
    assert_eq!(app.on_key(code(KeyCode::Enter)), None, "empty form sent");
    for c in "45".chars() {
        app.on_key(char_key(c));
    }
    assert_eq!(
        app.on_key(code(KeyCode::Enter)),
        None,
        "sent without a reason"
    );
    let Some(Overlay::Dialog(Dialog::Extend(form))) = &app.view.overlay else {
        panic!("form closed")
    };
    assert!(form.problem.as_deref().unwrap().contains("reason"));
    for c in " dns lag ".chars() {
        app.on_key(char_key(c));
    }
    let sent = app.on_key(code(KeyCode::Enter));
    assert_eq!(
        sent,
        Some(Effect::Send(Action::ExtendWindow {
            minutes: 45,
            reason: "dns lag".into()
        }))
    );
}

#[test]
fn footer_and_help_offer_exactly_what_may_be_sent() {
    let theme = Theme::default();
    for role in ROLES {
        for mode in MODES {
            let access = opts(role, mode).access();
            let hints = footer::hint_line(access, None, &theme, 400).to_string();
            let help = help::lines(access, &theme)
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n");
            for spec in ACTIONS {
                let case = format!("{} as {role} in {mode:?}", spec.name);
                let offered = may_send(spec, role, mode);
                let hint = format!("{} {}", spec.key, spec.name);
                let entry = action_entry(spec);
                assert_eq!(hints.contains(&hint), offered, "{case}: footer {hints:?}");
                assert_eq!(help.contains(&entry), offered, "{case}: help");
            }
        }
    }
}

#[test]
fn no_action_leaks_into_any_drawn_view() {
    let snapshot = demo_snapshot();
    let now = demo_time();
    for role in ROLES {
        for mode in MODES {
            let opts = opts(role, mode);
            let mut app = app(role, mode);
            let mut views = vec![app.view.clone()];
            app.on_key(char_key('?'));
            views.push(app.view.clone());
            let mut forced = app.view.clone();
            forced.overlay = Some(Overlay::Help);
            views.push(forced);
            for view in &views {
                for (width, height) in [(80, 24), (160, 48)] {
                    let text = buffer_text(&render_buffer(
                        width,
                        height,
                        Some(&snapshot),
                        view,
                        &opts,
                        &ConnectionState::Embedded,
                        now,
                    ));
                    for spec in ACTIONS.iter().filter(|s| !may_send(s, role, mode)) {
                        let hint = format!("{} {}", spec.key, spec.name);
                        let entry = format!("{:<3}{}", spec.key, spec.name);
                        assert!(
                            !text.contains(&hint),
                            "{} as {role} in {mode:?} drawn:\n{text}",
                            spec.name
                        );
                        assert!(
                            !text.contains(&entry),
                            "{} as {role} in {mode:?} in help",
                            spec.name
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn kiosk_ignores_every_key_but_ctrl_c() {
    let mut app = app(Role::Lead, Mode::Kiosk);
    let before = app.view.clone();
    let mut keys: Vec<KeyEvent> = (' '..='~').map(char_key).collect();
    keys.extend(
        [
            KeyCode::Tab,
            KeyCode::BackTab,
            KeyCode::Enter,
            KeyCode::Esc,
            KeyCode::Up,
            KeyCode::Down,
            KeyCode::F(1),
        ]
        .map(code),
    );
    for key in keys {
        assert_eq!(app.on_key(key), None, "{key:?}");
    }
    assert_eq!(app.view, before, "a key changed the kiosk view");
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(app.on_key(ctrl_c), Some(Effect::Quit));
}

#[test]
fn read_only_still_navigates() {
    let mut app = app(Role::Lead, Mode::ReadOnly);
    app.on_key(code(KeyCode::Tab));
    assert_eq!(app.view.focus, Some(cutover::tui::view::Panel::Errors));
    app.on_key(char_key('j'));
    assert_eq!(app.view.error, 1);
    assert_eq!(app.on_key(char_key('h')), None);
    assert!(app.view.overlay.is_none());
}

#[test]
fn quitting_asks_while_waves_run() {
    let mut app = app(Role::Viewer, Mode::Normal);
    assert_eq!(app.on_key(char_key('q')), None);
    assert!(matches!(
        app.view.overlay,
        Some(Overlay::Dialog(Dialog::Quit))
    ));
    assert_eq!(app.on_key(code(KeyCode::Esc)), None);
    assert_eq!(app.on_key(char_key('q')), None);
    assert_eq!(app.on_key(char_key('y')), Some(Effect::Quit));

    let mut finished = App::new(opts(Role::Viewer, Mode::Normal).access());
    let mut snapshot = demo_snapshot();
    snapshot.state = cutover::engine::EngineState::Finished;
    finished.observe(Some(snapshot));
    assert_eq!(finished.on_key(char_key('q')), Some(Effect::Quit));
}

#[test]
fn replies_reach_the_status_line() {
    let mut app = app(Role::Lead, Mode::Normal);
    app.on_reply(
        "resume",
        &cutover::engine::Reply::refused("nothing is halted"),
    );
    assert_eq!(
        app.view.status.as_ref().unwrap().text,
        "refused: nothing is halted"
    );
    app.on_reply("resume", &cutover::engine::Reply::accepted("resumed"));
    assert_eq!(app.view.status.as_ref().unwrap().text, "resumed");
}

#[test]
fn filter_and_sort_drive_the_mailbox_selection() {
    let mut app = app(Role::Operator, Mode::Normal);
    for k in ['/', 'g', 'l', 'o', 'b', 'e', 'x'] {
        assert_eq!(app.on_key(char_key(k)), None, "typing {k} in the filter");
    }
    app.on_key(code(KeyCode::Enter));
    let snapshot = app.snapshot.clone().unwrap();
    let rows = mailboxes::visible(&snapshot, &app.view);
    assert_eq!(rows.len(), 8);
    app.on_key(char_key('G'));
    let last = rows[7].source.clone();
    assert_eq!(
        app.on_key(char_key('p')),
        Some(Effect::Send(Action::PauseMailbox { mailbox: last }))
    );
    app.on_key(code(KeyCode::Esc));
    app.on_key(code(KeyCode::Esc));
    assert!(app.view.filter.is_empty());
}
