//! The header: which plan, what the engine is doing, who is watching with
//! which role, the maintenance window against the clock, the telemetry
//! outputs' health, and how fresh the data is. Stale data says so in words,
//! never only by colour.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::format;
use super::outputs;
use super::text::{Piece, fit};
use super::theme::Theme;
use super::{Chrome, TuiOptions};
use crate::engine::snapshot::WindowView;
use crate::engine::{ConnectionState, EngineState, Snapshot};

/// Data older than this is shown as stale.
pub const STALE_AFTER_SECS: i64 = 5;

/// Rows the header takes: two, one for telemetry health when the engine
/// reports outputs, and a banner for the data age in kiosk mode.
#[must_use]
pub fn height(opts: &TuiOptions, snapshot: Option<&Snapshot>) -> u16 {
    2 + u16::from(has_outputs(snapshot)) + u16::from(opts.kiosk)
}

fn has_outputs(snapshot: Option<&Snapshot>) -> bool {
    snapshot.is_some_and(|s| !s.outputs.is_empty())
}

/// Whole seconds since the snapshot was taken.
#[must_use]
pub fn data_age(snapshot: Option<&Snapshot>, now: DateTime<Utc>) -> Option<i64> {
    snapshot.map(|s| (now - s.taken_at).num_seconds().max(0))
}

/// Whether snapshots are arriving: the engine is here or attached.
#[must_use]
pub fn is_live(connection: &ConnectionState) -> bool {
    matches!(
        connection,
        ConnectionState::Embedded | ConnectionState::Connected
    )
}

/// Whether the screen may be showing the past.
#[must_use]
pub fn is_stale(
    snapshot: Option<&Snapshot>,
    connection: &ConnectionState,
    now: DateTime<Utc>,
) -> bool {
    !is_live(connection) || data_age(snapshot, now).is_none_or(|age| age > STALE_AFTER_SECS)
}

/// `<2s` while data is flowing, else the age; a snapshot every half
/// second must not redraw the header twice a second.
#[must_use]
pub fn age_text(age: Option<i64>) -> String {
    match age {
        None => "no data yet".into(),
        Some(a) if a < 2 => "<2s".into(),
        Some(a) => format::age(a),
    }
}

pub fn render(
    frame: &mut Frame,
    area: Rect,
    snapshot: Option<&Snapshot>,
    chrome: &Chrome,
    theme: &Theme,
) {
    let row = |n: u16| Rect {
        y: area.y + n,
        height: u16::from(area.height > n),
        ..area
    };
    let telemetry_rows = u16::from(has_outputs(snapshot));
    let (top, window, banner) = (row(0), row(1), row(2 + telemetry_rows));
    render_status_line(frame, top, snapshot, chrome, theme);
    if let Some(line) = snapshot.and_then(|s| outputs::line(s, theme, usize::from(area.width))) {
        frame.render_widget(Paragraph::new(line), row(2));
    }
    let line = match snapshot {
        Some(s) => window_line(s, theme, usize::from(window.width)),
        None => Line::from(Span::styled(
            "waiting for the first snapshot from the engine",
            theme.muted,
        )),
    };
    frame.render_widget(Paragraph::new(line), window);
    if chrome.opts.kiosk {
        render_age_banner(frame, banner, snapshot, chrome, theme);
    }
}

fn render_status_line(
    frame: &mut Frame,
    area: Rect,
    snapshot: Option<&Snapshot>,
    chrome: &Chrome,
    theme: &Theme,
) {
    let g = theme.glyphs;
    // In kiosk mode the banner below shows the freshness across the width.
    let right = if chrome.opts.kiosk {
        Line::default()
    } else {
        freshness(snapshot, chrome, theme)
    };
    let right_width = u16::try_from(right.width())
        .unwrap_or(u16::MAX)
        .min(area.width);
    let [left_area, right_area] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(right_width)]).areas(area);

    let opts = chrome.opts;
    let plan = snapshot.map_or(opts.plan_name.as_str(), |s| s.plan.as_str());
    let mut pieces = vec![
        Piece::new(3, vec![Span::styled("cutover", theme.title)]),
        Piece::new(0, vec![Span::styled(plan.to_string(), theme.heading)]),
    ];
    if let Some(s) = snapshot {
        pieces.push(Piece::new(0, engine_state(s, theme)));
    }
    pieces.push(Piece::new(
        1,
        vec![Span::styled(
            format!("{} ({})", opts.user, opts.role),
            theme.text,
        )],
    ));
    if opts.kiosk {
        pieces.push(Piece::new(0, vec![Span::styled(" KIOSK ", theme.badge)]));
    } else if opts.read_only {
        pieces.push(Piece::new(
            0,
            vec![Span::styled(" READ-ONLY ", theme.badge)],
        ));
    }
    let separator = Span::styled(format!(" {} ", g.separator), theme.muted);
    let width = usize::from(left_area.width);
    frame.render_widget(Paragraph::new(fit(pieces, &separator, width)), left_area);
    frame.render_widget(
        Paragraph::new(right).alignment(Alignment::Right),
        right_area,
    );
}

fn engine_state<'a>(s: &Snapshot, theme: &Theme) -> Vec<Span<'a>> {
    let g = theme.glyphs;
    if s.halted || s.state == EngineState::Halted {
        return vec![Span::styled(format!(" {} HALTED ", g.halted), theme.badge)];
    }
    let (glyph, style) = match s.state {
        EngineState::Starting => (g.waiting, theme.muted),
        EngineState::Running | EngineState::Halted => (g.active, theme.info),
        EngineState::Finished => (g.done, theme.ok),
    };
    vec![Span::styled(format!("{glyph} {}", s.state.as_str()), style)]
}

/// Connection and data age, right-aligned: `● embedded · data <2s`, or a
/// STALE badge.
fn freshness<'a>(snapshot: Option<&Snapshot>, chrome: &Chrome, theme: &Theme) -> Line<'a> {
    let g = theme.glyphs;
    let age = age_text(data_age(snapshot, chrome.now));
    let (connection, style) = connection_text(chrome.connection, theme);
    let mut spans = vec![
        Span::raw(" "),
        Span::styled(connection, style),
        Span::styled(format!(" {} ", g.separator), theme.muted),
    ];
    if is_stale(snapshot, chrome.connection, chrome.now) {
        let badge = if snapshot.is_some() {
            format!(" STALE {age} ")
        } else {
            " NO DATA YET ".into()
        };
        spans.push(Span::styled(badge, theme.stale));
    } else {
        spans.push(Span::styled(format!("data {age}"), theme.text));
    }
    spans.push(Span::raw(" "));
    Line::from(spans)
}

fn connection_text(connection: &ConnectionState, theme: &Theme) -> (String, Style) {
    let g = theme.glyphs;
    match connection {
        ConnectionState::Embedded => (format!("{} embedded", g.live), theme.ok),
        ConnectionState::Connected => (format!("{} connected", g.live), theme.ok),
        ConnectionState::Reconnecting {
            next_try_secs,
            attempt,
        } => (
            format!(
                "{} reconnecting in {} (try {attempt})",
                g.warn,
                format::duration(i64::try_from(*next_try_secs).unwrap_or(i64::MAX))
            ),
            theme.warn,
        ),
        ConnectionState::Gone { reason } => (format!("{} gone: {reason}", g.bad), theme.bad),
    }
}

/// The maintenance window: range in UTC, extensions, countdown, forecast.
fn window_line<'a>(s: &Snapshot, theme: &Theme, width: usize) -> Line<'a> {
    let Some(w) = &s.window else {
        return Line::from(Span::styled(
            "no maintenance window in the plan",
            theme.muted,
        ));
    };
    let g = theme.glyphs;
    // The end's date only when it is not the day after the start: the
    // countdown already says how far away it is.
    let end = if (w.end - w.start).num_hours() < 24 {
        format::clock(w.end)
    } else {
        format::day_clock(w.end)
    };
    let mut range = vec![
        Span::styled("window ", theme.muted),
        Span::styled(
            format!("{} {} {end}", format::day_clock(w.start), g.arrow),
            theme.text,
        ),
    ];
    let extended: u32 = w.extensions.iter().map(|e| e.minutes).sum();
    if extended > 0 {
        range.push(Span::styled(format!(" (+{extended}m)"), theme.warn));
    }
    let mut pieces = vec![Piece::new(0, range)];
    pieces.push(Piece::new(1, countdown(w, s.taken_at, theme)));
    if let Some(forecast) = w.forecast_end {
        pieces.push(Piece::new(2, forecast_spans(w, forecast, theme)));
    }
    if let Some(last) = w.extensions.last() {
        let count = w.extensions.len();
        let noun = if count == 1 {
            "extension"
        } else {
            "extensions"
        };
        pieces.push(Piece::new(
            3,
            vec![Span::styled(
                format!("{count} {noun}, last by {}: {:?}", last.user, last.reason),
                theme.muted,
            )],
        ));
    }
    let separator = Span::styled(format!(" {} ", g.separator), theme.muted);
    fit(pieces, &separator, width)
}

/// Time to the window's end as of the snapshot, so a frozen snapshot
/// shows a frozen clock next to its STALE badge.
fn countdown<'a>(w: &WindowView, at: DateTime<Utc>, theme: &Theme) -> Vec<Span<'a>> {
    let g = theme.glyphs;
    if at < w.start {
        let secs = (w.start - at).num_seconds();
        return vec![Span::styled(
            format!("starts in {}", format::duration(secs)),
            theme.muted,
        )];
    }
    let left = (w.end - at).num_seconds();
    if left >= 0 {
        let style = if left < 30 * 60 {
            theme.warn
        } else {
            theme.text
        };
        vec![Span::styled(
            format!("{} left", format::duration(left)),
            style,
        )]
    } else {
        vec![Span::styled(
            format!("{} window OVER by {}", g.bad, format::duration(-left)),
            theme.bad,
        )]
    }
}

fn forecast_spans<'a>(w: &WindowView, forecast: DateTime<Utc>, theme: &Theme) -> Vec<Span<'a>> {
    let g = theme.glyphs;
    let when = format::clock(forecast);
    if forecast <= w.end {
        vec![
            Span::styled(format!("forecast {when} "), theme.muted),
            Span::styled(format!("{} fits", g.ok), theme.ok),
        ]
    } else {
        let late = format::duration((forecast - w.end).num_seconds());
        vec![
            Span::styled(format!("forecast {when} "), theme.muted),
            Span::styled(format!("{} {late} late", g.bad), theme.bad),
        ]
    }
}

/// Kiosk: the data age across the whole width, so the room sees at once
/// whether the wall shows the present.
fn render_age_banner(
    frame: &mut Frame,
    area: Rect,
    snapshot: Option<&Snapshot>,
    chrome: &Chrome,
    theme: &Theme,
) {
    let g = theme.glyphs;
    let age = age_text(data_age(snapshot, chrome.now));
    let (connection, _) = connection_text(chrome.connection, theme);
    let (text, style) = if is_stale(snapshot, chrome.connection, chrome.now) {
        (
            format!(
                "{} STALE: last data {age} ago {} {connection}",
                g.warn, g.separator
            ),
            theme.stale,
        )
    } else {
        (
            format!(
                "{} LIVE: data {age} old {} {connection}",
                g.live, g.separator
            ),
            theme.ok.add_modifier(Modifier::REVERSED | Modifier::BOLD),
        )
    };
    let banner = Paragraph::new(text)
        .alignment(Alignment::Center)
        .style(style);
    frame.render_widget(banner, area);
}
