//! Key handling as a pure state machine: a key and the current view go in,
//! the new view and at most one effect come out. No terminal, no channels,
//! so every path is a unit test.

use crossterm::event::KeyEvent;

use super::Access;
use super::errors;
use super::keys::{self, Focus, Intent, Move};
use super::mailboxes;
use super::phase::{WaveStatus, next_unstarted};
use super::runbook;
use super::view::{Dialog, ExtendForm, Overlay, Panel, Tone, ViewState};
use crate::control::{Action, ActionKind, ActionSpec, allowed};
use crate::engine::snapshot::{StepView, WaveView};
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
        self.follow_mailbox();
        self.clamp_selections();
        self.pin_mailbox();
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
        let effect = self.handle(key);
        self.pin_mailbox();
        effect
    }

    fn handle(&mut self, key: KeyEvent) -> Option<Effect> {
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

    /// Whether leaving now would walk away from work in progress: a wave
    /// is mid-phase, or the engine is about to start one.
    fn waves_running(&self) -> bool {
        self.snapshot.as_ref().is_some_and(|s| {
            let status = |w: &WaveView| WaveStatus::of(&w.phase);
            let active = s.waves.iter().any(|w| status(w) == WaveStatus::Active);
            let starting = matches!(s.state, EngineState::Starting | EngineState::Running)
                && s.waves.iter().any(|w| status(w).not_started());
            s.state != EngineState::Finished && (active || starting)
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
                let step = match selected_step(&self.view, snapshot) {
                    Ok(step) => step,
                    Err(why) => {
                        self.view.say(Tone::Warn, format!("{}: {why}", spec.name));
                        return None;
                    }
                };
                if let Some(why) = no_change(spec.kind, step) {
                    self.view.say(Tone::Warn, format!("{}: {why}", spec.name));
                    return None;
                }
                let (wave, step) = (step.wave.clone(), step.step);
                if spec.kind == ActionKind::TickStep {
                    Action::TickStep { wave, step }
                } else {
                    Action::UntickStep { wave, step }
                }
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
            Panel::Runbook => &mut view.step,
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
        if focus == Panel::Waves {
            self.runbook_follows_wave();
        }
    }

    /// Moves the step selection to the selected wave's first step, so the
    /// runbook opens where the waves panel points.
    fn runbook_follows_wave(&mut self) {
        let Some(s) = &self.snapshot else { return };
        let first = s
            .waves
            .get(self.view.wave)
            .and_then(|w| runbook::first_of_wave(s, &w.name));
        if let Some(first) = first {
            self.view.step = first;
        }
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
            Panel::Runbook => s.runbook.len(),
        }
    }

    /// Moves the mailbox selection to the row its mailbox is on now.
    fn follow_mailbox(&mut self) {
        let (Some(s), Some(name)) = (&self.snapshot, &self.view.mailbox_name) else {
            return;
        };
        if let Some(row) = mailboxes::visible(s, &self.view)
            .iter()
            .position(|m| &m.source == name)
        {
            self.view.mailbox = row;
        }
    }

    /// Remembers which mailbox the selected row shows.
    fn pin_mailbox(&mut self) {
        let Some(s) = &self.snapshot else { return };
        let name = mailboxes::visible(s, &self.view)
            .get(self.view.mailbox)
            .map(|m| m.source.clone());
        self.view.mailbox_name = name;
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
        view.step = clamp(view.step, s.runbook.len());
    }
}

/// The panel whose selection an action acts on, if any; the footer puts
/// these actions first while their panel has the focus.
#[must_use]
pub fn target(kind: ActionKind) -> Option<Panel> {
    match kind {
        ActionKind::PauseMailbox | ActionKind::SkipMailbox | ActionKind::RetryMailbox => {
            Some(Panel::Mailboxes)
        }
        ActionKind::Rollback => Some(Panel::Waves),
        ActionKind::TickStep | ActionKind::UntickStep => Some(Panel::Runbook),
        ActionKind::HaltNextWave | ActionKind::Resume | ActionKind::ExtendWindow => None,
    }
}

/// The runbook step tick and untick act on: the selected row of the
/// runbook panel, which must have the focus.
fn selected_step<'s>(view: &ViewState, snapshot: &'s Snapshot) -> Result<&'s StepView, String> {
    if snapshot.runbook.is_empty() {
        return Err("this plan has no runbook steps".into());
    }
    if view.focus != Some(Panel::Runbook) {
        return Err("select a step in the runbook panel first (Tab or 7)".into());
    }
    runbook::ordered(snapshot)
        .get(view.step)
        .copied()
        .ok_or_else(|| "select a step in the runbook panel first (Tab or 7)".into())
}

/// Why ticking or unticking this step would change nothing. Ticking a done
/// step with a check runs the check again, so only a done step without one
/// is refused.
fn no_change(kind: ActionKind, step: &StepView) -> Option<String> {
    match kind {
        ActionKind::TickStep if step.done && step.check.is_none() => {
            Some(format!("step \"{}\" is already done", step.title))
        }
        ActionKind::UntickStep if !step.done => {
            Some(format!("step \"{}\" is already open", step.title))
        }
        _ => None,
    }
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
        Action::UntickStep { wave, step } => {
            let found = snapshot
                .runbook
                .iter()
                .find(|s| &s.wave == wave && s.step == *step);
            match found {
                Some(s) => vec![
                    format!(
                        "Step {step} of {wave} (owner {}) will be reopened:",
                        s.owner
                    ),
                    format!("\"{}\"", s.title),
                    format!("While it is open, {wave} may not pass {}.", s.stage),
                ],
                None => vec![format!("Step {step} of {wave} will be reopened.")],
            }
        }
        other => vec![format!("{} {}", spec.name, other.arguments())],
    };
    Dialog::Confirm {
        action,
        title: spec.name.to_string(),
        lines,
    }
}

#[cfg(test)]
mod tests {
    use crossterm::event::{KeyCode, KeyModifiers};

    use super::*;
    use crate::control::Role;
    use crate::journal::MailboxPhase;
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
    fn the_mailbox_selection_follows_its_mailbox_through_a_resort() {
        let mut app = lead();
        press(&mut app, '3');
        press(&mut app, 'j');
        let chosen = app.view.mailbox_name.clone().unwrap();
        let mut next = demo_snapshot();
        let first = next
            .mailboxes
            .iter_mut()
            .find(|m| m.phase == MailboxPhase::Pending)
            .unwrap();
        first.phase = MailboxPhase::Failed;
        app.observe(Some(next));
        assert_eq!(app.view.mailbox, 2, "a new failure sorts above it");
        let sent = press(&mut app, 'p');
        assert_eq!(
            sent,
            Some(Effect::Send(Action::PauseMailbox { mailbox: chosen }))
        );
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

    fn status(app: &App) -> String {
        app.view
            .status
            .as_ref()
            .map(|s| s.text.clone())
            .unwrap_or_default()
    }

    #[test]
    fn runbook_steps_need_the_runbook_panel() {
        let mut app = lead();
        for key in ['x', 'X'] {
            assert_eq!(press(&mut app, key), None);
            assert!(app.view.overlay.is_none());
            assert!(
                status(&app).contains("select a step in the runbook"),
                "{key}"
            );
        }
        press(&mut app, '7');
        press(&mut app, 'j');
        assert_eq!(
            press(&mut app, 'x'),
            Some(Effect::Send(Action::TickStep {
                wave: "wave-2-globex".into(),
                step: 0
            }))
        );
        assert_eq!(press(&mut app, 'X'), None, "an open step");
        assert!(status(&app).contains("already open"), "{}", status(&app));
        press(&mut app, 'g');
        assert_eq!(press(&mut app, 'x'), None, "a done step without a check");
        assert!(status(&app).contains("already done"), "{}", status(&app));
        assert_eq!(press(&mut app, 'X'), None);
        let Some(Overlay::Dialog(Dialog::Confirm { lines, .. })) = &app.view.overlay else {
            panic!("untick did not ask first");
        };
        assert!(lines[0].contains("Step 0 of wave-1-acme"), "{lines:?}");
        assert_eq!(
            press(&mut app, 'y'),
            Some(Effect::Send(Action::UntickStep {
                wave: "wave-1-acme".into(),
                step: 0
            }))
        );
    }

    #[test]
    fn the_runbook_follows_the_wave_selection() {
        let mut app = lead();
        press(&mut app, 'j');
        press(&mut app, 'j');
        assert_eq!(app.view.wave, 2);
        assert_eq!(app.view.step, 1, "wave-2-globex's first step");
        press(&mut app, 'j');
        assert_eq!(app.view.step, 1, "wave-3-initech has no steps");
    }

    #[test]
    fn a_plan_without_a_runbook_says_so() {
        let mut app = lead();
        let mut bare = demo_snapshot();
        bare.runbook.clear();
        app.observe(Some(bare));
        press(&mut app, '7');
        assert_eq!(press(&mut app, 'x'), None);
        assert!(
            status(&app).contains("no runbook steps"),
            "{}",
            status(&app)
        );
    }
}
