//! Events and the audit log, newest first: what the engine did, and who
//! asked it to do what, with the engine's decision.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::format::{self, fit};
use super::theme::Theme;
use super::view::{Panel, ViewState};
use crate::engine::Snapshot;
use crate::engine::snapshot::EventView;
use crate::journal::AuditEntry;

pub fn render(frame: &mut Frame, area: Rect, s: &Snapshot, view: &ViewState, theme: &Theme) {
    let focused = view.focus == Some(Panel::Events);
    let g = theme.glyphs;
    let title = format!(" events {} audit ", g.separator);
    let block = theme.block(title, focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    let (events_area, audit_area) = if inner.width >= 100 {
        let [a, b] = Layout::horizontal([Constraint::Fill(3), Constraint::Fill(2)])
            .spacing(2)
            .areas(inner);
        (a, b)
    } else {
        let wanted = u16::try_from(s.audit.len() + 1).unwrap_or(u16::MAX);
        let audit = wanted.min(inner.height / 2);
        let [a, b] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(audit)]).areas(inner);
        (a, b)
    };
    render_events(frame, events_area, s, view, theme);
    render_audit(frame, audit_area, s, theme);
}

fn render_events(frame: &mut Frame, area: Rect, s: &Snapshot, view: &ViewState, theme: &Theme) {
    let mut events: Vec<&EventView> = s.events.iter().collect();
    events.sort_by(|a, b| b.at.cmp(&a.at));
    let mut lines = vec![Line::from(Span::styled("events", theme.heading))];
    if events.is_empty() {
        lines.push(Line::from(Span::styled("none yet", theme.muted)));
    }
    let skip = view.events.min(events.len().saturating_sub(1));
    for e in events.into_iter().skip(skip) {
        let subject = e.mailbox.as_deref().or(e.wave.as_deref()).unwrap_or("");
        let mut spans = vec![
            Span::styled(format!("{} ", format::journal_time(&e.at)), theme.muted),
            Span::styled(fit(&e.kind, 12), kind_style(&e.kind, theme)),
            Span::raw(" "),
        ];
        if !subject.is_empty() && !e.text.contains(subject) {
            spans.push(Span::styled(format!("{subject} "), theme.text));
        }
        spans.push(Span::styled(e.text.clone(), theme.text));
        lines.push(Line::from(spans));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

fn render_audit(frame: &mut Frame, area: Rect, s: &Snapshot, theme: &Theme) {
    let g = theme.glyphs;
    let mut entries: Vec<&AuditEntry> = s.audit.iter().collect();
    entries.sort_by(|a, b| b.at.cmp(&a.at));
    let mut lines = vec![Line::from(Span::styled("audit", theme.heading))];
    if entries.is_empty() {
        lines.push(Line::from(Span::styled("no commands yet", theme.muted)));
    }
    for a in entries {
        let accepted = a.decision == "accepted";
        let (mark, style) = if accepted {
            (g.ok, theme.ok)
        } else {
            (g.bad, theme.bad)
        };
        let mut spans = vec![
            Span::styled(format!("{} ", format::journal_time(&a.at)), theme.muted),
            Span::styled(format!("{} ({}) ", a.user, a.role), theme.text),
            Span::styled(a.action.clone(), theme.heading),
        ];
        if !a.arguments.is_empty() {
            spans.push(Span::styled(format!(" {}", a.arguments), theme.text));
        }
        spans.push(Span::styled(
            format!(" {} {mark} {}", g.arrow, a.decision),
            style,
        ));
        if let Some(reason) = a.reason.as_deref().filter(|r| !r.is_empty()) {
            spans.push(Span::styled(format!(": {reason}"), theme.muted));
        }
        lines.push(Line::from(spans));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

fn kind_style(kind: &str, theme: &Theme) -> Style {
    if kind.contains("fail") || kind.contains("error") || kind.contains("mismatch") {
        theme.bad
    } else if kind.contains("held")
        || kind.contains("halt")
        || kind.contains("gate")
        || kind.contains("roll")
    {
        theme.warn
    } else {
        theme.muted
    }
}
