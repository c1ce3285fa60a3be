//! The mailbox table: every mailbox with its phase, progress, last error
//! and validation result, sorted by a chosen column and filtered by `/`.
//! Pause, skip and retry act on the selected row.

use std::cmp::Ordering;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

use super::format;
use super::phase::{mailbox_look, mailbox_rank};
use super::theme::Theme;
use super::view::{Panel, SortColumn, ViewState};
use crate::engine::Snapshot;
use crate::engine::snapshot::MailboxView;

/// The rows the table shows, in its order; selection indexes into this.
#[must_use]
pub fn visible<'a>(s: &'a Snapshot, view: &ViewState) -> Vec<&'a MailboxView> {
    let needle = view.filter.trim().to_lowercase();
    let mut rows: Vec<&MailboxView> = s.mailboxes.iter().filter(|m| matches(m, &needle)).collect();
    rows.sort_by(|a, b| {
        let order = compare(a, b, view.sort);
        let order = if view.descending {
            order.reverse()
        } else {
            order
        };
        order.then_with(|| a.source.cmp(&b.source))
    });
    rows
}

fn matches(m: &MailboxView, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    let category = m.error_category.map_or("", |c| c.as_str());
    [
        m.source.as_str(),
        &m.destination,
        &m.tenant,
        &m.wave,
        m.phase.as_str(),
        category,
    ]
    .iter()
    .any(|field| field.to_lowercase().contains(needle))
}

fn compare(a: &MailboxView, b: &MailboxView, column: SortColumn) -> Ordering {
    match column {
        SortColumn::Mailbox => a.source.cmp(&b.source),
        SortColumn::Wave => a.wave.cmp(&b.wave),
        SortColumn::Phase => mailbox_rank(a.phase).cmp(&mailbox_rank(b.phase)),
        SortColumn::Copied => b.copied.cmp(&a.copied),
        SortColumn::Errors => b
            .error_category
            .is_some()
            .cmp(&a.error_category.is_some())
            .then(a.error_category.cmp(&b.error_category)),
        SortColumn::Validation => validation_rank(a).cmp(&validation_rank(b)),
    }
}

/// Mismatches first: they are what must be looked at.
fn validation_rank(m: &MailboxView) -> u8 {
    match m.verified {
        Some(false) => 0,
        None => 1,
        Some(true) => 2,
    }
}

/// Wide tables show sizes beside counts and the error's text.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Detail {
    Narrow,
    Wide,
}

const PHASE: u16 = 15;
const ERROR: u16 = 17;
const RESULT: u16 = 12;
const COPIED: u16 = 8;

/// The columns that fit, in table order. The mailbox name gets its full
/// width first; the wave and the copied count are added while room is left,
/// and the error column takes the rest.
fn columns(rows: &[&MailboxView], width: u16) -> Vec<(SortColumn, Constraint)> {
    let longest = |f: &dyn Fn(&MailboxView) -> usize| {
        let n = rows.iter().map(|m| f(m)).max().unwrap_or(4).clamp(4, 40);
        u16::try_from(n).unwrap_or(40)
    };
    let mailbox = longest(&|m| m.source.chars().count());
    let wave = longest(&|m| m.wave.chars().count()).min(16);
    // the highlight symbol, then each column with one space after it
    let mut room = width.saturating_sub(2 + mailbox + 1 + PHASE + 1 + ERROR + 1 + RESULT);
    let mut take = |cells: u16| {
        let fits = room > cells;
        if fits {
            room -= cells + 1;
        }
        fits
    };
    let copied = if width >= 120 { 18 } else { COPIED };
    let with_wave = take(wave);
    let with_copied = take(copied);
    let mut columns = vec![(SortColumn::Mailbox, Constraint::Length(mailbox))];
    if with_wave {
        columns.push((SortColumn::Wave, Constraint::Length(wave)));
    }
    columns.push((SortColumn::Phase, Constraint::Length(PHASE)));
    if with_copied {
        columns.push((SortColumn::Copied, Constraint::Length(copied)));
    }
    columns.push((SortColumn::Errors, Constraint::Min(ERROR)));
    columns.push((SortColumn::Validation, Constraint::Length(RESULT)));
    columns
}

pub fn render(frame: &mut Frame, area: Rect, s: &Snapshot, view: &ViewState, theme: &Theme) {
    let rows = visible(s, view);
    let focused = view.focus == Some(Panel::Mailboxes);
    let block = theme.block(title(s, view, rows.len(), theme), focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    if rows.is_empty() {
        let text = if s.mailboxes.is_empty() {
            "the plan has no mailboxes".to_string()
        } else {
            format!("no mailbox matches {:?}", view.filter)
        };
        frame.render_widget(Paragraph::new(Span::styled(text, theme.muted)), inner);
        return;
    }
    let columns = columns(&rows, inner.width);
    let detail = if inner.width >= 120 {
        Detail::Wide
    } else {
        Detail::Narrow
    };

    let header =
        Row::new(columns.iter().map(|(c, _)| heading(*c, view, theme))).style(theme.heading);
    // Only the rows that fit are built: at thousands of mailboxes, building
    // every row each frame is what made a frame slow.
    let selected = view.mailbox.min(rows.len() - 1);
    let fits = usize::from(inner.height.saturating_sub(1)).max(1);
    let first = selected.saturating_sub(fits - 1);
    let body = rows
        .iter()
        .skip(first)
        .take(fits)
        .map(|m| Row::new(columns.iter().map(|(c, _)| cell(m, *c, detail, theme))));
    let highlight = if focused {
        theme.selected
    } else {
        Style::new()
    };
    let table = Table::new(body, columns.iter().map(|(_, w)| *w))
        .header(header)
        .column_spacing(1)
        .row_highlight_style(highlight)
        .highlight_symbol(Line::from(format!("{} ", theme.glyphs.selected)));
    let mut state = TableState::default().with_selected(Some(selected - first));
    frame.render_stateful_widget(table, inner, &mut state);
}

fn title<'a>(s: &Snapshot, view: &ViewState, shown: usize, theme: &Theme) -> Line<'a> {
    let g = theme.glyphs;
    let arrow = if view.descending {
        g.descending
    } else {
        g.ascending
    };
    let mut spans = vec![
        Span::raw(format!(" mailboxes {} ", g.separator)),
        Span::raw(format!("sort {} {arrow} ", view.sort.title())),
    ];
    if view.editing_filter {
        spans.push(Span::styled(
            format!("{} /{}{} ", g.separator, view.filter, g.caret),
            theme.badge,
        ));
    } else if !view.filter.is_empty() {
        spans.push(Span::styled(
            format!("{} filter {:?} ", g.separator, view.filter),
            theme.warn,
        ));
    }
    spans.push(Span::raw(format!(
        "{} {shown} of {} ",
        g.separator,
        s.mailboxes.len()
    )));
    Line::from(spans)
}

fn heading<'a>(column: SortColumn, view: &ViewState, theme: &Theme) -> Cell<'a> {
    let name = match column {
        SortColumn::Errors => "last error",
        other => other.title(),
    };
    if column == view.sort {
        let g = theme.glyphs;
        let arrow = if view.descending {
            g.descending
        } else {
            g.ascending
        };
        Cell::from(format!("{name}{arrow}"))
    } else {
        Cell::from(name)
    }
}

fn cell<'a>(m: &MailboxView, column: SortColumn, detail: Detail, theme: &Theme) -> Cell<'a> {
    let g = theme.glyphs;
    match column {
        SortColumn::Mailbox => Cell::from(m.source.clone()),
        SortColumn::Wave => Cell::from(Span::styled(m.wave.clone(), theme.muted)),
        SortColumn::Phase => {
            let (glyph, style) = mailbox_look(m.phase, theme);
            Cell::from(Span::styled(format!("{glyph} {}", m.phase.as_str()), style))
        }
        SortColumn::Copied => {
            let text = if detail == Detail::Wide {
                format!(
                    "{:>7} {:>9}",
                    format::count(m.copied),
                    format::bytes(m.bytes)
                )
            } else {
                format!("{:>7}", format::count(m.copied))
            };
            Cell::from(text)
        }
        SortColumn::Errors => match (m.error_category, &m.error_text) {
            (None, _) => Cell::from(Span::styled(g.none, theme.muted)),
            (Some(c), Some(text)) if detail == Detail::Wide => Cell::from(Line::from(vec![
                Span::styled(c.as_str(), theme.bad),
                Span::styled(format!(": {text}"), theme.muted),
            ])),
            (Some(c), _) => Cell::from(Span::styled(c.as_str(), theme.bad)),
        },
        SortColumn::Validation => {
            let (text, style) = match m.verified {
                Some(true) if m.cutover => (format!("{} cut over", g.ok), theme.ok),
                Some(true) => (format!("{} match", g.ok), theme.ok),
                Some(false) => (format!("{} MISMATCH", g.bad), theme.bad),
                None => (format!("{} pending", g.none), theme.muted),
            };
            Cell::from(Span::styled(text, style))
        }
    }
}
