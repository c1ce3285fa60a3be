//! Key handling as a pure state machine: a key and the current view go in,
//! the new view and at most one effect come out. No terminal, no channels,
//! so every path is a unit test.

use crossterm::event::{KeyCode, KeyEvent};

use super::Access;
use super::errors;
use super::keys::{self, Focus, Intent, Move};
use super::mailboxes;
use super::phase::{WaveStatus, next_unstarted};
use super::view::{Dialog, ExtendField, ExtendForm, Overlay, Panel, Tone, ViewState};
use crate::control::{Action, ActionKind, ActionSpec, allowed};
use crate::engine::{EngineState, Reply, Snapshot};

/// What the live loop must do after a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Quit,
    /// Hand the command to the engine, which checks the role again.
    Send(Action),
}

/// Rows a page key moves.
const PAGE: usize = 10;
/// The most minutes one extension may ask for; the engine may refuse less.
const MAX_EXTENSION_MINUTES: u32 = 24 * 60;
const MAX_REASON_CHARS: usize = 120;

/// The view state plus what it needs to interpret keys: who is watching
/// and the latest snapshot (selections are indexes into it).
#[derive(Debug, Clone)]
pub struct App {
    pub view: ViewState,
    pub access: Access,
    pub snapshot: Option<Snapshot>,
}

impl App {
    /// A fresh view with the waves panel focused; nothing is focused on
    /// a kiosk, where no one moves a selection.
    #[must_use]
    pub fn new(access: Access) -> App {
        let view = ViewState {
            focus: (!access.kiosk).then_some(Panel::Waves),
            ..ViewState::default()
        };
        App {
            view,
            access,
            snapshot: None,
        }
    }

    /// Takes a new snapshot from the engine.
    pub fn observe(&mut self, snapshot: Option<Snapshot>) {
        if let Some(s) = &snapshot {
            self.view.history.record(s);
        }
        self.snapshot = snapshot;
        self.clamp_selections();
    }

    /// Shows the engine's answer to a command in the status line.
    pub fn on_reply(&mut self, action: &str, reply: &Reply) {
        match reply {
            Reply::Accepted { message } => {
                let text = if message.is_empty() {
                    format!("{action}: accepted")
                } else {
                    message.clone()
                };
                self.view.say(Tone::Ok, text);
            }
            Reply::Refused { reason } => self.view.say(Tone::Bad, format!("refused: {reason}")),
        }
    }

    /// Handles one key press.
    pub fn on_key(&mut self, key: KeyEvent) -> Option<Effect> {
        if keys::is_interrupt(key) {
            return Some(Effect::Quit);
        }
        if self.access.kiosk {
            return None;
        }
        if let Some(overlay) = self.view.overlay.take() {
            return self.on_overlay_key(overlay, key);
        }
        if self.view.editing_filter {
            self.on_filter_key(key);
            return None;
        }
        match keys::intent(key) {
            Intent::Interrupt => Some(Effect::Quit),
            Intent::Action(kind) => self.request(crate::control::spec(kind)),
            Intent::Move(m) => {
                self.move_selection(m);
                None
            }
            Intent::Focus(f) => {
                let panel = match (f, self.view.focus) {
                    (Focus::Next, Some(p)) => p.next(),
                    (Focus::Previous, Some(p)) => p.previous(),
                    (Focus::Next | Focus::Previous, None) => Panel::Waves,
                    (Focus::To(p), _) => p,
                };
                self.view.focus = Some(panel);
                None
            }
            Intent::Filter => {
                self.view.focus = Some(Panel::Mailboxes);
                self.view.editing_filter = true;
                None
            }
            Intent::Sort => {
                self.view.sort = self.view.sort.next();
                self.view.mailbox = 0;
                None
            }
            Intent::SortReverse => {
                self.view.descending = !self.view.descending;
                self.view.mailbox = 0;
                None
            }
            Intent::Help => {
                self.view.overlay = Some(Overlay::Help);
                None
            }
            Intent::Quit => {
                if self.waves_running() {
                    self.view.overlay = Some(Overlay::Dialog(Dialog::Quit));
                    None
                } else {
                    Some(Effect::Quit)
                }
            }
            Intent::Cancel => {
                if self.view.status.take().is_none() {
                    self.view.filter.clear();
                }
                None
            }
            Intent::Unbound => None,
        }
    }

    /// Notes that a command left for the engine.
    pub fn sent(&mut self, action: &Action) {
        let args = action.arguments();
        let name = crate::control::spec(action.kind()).name;
        let what = if args.is_empty() {
            name.to_string()
        } else {
            format!("{name} {args}")
        };
        self.view
            .say(Tone::Info, format!("sent {what}; waiting for the engine"));
    }

    fn waves_running(&self) -> bool {
        self.snapshot.as_ref().is_some_and(|s| {
            matches!(s.state, EngineState::Starting | EngineState::Running)
                && s.waves
                    .iter()
                    .any(|w| WaveStatus::of(&w.phase) != WaveStatus::Done)
        })
    }

    /// An action key: refuse with a reason, send, or ask first.
    fn request(&mut self, spec: &'static ActionSpec) -> Option<Effect> {
        if self.access.read_only {
            self.view.say(
                Tone::Warn,
                format!("read-only session: {} is not available", spec.name),
            );
            return None;
        }
        if let Err(why) = allowed(spec.kind, self.access.role) {
            self.view.say(Tone::Bad, why);
            return None;
        }
        let Some(snapshot) = &self.snapshot else {
            self.view.say(
                Tone::Warn,
                format!("{}: no data from the engine yet", spec.name),
            );
            return None;
        };
        let action = match spec.kind {
            ActionKind::HaltNextWave => Action::HaltNextWave,
            ActionKind::Resume => Action::Resume,
            ActionKind::ExtendWindow => {
                self.view.overlay = Some(Overlay::Dialog(Dialog::Extend(ExtendForm::default())));
                return None;
            }
            ActionKind::PauseMailbox | ActionKind::SkipMailbox | ActionKind::RetryMailbox => {
                let Some(mailbox) = self.selected_mailbox(snapshot) else {
                    self.view.say(
                        Tone::Warn,
                        format!(
                            "{}: select a mailbox first (Tab to the mailbox table)",
                            spec.name
                        ),
                    );
                    return None;
                };
                match spec.kind {
                    ActionKind::PauseMailbox => Action::PauseMailbox { mailbox },
                    ActionKind::SkipMailbox => Action::SkipMailbox { mailbox },
                    _ => Action::RetryMailbox { mailbox },
                }
            }
            ActionKind::Rollback => {
                let Some(wave) = snapshot.waves.get(self.view.wave) else {
                    self.view.say(Tone::Warn, "rollback: select a wave first");
                    return None;
                };
                Action::Rollback {
                    wave: wave.name.clone(),
                }
            }
            ActionKind::TickStep | ActionKind::UntickStep => {
                // The runbook panel (issue 9) selects the step; until it
                // exists, say so rather than guess a step.
                self.view.say(
                    Tone::Warn,
                    format!(
                        "{}: runbook steps are ticked with `cutover ctl` for now",
                        spec.name
                    ),
                );
                return None;
            }
        };
        if spec.dangerous {
            let dialog = confirmation(spec, action, snapshot);
            self.view.overlay = Some(Overlay::Dialog(dialog));
            None
        } else {
            self.sent(&action);
            Some(Effect::Send(action))
        }
    }

    fn selected_mailbox(&self, snapshot: &Snapshot) -> Option<String> {
        if self.view.focus != Some(Panel::Mailboxes) {
            return None;
        }
        mailboxes::visible(snapshot, &self.view)
            .get(self.view.mailbox)
            .map(|m| m.source.clone())
    }

    fn on_overlay_key(&mut self, overlay: Overlay, key: KeyEvent) -> Option<Effect> {
        match overlay {
            Overlay::Help => {
                let closes = matches!(key.code, KeyCode::Esc | KeyCode::Char('?' | 'q'));
                if !closes {
                    self.view.overlay = Some(Overlay::Help);
                }
                None
            }
            Overlay::Dialog(Dialog::Quit) => match key.code {
                KeyCode::Char('y' | 'Y' | 'q') => Some(Effect::Quit),
                KeyCode::Char('n' | 'N') | KeyCode::Esc => None,
                _ => {
                    self.view.overlay = Some(Overlay::Dialog(Dialog::Quit));
                    None
                }
            },
            Overlay::Dialog(Dialog::Confirm {
                action,
                title,
                lines,
            }) => match key.code {
                KeyCode::Char('y' | 'Y') => {
                    self.sent(&action);
                    Some(Effect::Send(action))
                }
                KeyCode::Char('n' | 'N' | 'q') | KeyCode::Esc => {
                    self.view
                        .say(Tone::Info, format!("{title}: cancelled, nothing sent"));
                    None
                }
                _ => {
                    self.view.overlay = Some(Overlay::Dialog(Dialog::Confirm {
                        action,
                        title,
                        lines,
                    }));
                    None
                }
            },
            Overlay::Dialog(Dialog::Extend(form)) => self.on_extend_key(form, key),
        }
    }

    fn on_extend_key(&mut self, mut form: ExtendForm, key: KeyEvent) -> Option<Effect> {
        match key.code {
            KeyCode::Esc => {
                self.view.say(Tone::Info, "extend: cancelled, nothing sent");
                return None;
            }
            KeyCode::Tab | KeyCode::BackTab | KeyCode::Up | KeyCode::Down => {
                form.field = match form.field {
                    ExtendField::Minutes => ExtendField::Reason,
                    ExtendField::Reason => ExtendField::Minutes,
                };
            }
            KeyCode::Backspace => {
                match form.field {
                    ExtendField::Minutes => form.minutes.pop(),
                    ExtendField::Reason => form.reason.pop(),
                };
            }
            KeyCode::Char(c) => match form.field {
                ExtendField::Minutes if c.is_ascii_digit() && form.minutes.len() < 4 => {
                    form.minutes.push(c);
                }
                ExtendField::Reason
                    if !c.is_control() && form.reason.chars().count() < MAX_REASON_CHARS =>
                {
                    form.reason.push(c);
                }
                _ => {}
            },
            KeyCode::Enter => match submit(&form) {
                Ok(action) => {
                    self.sent(&action);
                    return Some(Effect::Send(action));
                }
                Err((field, problem)) => {
                    form.field = field;
                    form.problem = Some(problem);
                }
            },
            _ => {}
        }
        self.view.overlay = Some(Overlay::Dialog(Dialog::Extend(form)));
        None
    }

    fn on_filter_key(&mut self, key: KeyEvent) {
        match key.code {
            KeyCode::Enter => self.view.editing_filter = false,
            KeyCode::Esc => {
                self.view.editing_filter = false;
                self.view.filter.clear();
            }
            KeyCode::Backspace => {
                self.view.filter.pop();
            }
            KeyCode::Char(c) if !c.is_control() && self.view.filter.len() < 64 => {
                self.view.filter.push(c);
            }
            _ => return,
        }
        self.view.mailbox = 0;
    }

    fn move_selection(&mut self, m: Move) {
        let len = self.rows_in_focus();
        let view = &mut self.view;
        let Some(focus) = view.focus else { return };
        let index = match focus {
            Panel::Waves => &mut view.wave,
            Panel::Errors => &mut view.error,
            Panel::Mailboxes => &mut view.mailbox,
            Panel::Latency => &mut view.latency,
            Panel::Dns => &mut view.dns,
            Panel::Events => &mut view.events,
        };
        let last = len.saturating_sub(1);
        *index = match m {
            Move::Up => index.saturating_sub(1),
            Move::Down => (*index + 1).min(last),
            Move::PageUp => index.saturating_sub(PAGE),
            Move::PageDown => (*index + PAGE).min(last),
            Move::Top => 0,
            Move::Bottom => last,
        };
    }

    fn rows_in_focus(&self) -> usize {
        let Some(s) = &self.snapshot else { return 0 };
        let Some(focus) = self.view.focus else {
            return 0;
        };
        match focus {
            Panel::Waves => s.waves.len(),
            Panel::Errors => errors::ordered(s).len(),
            Panel::Mailboxes => mailboxes::visible(s, &self.view).len(),
            Panel::Latency => s.latency.len(),
            Panel::Dns => super::dns::records(s).len(),
            Panel::Events => s.events.len(),
        }
    }

    fn clamp_selections(&mut self) {
        let Some(s) = &self.snapshot else { return };
        let clamp = |index: usize, len: usize| index.min(len.saturating_sub(1));
        let mailboxes = mailboxes::visible(s, &self.view).len();
        let view = &mut self.view;
        view.wave = clamp(view.wave, s.waves.len());
        view.error = clamp(view.error, errors::ordered(s).len());
        view.mailbox = clamp(view.mailbox, mailboxes);
        view.latency = clamp(view.latency, s.latency.len());
        view.dns = clamp(view.dns, super::dns::records(s).len());
        view.events = clamp(view.events, s.events.len());
    }
}

/// Whether the war room can choose what the action acts on. Runbook steps
/// have no panel to select them from yet, so tick and untick are neither
/// offered nor sent here; `cutover ctl` does them.
#[must_use]
pub fn can_target(kind: ActionKind) -> bool {
    !matches!(kind, ActionKind::TickStep | ActionKind::UntickStep)
}

/// The confirmation for a dangerous action, naming what it touches.
fn confirmation(spec: &ActionSpec, action: Action, snapshot: &Snapshot) -> Dialog {
    let lines = match &action {
        Action::HaltNextWave => match next_unstarted(&snapshot.waves) {
            Some(wave) => vec![
                format!("Wave {} will be held and will not start.", wave.name),
                "Running phases finish; nothing new starts until resume.".into(),
            ],
            None => vec![
                "Every wave has started; no new wave will start.".into(),
                "Running phases finish.".into(),
            ],
        },
        Action::SkipMailbox { mailbox } => vec![
            format!("Mailbox {mailbox} will be skipped for this run."),
            "It stays on the source server; retry brings it back.".into(),
        ],
        Action::Rollback { wave } => vec![
            format!("Wave {wave} will be rolled back:"),
            "reverse delta sync to the source, then its cutover flags flip back.".into(),
        ],
        other => vec![format!("{} {}", spec.name, other.arguments())],
    };
    Dialog::Confirm {
        action,
        title: spec.name.to_string(),
        lines,
    }
}

/// The extend form's fields as an action, or which field is wrong and why.
fn submit(form: &ExtendForm) -> Result<Action, (ExtendField, String)> {
    let minutes: u32 = form.minutes.parse().unwrap_or(0);
    if minutes == 0 || minutes > MAX_EXTENSION_MINUTES {
        return Err((
            ExtendField::Minutes,
            format!("minutes: 1 to {MAX_EXTENSION_MINUTES}"),
        ));
    }
    let reason = form.reason.trim();
    if reason.is_empty() {
        return Err((
            ExtendField::Reason,
            "a reason is required (it goes in the audit log)".into(),
        ));
    }
    Ok(Action::ExtendWindow {
        minutes,
        reason: reason.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use crossterm::event::KeyModifiers;

    use super::*;
    use crate::control::Role;
    use crate::tui::fixture::demo_snapshot;

    fn lead() -> App {
        let mut app = App::new(Access {
            role: Role::Lead,
            read_only: false,
            kiosk: false,
        });
        app.observe(Some(demo_snapshot()));
        app
    }

    fn press(app: &mut App, c: char) -> Option<Effect> {
        app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
    }

    #[test]
    fn mailbox_actions_need_the_mailbox_table() {
        let mut app = lead();
        assert_eq!(press(&mut app, 'p'), None);
        assert!(
            app.view
                .status
                .as_ref()
                .unwrap()
                .text
                .contains("select a mailbox")
        );
        press(&mut app, '3');
        assert!(matches!(
            press(&mut app, 'p'),
            Some(Effect::Send(Action::PauseMailbox { .. }))
        ));
    }

    #[test]
    fn selections_stay_inside_a_shrinking_snapshot() {
        let mut app = lead();
        press(&mut app, 'G');
        assert_eq!(app.view.wave, 3);
        let mut smaller = demo_snapshot();
        smaller.waves.truncate(2);
        app.observe(Some(smaller));
        assert_eq!(app.view.wave, 1);
    }

    #[test]
    fn typing_in_the_filter_never_triggers_an_action() {
        let mut app = lead();
        press(&mut app, '/');
        for c in "shtRerp".chars() {
            assert_eq!(press(&mut app, c), None);
        }
        assert_eq!(app.view.filter, "shtRerp");
        assert!(app.view.overlay.is_none());
    }

    #[test]
    fn runbook_steps_are_not_targeted_here() {
        let mut app = lead();
        for spec in crate::control::ACTIONS
            .iter()
            .filter(|s| !can_target(s.kind))
        {
            assert_eq!(press(&mut app, spec.key), None);
            assert!(app.view.overlay.is_none());
        }
    }
}
