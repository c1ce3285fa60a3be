//! The DNS TTL panel: each watched record's state in a word and a glyph, the
//! TTLs its nameservers answer, when the old value can no longer be cached,
//! and which nameservers still lag.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

use super::format;
use super::theme::Theme;
use super::view::{Panel, ViewState};
use crate::dns::{RecordState, RecordStatus};
use crate::engine::Snapshot;

/// The records the snapshot carries.
///
/// The snapshot's watched DNS records.
#[must_use]
pub fn records(s: &Snapshot) -> &[RecordStatus] {
    &s.dns
}

/// Records in the panel's order: what holds a wave first.
#[must_use]
pub fn ordered(records: &[RecordStatus]) -> Vec<&RecordStatus> {
    let mut rows: Vec<&RecordStatus> = records.iter().collect();
    rows.sort_by(|a, b| {
        a.state
            .blocking_rank()
            .cmp(&b.state.blocking_rank())
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.rtype.cmp(&b.rtype))
    });
    rows
}

pub fn render(
    frame: &mut Frame,
    area: Rect,
    records: &[RecordStatus],
    view: &ViewState,
    theme: &Theme,
) {
    let rows = ordered(records);
    let g = theme.glyphs;
    let waiting = rows.iter().filter(|r| !r.state.allows_cutover()).count();
    let mut title = vec![Span::raw(" dns ttl ")];
    if waiting > 0 {
        title.push(Span::styled(
            format!("{} {waiting} not ready ", g.separator),
            theme.warn,
        ));
    }
    let focused = view.focus == Some(Panel::Dns);
    let block = theme.block(Line::from(title), focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    if rows.is_empty() {
        let text = Span::styled("no DNS records configured", theme.muted);
        frame.render_widget(Paragraph::new(text), inner);
        return;
    }
    let longest = rows
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(6);
    // the highlight symbol, state, type, ttl, safe at and the spaces between
    let rest = usize::from(inner.width).saturating_sub(2 + 14 + 5 + 9 + 7 + 5);
    let with_wave = rest >= longest + 15 + 24;
    let rest = if with_wave { rest - 15 } else { rest };
    let with_why = rest >= longest + 1 + 20;
    let record = if with_why {
        Constraint::Length(u16::try_from(longest).unwrap_or(u16::MAX))
    } else {
        Constraint::Fill(1)
    };
    let mut widths = vec![Constraint::Length(14), record, Constraint::Length(5)];
    let mut heading = vec!["state", "record", "type"];
    if with_wave {
        widths.push(Constraint::Length(14));
        heading.push("wave");
    }
    widths.extend([Constraint::Length(9), Constraint::Length(7)]);
    heading.extend(["ttl", "safe at"]);
    if with_why {
        widths.push(Constraint::Fill(1));
        heading.push("why");
    }
    let body = rows.iter().map(|r| {
        let style = state_style(r.state, theme);
        let glyph = if g.ascii {
            r.state.ascii_glyph()
        } else {
            r.state.glyph()
        };
        let mut cells = vec![
            Cell::from(Span::styled(format!("{glyph} {}", r.state.as_str()), style)),
            Cell::from(r.name.clone()),
            Cell::from(Span::styled(r.rtype.clone(), theme.muted)),
        ];
        if with_wave {
            cells.push(Cell::from(Span::styled(
                r.wave.clone().unwrap_or_else(|| g.none.into()),
                theme.muted,
            )));
        }
        cells.push(Cell::from(ttls(r, theme)));
        cells.push(Cell::from(
            r.safe_at.map_or_else(|| g.none.to_string(), format::clock),
        ));
        if with_why {
            let why = if r.lagging.is_empty() {
                r.reason.clone()
            } else {
                format!("lagging: {}", r.lagging.join(", "))
            };
            cells.push(Cell::from(Span::styled(why, theme.muted)));
        }
        Row::new(cells)
    });
    let table = Table::new(body, widths)
        .header(Row::new(heading).style(theme.heading))
        .column_spacing(1)
        .row_highlight_style(if focused {
            theme.selected
        } else {
            Style::new()
        })
        .highlight_symbol(Line::from(format!("{} ", g.selected)));
    let mut state = TableState::default().with_selected(Some(view.dns.min(rows.len() - 1)));
    frame.render_stateful_widget(table, inner, &mut state);
}

/// The answered TTLs: one figure when they agree, else the range; failed
/// answers are counted.
fn ttls(r: &RecordStatus, theme: &Theme) -> String {
    let answered: Vec<u32> = r.answers.iter().filter_map(|a| a.ttl).collect();
    let failed = r.answers.iter().filter(|a| a.error.is_some()).count();
    let (Some(low), Some(high)) = (answered.iter().min(), answered.iter().max()) else {
        return if failed > 0 {
            format!("{failed} failed")
        } else {
            theme.glyphs.none.to_string()
        };
    };
    let mut text = if low == high {
        format!("{low}s")
    } else {
        format!("{low}-{high}s")
    };
    if failed > 0 {
        text = format!("{text} {}{failed}", theme.glyphs.bad);
    }
    text
}

fn state_style(state: RecordState, theme: &Theme) -> Style {
    match state {
        RecordState::Ready | RecordState::Done => theme.ok,
        RecordState::Lowering | RecordState::Switched | RecordState::Propagating => theme.info,
        RecordState::TtlHigh => theme.warn,
        RecordState::Unexpected | RecordState::Unreachable => theme.bad,
    }
}
