//! The error panel: counts and the recent rate per category, and for the
//! selected category the latest examples with the server's own words, which
//! are what an operator searches for.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::format::{self, fit, fit_right};
use super::theme::Theme;
use super::view::{Panel, ViewState};
use crate::engine::Snapshot;
use crate::engine::snapshot::ErrorCount;
use crate::telemetry::{Category, ErrorExample};

/// Categories with errors, most frequent first: the order of the panel and
/// of its selection.
#[must_use]
pub fn ordered(s: &Snapshot) -> Vec<&ErrorCount> {
    let mut rows: Vec<&ErrorCount> = s.errors.iter().filter(|e| e.count > 0).collect();
    rows.sort_by(|a, b| b.count.cmp(&a.count).then(a.category.cmp(&b.category)));
    rows
}

/// Examples of one category, newest first.
#[must_use]
pub fn examples(s: &Snapshot, category: Category) -> Vec<&ErrorExample> {
    let mut rows: Vec<&ErrorExample> = s
        .error_examples
        .iter()
        .filter(|e| e.category == category)
        .collect();
    rows.sort_by_key(|e| std::cmp::Reverse(e.at));
    rows
}

/// Side by side from this inner width; above it, stacked.
const SIDE_BY_SIDE: u16 = 100;
const CATEGORY_WIDTH: usize = 17;

pub fn render(frame: &mut Frame, area: Rect, s: &Snapshot, view: &ViewState, theme: &Theme) {
    let rows = ordered(s);
    let total: u64 = rows.iter().map(|e| e.count).sum();
    let g = theme.glyphs;
    let title = Line::from(format!(
        " errors {} {} total ",
        g.separator,
        format::count(total)
    ));
    let focused = view.focus == Some(Panel::Errors);
    let block = theme.block(title, focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    if rows.is_empty() {
        let none = Line::from(Span::styled(format!("{} no errors so far", g.ok), theme.ok));
        frame.render_widget(Paragraph::new(none), inner);
        return;
    }
    let selected = view.error.min(rows.len() - 1);
    let counts_height = u16::try_from(rows.len() + 1).unwrap_or(u16::MAX);
    let (counts_area, examples_area) = if inner.width >= SIDE_BY_SIDE {
        let [a, b] = Layout::horizontal([Constraint::Length(38), Constraint::Fill(1)])
            .spacing(1)
            .areas(inner);
        (a, b)
    } else {
        // Examples need a heading and two lines to be worth their room:
        // the counts take what that leaves (at least half), and below
        // that all of it.
        let height = counts_height
            .min(inner.height.saturating_sub(3).max(inner.height / 2))
            .max(2);
        let height = if inner.height - height < 3 {
            inner.height
        } else {
            height
        };
        let [a, b] =
            Layout::vertical([Constraint::Length(height), Constraint::Fill(1)]).areas(inner);
        (a, b)
    };
    render_counts(frame, counts_area, s, &rows, selected, focused, view, theme);
    render_examples(frame, examples_area, s, rows[selected].category, theme);
}

#[expect(
    clippy::too_many_arguments,
    reason = "one call site; a struct would only rename them"
)]
fn render_counts(
    frame: &mut Frame,
    area: Rect,
    s: &Snapshot,
    rows: &[&ErrorCount],
    selected: usize,
    focused: bool,
    view: &ViewState,
    theme: &Theme,
) {
    let g = theme.glyphs;
    let heading = format!(
        "  {} {} {}",
        fit("category", CATEGORY_WIDTH),
        fit_right("count", 6),
        fit_right("per min", 8)
    );
    let mut lines = vec![Line::from(Span::styled(heading, theme.heading))];
    for (i, row) in rows.iter().enumerate() {
        let marker = if i == selected && view.focus.is_some() {
            format!("{} ", g.selected)
        } else {
            "  ".into()
        };
        let rate = rate(s, view, row).map_or_else(|| g.none.to_string(), per_minute);
        let style = if row.category.is_transient() {
            theme.warn
        } else {
            theme.bad
        };
        let mut line = Line::from(vec![
            Span::styled(marker, theme.title),
            Span::styled(fit(row.category.as_str(), CATEGORY_WIDTH), style),
            Span::raw(" "),
            Span::styled(fit_right(&format::count(row.count), 6), theme.text),
            Span::raw(" "),
            Span::styled(fit_right(&rate, 8), theme.text),
        ]);
        if i == selected && focused {
            line = line.style(theme.selected);
        }
        lines.push(line);
    }
    let visible = usize::from(area.height);
    let scroll = u16::try_from((selected + 2).saturating_sub(visible)).unwrap_or(0);
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), area);
}

/// Errors a minute: over the last minute when the view has seen enough
/// snapshots, else averaged since the window opened.
fn rate(s: &Snapshot, view: &ViewState, row: &ErrorCount) -> Option<f64> {
    if let Some(recent) = view.history.recent_rate(row.category) {
        return Some(recent);
    }
    let start = s.window.as_ref()?.start;
    let minutes = (s.taken_at - start).num_seconds() / 60;
    #[expect(
        clippy::cast_precision_loss,
        reason = "error counts and minutes are small"
    )]
    let rate = (minutes > 0).then(|| row.count as f64 / minutes as f64);
    rate
}

/// Rates without false precision, and never a rounded-away `0.0` for
/// errors that did happen.
fn per_minute(rate: f64) -> String {
    if rate >= 10.0 {
        format!("{rate:.0}")
    } else if rate >= 0.1 {
        format!("{rate:.1}")
    } else if rate > 0.0 {
        "<0.1".into()
    } else {
        "0".into()
    }
}

fn render_examples(frame: &mut Frame, area: Rect, s: &Snapshot, category: Category, theme: &Theme) {
    let examples = examples(s, category);
    let mut lines = vec![Line::from(Span::styled(
        format!("latest {category}"),
        theme.heading,
    ))];
    if examples.is_empty() {
        lines.push(Line::from(Span::styled("no examples kept", theme.muted)));
    }
    let two_lines = area.height > 2 * u16::try_from(examples.len()).unwrap_or(u16::MAX);
    for e in examples {
        let when = Span::styled(format!("{} ", format::clock(e.at)), theme.muted);
        let who = Span::styled(e.mailbox.clone(), theme.text);
        let server = Span::styled(format!(" @ {}", e.server), theme.muted);
        let said = Span::styled(e.text.clone(), theme.warn);
        if two_lines {
            lines.push(Line::from(vec![when, who, server]));
            lines.push(Line::from(vec![Span::raw("  "), said]));
        } else {
            lines.push(Line::from(vec![when, who, Span::raw(": "), said]));
        }
    }
    frame.render_widget(Paragraph::new(lines), area);
}
