//! The `?` overlay: navigation keys, the actions this role may run in this
//! mode (and no others), and what the glyphs mean. It fits 80x24: the
//! navigation keys take two columns, every entry one line, and the glyph
//! legend one line.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::Access;
use super::footer::offered;
use super::format::fit;
use super::keys::NAVIGATION;
use super::text::centered;
use super::theme::Theme;
use crate::control::ActionSpec;

const WIDTH: u16 = 78;
const KEYS: usize = 14;
const NAV_COLUMN: usize = 38;

/// An action's line: key, name, whether it asks first, what it does.
#[must_use]
pub fn action_entry(spec: &ActionSpec) -> String {
    let confirm = if spec.dangerous { "asks" } else { "" };
    format!(
        "{:<3}{:<9}{confirm:<5}{}",
        spec.key, spec.name, spec.summary
    )
}

/// The overlay's lines; separate from drawing so tests can read them.
#[must_use]
pub fn lines(access: Access, theme: &Theme) -> Vec<Line<'static>> {
    let heading = |text: String| Line::from(Span::styled(text, theme.title));
    let mut lines = vec![heading("navigation".into())];
    for pair in NAVIGATION.chunks(2) {
        let mut spans = Vec::new();
        for n in pair {
            spans.push(Span::styled(fit(n.keys, KEYS), theme.heading));
            spans.push(Span::styled(fit(n.summary, NAV_COLUMN - KEYS), theme.text));
        }
        lines.push(Line::from(spans));
    }

    lines.push(heading(format!(
        "actions for a {} (asks: confirms first)",
        access.role
    )));
    let actions = offered(access);
    if access.read_only {
        lines.push(Line::from(Span::styled(
            "read-only session: no action is offered or sent",
            theme.warn,
        )));
    } else if actions.is_empty() {
        lines.push(Line::from(Span::styled(
            format!(
                "a {} may not run any action; the engine would refuse them too",
                access.role
            ),
            theme.warn,
        )));
    }
    for spec in actions {
        lines.push(Line::from(Span::styled(action_entry(spec), theme.text)));
    }

    let g = theme.glyphs;
    let legend = [
        (g.waiting, "waiting"),
        (g.active, "running"),
        (g.held, "held"),
        (g.halted, "halted"),
        (g.done, "done"),
        (g.failed, "failed"),
        (g.over, "over"),
    ];
    let mut spans = vec![Span::styled("glyphs", theme.title)];
    for (glyph, meaning) in legend {
        spans.push(Span::styled(format!("  {glyph} "), theme.heading));
        spans.push(Span::styled(meaning, theme.text));
    }
    lines.push(Line::from(spans));
    lines
}

pub fn render(frame: &mut Frame, area: Rect, access: Access, theme: &Theme) {
    let lines = lines(access, theme);
    let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let area = centered(area, WIDTH, height);
    let g = theme.glyphs;
    let block = theme.block(format!(" help {} ? or Esc closes ", g.separator), true);
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(lines).block(block).style(theme.text), area);
}
