//! What a key press means, before any state is consulted.
//!
//! Action keys come from the action table and win over everything else, so
//! navigation uses keys the table does not: arrows, `j`/`k`, `Tab`, and
//! `o`/`O` for sorting (`h` is halt, `s` is skip).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::view::Panel;
use crate::control::{ACTIONS, ActionKind, ActionSpec};

/// A key's meaning in the main view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    /// Ctrl-C: leave now, in every mode.
    Interrupt,
    Action(ActionKind),
    Move(Move),
    Focus(Focus),
    Filter,
    Sort,
    SortReverse,
    Help,
    Quit,
    Cancel,
    Unbound,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Next,
    Previous,
    To(Panel),
}

/// A navigation key for the footer and the help overlay.
#[derive(Debug, Clone, Copy)]
pub struct NavHint {
    pub keys: &'static str,
    /// The footer's word for it.
    pub short: &'static str,
    /// The help overlay's line.
    pub summary: &'static str,
}

/// Navigation keys, in the order help lists them.
pub const NAVIGATION: &[NavHint] = &[
    NavHint {
        keys: "?",
        short: "help",
        summary: "this help",
    },
    NavHint {
        keys: "q",
        short: "quit",
        summary: "quit (asks if waves run)",
    },
    NavHint {
        keys: "Tab S-Tab",
        short: "panel",
        summary: "next / previous panel",
    },
    NavHint {
        keys: "1-7",
        short: "go",
        summary: "jump to a panel",
    },
    NavHint {
        keys: "j k Up Down",
        short: "move",
        summary: "next / previous row",
    },
    NavHint {
        keys: "PgUp PgDn g G",
        short: "page",
        summary: "page, first, last row",
    },
    NavHint {
        keys: "/",
        short: "filter",
        summary: "filter the mailboxes",
    },
    NavHint {
        keys: "o O",
        short: "sort",
        summary: "sort column / reverse",
    },
    NavHint {
        keys: "Esc",
        short: "clear",
        summary: "close, cancel, clear",
    },
    NavHint {
        keys: "Ctrl-C",
        short: "exit",
        summary: "leave at once",
    },
];

/// The action bound to a key, from the action table.
#[must_use]
pub fn action_for(key: KeyEvent) -> Option<&'static ActionSpec> {
    let KeyCode::Char(c) = key.code else {
        return None;
    };
    if key
        .modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
    {
        return None;
    }
    ACTIONS.iter().find(|a| a.key == c)
}

/// Whether the key is Ctrl-C.
#[must_use]
pub fn is_interrupt(key: KeyEvent) -> bool {
    key.modifiers.contains(KeyModifiers::CONTROL) && matches!(key.code, KeyCode::Char('c' | 'C'))
}

/// What a key means in the main view (no overlay open, not typing).
#[must_use]
pub fn intent(key: KeyEvent) -> Intent {
    if is_interrupt(key) {
        return Intent::Interrupt;
    }
    if let Some(spec) = action_for(key) {
        return Intent::Action(spec.kind);
    }
    if key
        .modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
    {
        return Intent::Unbound;
    }
    match key.code {
        KeyCode::Up | KeyCode::Char('k') => Intent::Move(Move::Up),
        KeyCode::Down | KeyCode::Char('j') => Intent::Move(Move::Down),
        KeyCode::PageUp => Intent::Move(Move::PageUp),
        KeyCode::PageDown => Intent::Move(Move::PageDown),
        KeyCode::Home | KeyCode::Char('g') => Intent::Move(Move::Top),
        KeyCode::End | KeyCode::Char('G') => Intent::Move(Move::Bottom),
        KeyCode::Tab | KeyCode::Right => Intent::Focus(Focus::Next),
        KeyCode::BackTab | KeyCode::Left => Intent::Focus(Focus::Previous),
        KeyCode::Char(c @ '1'..='7') => {
            let index = usize::from(c as u8 - b'1');
            Intent::Focus(Focus::To(Panel::ALL[index]))
        }
        KeyCode::Char('/') => Intent::Filter,
        KeyCode::Char('o') => Intent::Sort,
        KeyCode::Char('O') => Intent::SortReverse,
        KeyCode::Char('?') => Intent::Help,
        KeyCode::Char('q') => Intent::Quit,
        KeyCode::Esc => Intent::Cancel,
        _ => Intent::Unbound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    #[test]
    fn every_action_key_reaches_its_action() {
        for spec in ACTIONS {
            assert_eq!(
                intent(press(spec.key)),
                Intent::Action(spec.kind),
                "{}",
                spec.name
            );
        }
        let shifted = KeyEvent::new(KeyCode::Char('R'), KeyModifiers::SHIFT);
        assert_eq!(intent(shifted), Intent::Action(ActionKind::Rollback));
    }

    #[test]
    fn navigation_keys_do_not_clash_with_actions() {
        for c in ['j', 'k', 'g', 'G', '/', 'o', 'O', '?', 'q', '1', '7'] {
            assert!(action_for(press(c)).is_none(), "{c} is an action key");
        }
    }

    #[test]
    fn ctrl_c_is_never_an_action() {
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(intent(ctrl_c), Intent::Interrupt);
        let ctrl_r = KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL);
        assert_eq!(intent(ctrl_r), Intent::Unbound);
    }
}
