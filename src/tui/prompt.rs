//! Keys while something asks: the help overlay, a confirmation, the
//! extend form and the mailbox filter. Everything typed here stays here, so
//! a letter in a reason or a filter never reaches an action key.

use crossterm::event::{KeyCode, KeyEvent};

use super::app::{App, Effect};
use super::view::{Dialog, ExtendField, ExtendForm, Overlay, Tone};
use crate::control::Action;

/// The most minutes one extension may ask for; the engine may refuse less.
const MAX_EXTENSION_MINUTES: u32 = 24 * 60;
const MAX_REASON_CHARS: usize = 120;

impl App {
    /// A key while the help or a dialog is open; it closes on its own
    /// terms and the key goes nowhere else.
    pub(super) fn on_overlay_key(&mut self, overlay: Overlay, key: KeyEvent) -> Option<Effect> {
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

    /// A key while the filter line is being typed.
    pub(super) fn on_filter_key(&mut self, key: KeyEvent) {
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
