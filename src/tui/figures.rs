//! Large figures for the kiosk wall screen, readable across a room: share
//! of mailboxes done, time left in the window, errors, and the data's age.
//! Drawn with a 3x5 font of full cells, so they work in ASCII too.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::format;
use super::header::{data_age, is_stale};
use super::theme::Theme;
use crate::engine::{ConnectionState, Snapshot};

/// Rows the figures take: five for the digits, one for the label.
pub const HEIGHT: u16 = 6;

/// The 3x5 font; `#` marks a full cell.
fn font(c: char) -> [&'static str; 5] {
    match c {
        '0' => ["###", "# #", "# #", "# #", "###"],
        '1' => [" # ", "## ", " # ", " # ", "###"],
        '2' => ["###", "  #", "###", "#  ", "###"],
        '3' => ["###", "  #", "###", "  #", "###"],
        '4' => ["# #", "# #", "###", "  #", "  #"],
        '5' => ["###", "#  ", "###", "  #", "###"],
        '6' => ["###", "#  ", "###", "# #", "###"],
        '7' => ["###", "  #", "  #", "  #", "  #"],
        '8' => ["###", "# #", "###", "# #", "###"],
        '9' => ["###", "# #", "###", "  #", "###"],
        '%' => ["# #", "  #", " # ", "#  ", "# #"],
        ':' => ["   ", " # ", "   ", " # ", "   "],
        '<' => ["  #", " # ", "#  ", " # ", "  #"],
        '+' => ["   ", " # ", "###", " # ", "   "],
        '-' => ["   ", "   ", "###", "   ", "   "],
        _ => ["   ", "   ", "   ", "   ", "   "],
    }
}

/// `text` in the large font, one string per row.
#[must_use]
pub fn big(text: &str, cell: &str) -> [String; 5] {
    let mut rows: [String; 5] = Default::default();
    for (i, c) in text.chars().enumerate() {
        for (row, pattern) in rows.iter_mut().zip(font(c)) {
            if i > 0 {
                row.push(' ');
            }
            for dot in pattern.chars() {
                row.push_str(if dot == '#' { cell } else { " " });
            }
        }
    }
    rows
}

struct Figure {
    value: String,
    label: String,
    style: Style,
}

pub fn render(
    frame: &mut Frame,
    area: Rect,
    s: &Snapshot,
    connection: &ConnectionState,
    now: DateTime<Utc>,
    theme: &Theme,
) {
    let figures = [
        done(s, theme),
        window(s, theme),
        errors(s, theme),
        age(s, connection, now, theme),
    ];
    let areas = Layout::horizontal([Constraint::Fill(1); 4]).split(area);
    for (figure, area) in figures.iter().zip(areas.iter()) {
        let mut lines: Vec<Line> = big(&figure.value, theme.glyphs.big)
            .into_iter()
            .map(|row| Line::from(Span::styled(row, figure.style)))
            .collect();
        lines.push(Line::from(Span::styled(
            figure.label.clone(),
            theme.heading,
        )));
        frame.render_widget(Paragraph::new(lines).alignment(Alignment::Center), *area);
    }
}

fn done(s: &Snapshot, theme: &Theme) -> Figure {
    let done: u32 = s.waves.iter().map(|w| w.done).sum();
    let total: u32 = s.waves.iter().map(|w| w.mailboxes).sum();
    let percent = format::percent(format::ratio(u64::from(done), u64::from(total)));
    Figure {
        value: format!("{percent}%"),
        label: format!("done ({done}/{total})"),
        style: theme.ok,
    }
}

fn window(s: &Snapshot, theme: &Theme) -> Figure {
    let Some(w) = &s.window else {
        return Figure {
            value: "--:--".into(),
            label: "no window".into(),
            style: theme.muted,
        };
    };
    let left = (w.end - s.taken_at).num_minutes();
    let hm = |m: i64| format!("{}:{:02}", m.abs() / 60, m.abs() % 60);
    if left >= 0 {
        let style = if left < 30 { theme.warn } else { theme.text };
        Figure {
            value: hm(left),
            label: format!("left, ends {}", format::clock(w.end)),
            style,
        }
    } else {
        Figure {
            value: format!("-{}", hm(left)),
            label: format!("{} OVER the window", theme.glyphs.bad),
            style: theme.bad,
        }
    }
}

fn errors(s: &Snapshot, theme: &Theme) -> Figure {
    let total: u64 = s.errors.iter().map(|e| e.count).sum();
    let style = if total > 0 { theme.bad } else { theme.ok };
    let value = if total > 9999 {
        "9999+".into()
    } else {
        total.to_string()
    };
    Figure {
        value,
        label: "errors".into(),
        style,
    }
}

fn age(s: &Snapshot, connection: &ConnectionState, now: DateTime<Utc>, theme: &Theme) -> Figure {
    let secs = data_age(Some(s), now).unwrap_or(0);
    let value = match secs {
        0..2 => "<2".to_string(),
        2..1000 => secs.to_string(),
        _ => "999+".to_string(),
    };
    if is_stale(Some(s), connection, now) {
        Figure {
            value,
            label: format!("{} STALE (seconds)", theme.glyphs.warn),
            style: theme.bad,
        }
    } else {
        Figure {
            value,
            label: "seconds since data".into(),
            style: theme.ok,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_text_is_three_cells_a_character() {
        let rows = big("73%", "#");
        assert!(rows.iter().all(|r| r.chars().count() == 11));
        assert_eq!(rows[0], "### ### # #");
    }
}
