//! The footer: the status line (the engine's last answer, or what the mode
//! means) and the key hints, built from the action table for this role and
//! mode so a key that would be refused is never offered. When the line is
//! short, the actions on the focused panel's selection stay longest.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::Access;
use super::app::target;
use super::keys::NAVIGATION;
use super::text::{Piece, fit};
use super::theme::Theme;
use super::view::{Panel, Tone, ViewState};
use crate::control::{ACTIONS, ActionSpec};

/// Rows the footer takes: the status line and the hints, or one line in
/// kiosk mode where no key does anything.
#[must_use]
pub fn height(access: Access) -> u16 {
    if access.kiosk { 1 } else { 2 }
}

/// The actions this session is offered, in table order.
#[must_use]
pub fn offered(access: Access) -> Vec<&'static ActionSpec> {
    ACTIONS.iter().filter(|a| access.offers(a)).collect()
}

/// The hint line for `width` columns with `focus` on a panel.
#[must_use]
pub fn hint_line(
    access: Access,
    focus: Option<Panel>,
    theme: &Theme,
    width: usize,
) -> Line<'static> {
    let key = |k: String, word: &'static str| {
        vec![
            Span::styled(k, theme.title),
            Span::styled(format!(" {word}"), theme.muted),
        ]
    };
    let nav = |keys: &str| NAVIGATION.iter().find(|n| n.keys == keys);
    let mut pieces = Vec::new();
    for (rank, keys, shown) in [(0, "?", "?"), (0, "q", "q")] {
        if let Some(n) = nav(keys) {
            pieces.push(Piece::new(rank, key(shown.into(), n.short)));
        }
    }
    for spec in offered(access) {
        let rank = if focus.is_some() && target(spec.kind) == focus {
            1
        } else {
            2
        };
        pieces.push(Piece::new(rank, key(spec.key.to_string(), spec.name)));
    }
    for (rank, keys, shown) in [
        (3, "Tab S-Tab", "Tab"),
        (4, "j k Up Down", "j/k"),
        (4, "/", "/"),
        (5, "o O", "o"),
    ] {
        if let Some(n) = nav(keys) {
            pieces.push(Piece::new(rank, key(shown.into(), n.short)));
        }
    }
    fit(pieces, &Span::raw("  "), width)
}

pub fn render(frame: &mut Frame, area: Rect, view: &ViewState, access: Access, theme: &Theme) {
    let g = theme.glyphs;
    if access.kiosk {
        let text = format!(
            "KIOSK {s} wall screen {s} read-only {s} keys are ignored {s} Ctrl-C exits",
            s = g.separator
        );
        let line = Paragraph::new(Span::styled(text, theme.muted)).alignment(Alignment::Center);
        frame.render_widget(line, area);
        return;
    }
    let [status_area, hints_area] = Layout::vertical([Constraint::Length(1); 2]).areas(area);
    frame.render_widget(Paragraph::new(status(view, access, theme)), status_area);
    let hints = hint_line(access, view.focus, theme, usize::from(hints_area.width));
    frame.render_widget(Paragraph::new(hints), hints_area);
}

fn status<'a>(view: &ViewState, access: Access, theme: &Theme) -> Line<'a> {
    let g = theme.glyphs;
    if let Some(status) = &view.status {
        let (mark, style) = match status.tone {
            Tone::Info => (g.arrow, theme.info),
            Tone::Ok => (g.ok, theme.ok),
            Tone::Warn => (g.warn, theme.warn),
            Tone::Bad => (g.bad, theme.bad),
        };
        return Line::from(Span::styled(format!("{mark} {}", status.text), style));
    }
    if view.editing_filter {
        return Line::from(Span::styled(
            "filter: mailbox, wave, tenant, phase or error; Enter keeps, Esc clears",
            theme.info,
        ));
    }
    let text = if access.read_only {
        "read-only: watching only; no action is offered or sent".to_string()
    } else if offered(access).is_empty() {
        format!(
            "{}: watching only; actions need an operator or lead role",
            access.role
        )
    } else {
        "Tab or 1-7 switch panels; ? lists every key".to_string()
    };
    Line::from(Span::styled(text, theme.muted))
}
