//! Dialogs over the panels: the confirmation of a dangerous action, naming
//! exactly what it touches; the extend form; and leaving while waves run.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::format;
use super::text::centered;
use super::theme::Theme;
use super::view::{Dialog, ExtendField, ExtendForm};
use crate::engine::Snapshot;

const WIDTH: u16 = 64;

pub fn render(
    frame: &mut Frame,
    area: Rect,
    dialog: &Dialog,
    snapshot: Option<&Snapshot>,
    theme: &Theme,
) {
    let (title, lines) = match dialog {
        Dialog::Confirm { title, lines, .. } => {
            let mut body: Vec<Line> = lines
                .iter()
                .map(|l| Line::from(Span::styled(l.clone(), theme.text)))
                .collect();
            body.push(Line::raw(""));
            body.push(keys_line(&[("y", "confirm"), ("n/Esc", "cancel")], theme));
            (format!(" {title}? "), body)
        }
        Dialog::Extend(form) => (
            " extend the maintenance window ".into(),
            extend_lines(form, snapshot, theme),
        ),
        Dialog::Quit => (
            " quit? ".into(),
            vec![
                Line::from(Span::styled(
                    "Waves are still running. Leave the war room?",
                    theme.text,
                )),
                Line::raw(""),
                keys_line(&[("y", "quit"), ("n/Esc", "stay")], theme),
            ],
        ),
    };
    let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let area = centered(area, WIDTH, height);
    frame.render_widget(Clear, area);
    let block = theme.block(Span::styled(title, theme.warn), true);
    let body = Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(block)
        .style(theme.text);
    frame.render_widget(body, area);
}

fn extend_lines<'a>(
    form: &ExtendForm,
    snapshot: Option<&Snapshot>,
    theme: &Theme,
) -> Vec<Line<'a>> {
    let g = theme.glyphs;
    let mut lines = Vec::new();
    if let Some(w) = snapshot.and_then(|s| s.window.as_ref()) {
        lines.push(Line::from(Span::styled(
            format!("The window now ends {}.", format::day_clock(w.end)),
            theme.muted,
        )));
    }
    let field = |label: &str, value: &str, focused: bool| {
        let marker = if focused { g.selected } else { " " };
        let caret = if focused { g.caret } else { "" };
        let style = if focused { theme.selected } else { theme.text };
        Line::from(vec![
            Span::styled(format!("{marker} {label:<8}"), theme.heading),
            Span::styled(format!("[{value}{caret}]"), style),
        ])
    };
    lines.push(field(
        "minutes",
        &form.minutes,
        form.field == ExtendField::Minutes,
    ));
    lines.push(field(
        "reason",
        &form.reason,
        form.field == ExtendField::Reason,
    ));
    if let Some(problem) = &form.problem {
        lines.push(Line::from(Span::styled(
            format!("{} {problem}", g.warn),
            theme.bad,
        )));
    }
    lines.push(Line::raw(""));
    lines.push(keys_line(
        &[
            ("Tab", "next field"),
            ("Enter", "extend"),
            ("Esc", "cancel"),
        ],
        theme,
    ));
    lines
}

fn keys_line<'a>(keys: &[(&str, &str)], theme: &Theme) -> Line<'a> {
    let mut spans = Vec::new();
    for (i, (key, word)) in keys.iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw("   "));
        }
        spans.push(Span::styled((*key).to_string(), theme.title));
        spans.push(Span::styled(format!(" {word}"), theme.muted));
    }
    Line::from(spans)
}
