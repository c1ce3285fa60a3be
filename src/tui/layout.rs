//! Where the panels go, and the one pure entry point that draws a frame.
//!
//! Three arrangements: compact (down to 60x16: header, waves with their
//! gate reasons, one detail panel that follows the focus, footer), full
//! (from 120x34: every panel at once, the runbook under the waves), and
//! kiosk (large figures, every panel that fits, nothing that needs a key).

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::theme::Theme;
use super::view::{Dialog, Overlay, Panel, ViewState};
use super::{
    Chrome, TuiOptions, dialog, dns, errors, events, figures, footer, header, help, latency,
    mailboxes, runbook, waves,
};
use crate::engine::{ConnectionState, Snapshot};

/// Below this the war room draws only a message asking for more room.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;
/// From this size every panel is shown at once.
const FULL_WIDTH: u16 = 120;
const FULL_HEIGHT: u16 = 34;
/// The detail panel never gets fewer rows than this in the compact layout.
const DETAIL_MIN: u16 = 6;
/// The full layout keeps this many rows for the mailboxes and latency.
const MIDDLE_MIN: u16 = 10;
/// The runbook's least height under the waves: borders, heading, one step.
const RUNBOOK_MIN: u16 = 4;

/// Draws one frame. Pure: the same snapshot, view, options, connection and
/// clock always draw the same cells, which is what the tests and the
/// redraw-only-on-change loop rely on.
pub fn render_frame(
    frame: &mut Frame,
    snapshot: Option<&Snapshot>,
    view: &ViewState,
    opts: &TuiOptions,
    connection: &ConnectionState,
    now: DateTime<Utc>,
) {
    let theme = opts.theme.for_glyphs(opts.ascii);
    let theme = theme.as_ref();
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        too_small(frame, area, theme);
        return;
    }
    frame.render_widget(Block::new().style(theme.text), area);

    let access = opts.access();
    let chrome = Chrome {
        opts,
        connection,
        now,
    };
    let [top, body, bottom] = Layout::vertical([
        Constraint::Length(header::height(opts, snapshot)),
        Constraint::Fill(1),
        Constraint::Length(footer::height(access)),
    ])
    .areas(area);
    header::render(frame, top, snapshot, &chrome, theme);
    footer::render(frame, bottom, view, access, theme);
    match snapshot {
        None => waiting(frame, body, theme),
        Some(s) if opts.kiosk => kiosk(frame, body, s, view, &chrome, theme),
        Some(s) if area.width >= FULL_WIDTH && area.height >= FULL_HEIGHT => {
            full(frame, body, s, view, theme);
        }
        Some(s) => compact(frame, body, s, view, theme),
    }

    if access.kiosk {
        return;
    }
    match &view.overlay {
        Some(Overlay::Help) => help::render(frame, body, access, theme),
        Some(Overlay::Dialog(d @ Dialog::Quit)) => dialog::render(frame, body, d, snapshot, theme),
        Some(Overlay::Dialog(d)) if !access.read_only => {
            dialog::render(frame, body, d, snapshot, theme);
        }
        _ => {}
    }
}

fn too_small(frame: &mut Frame, area: Rect, theme: &Theme) {
    let g = theme.glyphs;
    let text = format!(
        "terminal too small: need at least {MIN_WIDTH}{x}{MIN_HEIGHT}, have {}{x}{}",
        area.width,
        area.height,
        x = g.times
    );
    let message = Paragraph::new(Span::styled(text, theme.warn)).wrap(Wrap { trim: true });
    frame.render_widget(message, area);
}

fn waiting(frame: &mut Frame, area: Rect, theme: &Theme) {
    let [_, middle, _] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Fill(1),
    ])
    .areas(area);
    let text = Span::styled("waiting for the engine's first snapshot", theme.muted);
    frame.render_widget(Paragraph::new(text).alignment(Alignment::Center), middle);
}

/// Waves on top (they carry the gate reasons), then the focused panel, or
/// the errors while the waves have the focus.
fn compact(frame: &mut Frame, area: Rect, s: &Snapshot, view: &ViewState, theme: &Theme) {
    let waves_height = waves::wanted_height(s).min(area.height.saturating_sub(DETAIL_MIN));
    let [top, detail] =
        Layout::vertical([Constraint::Length(waves_height), Constraint::Fill(1)]).areas(area);
    waves::render(frame, top, s, view, theme);
    let shown = match view.focus {
        None | Some(Panel::Waves) => Panel::Errors,
        Some(other) => other,
    };
    render_panel(frame, detail, shown, s, view, theme);
}

fn full(frame: &mut Frame, area: Rect, s: &Snapshot, view: &ViewState, theme: &Theme) {
    let bottom_height = (area.height / 4).clamp(8, 14);
    let waves_height = waves::wanted_height(s);
    let top_height = (waves_height + runbook::wanted_height(s))
        .max(12)
        .min(area.height / 2)
        .min(area.height.saturating_sub(bottom_height + MIDDLE_MIN));
    let [top, middle, bottom] = Layout::vertical([
        Constraint::Length(top_height),
        Constraint::Fill(1),
        Constraint::Length(bottom_height),
    ])
    .areas(area);
    let split = |row: Rect| -> [Rect; 2] {
        Layout::horizontal([Constraint::Fill(3), Constraint::Fill(2)]).areas(row)
    };
    let [people_area, errors_area] = split(top);
    let waves_height = waves_height.min(top_height.saturating_sub(RUNBOOK_MIN));
    let [waves_area, runbook_area] =
        Layout::vertical([Constraint::Length(waves_height), Constraint::Fill(1)])
            .areas(people_area);
    let [mailboxes_area, latency_area] = split(middle);
    let [events_area, dns_area] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(bottom);
    waves::render(frame, waves_area, s, view, theme);
    runbook::render(frame, runbook_area, s, view, theme);
    errors::render(frame, errors_area, s, view, theme);
    mailboxes::render(frame, mailboxes_area, s, view, theme);
    latency::render(frame, latency_area, s, view, theme);
    events::render(frame, events_area, s, view, theme);
    dns::render(frame, dns_area, dns::records(s), view, theme);
}

/// The wall screen: large figures, waves (with the runbook beside them
/// when wide enough), then as many panels as fit; the mailbox table is
/// left out (no one can scroll it).
fn kiosk(
    frame: &mut Frame,
    area: Rect,
    s: &Snapshot,
    view: &ViewState,
    chrome: &Chrome,
    theme: &Theme,
) {
    let figures_height = if area.height >= 18 {
        figures::HEIGHT
    } else {
        0
    };
    let wide = area.width >= FULL_WIDTH;
    let people_height = if wide {
        waves::wanted_height(s).max(runbook::wanted_height(s))
    } else {
        waves::wanted_height(s)
    };
    let waves_height = people_height.min(area.height.saturating_sub(figures_height + DETAIL_MIN));
    let [figures_area, waves_area, rest] = Layout::vertical([
        Constraint::Length(figures_height),
        Constraint::Length(waves_height),
        Constraint::Fill(1),
    ])
    .areas(area);
    if figures_height > 0 {
        figures::render(frame, figures_area, s, chrome.connection, chrome.now, theme);
    }
    if wide {
        let [waves_area, runbook_area] =
            Layout::horizontal([Constraint::Fill(3), Constraint::Fill(2)]).areas(waves_area);
        waves::render(frame, waves_area, s, view, theme);
        runbook::render(frame, runbook_area, s, view, theme);
    } else {
        waves::render(frame, waves_area, s, view, theme);
    }
    if rest.width < FULL_WIDTH {
        errors::render(frame, rest, s, view, theme);
        return;
    }
    let rows = if rest.height >= 20 { 2 } else { 1 };
    let row_areas = Layout::vertical(vec![Constraint::Fill(1); rows]).split(rest);
    let [errors_area, latency_area] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(row_areas[0]);
    errors::render(frame, errors_area, s, view, theme);
    latency::render(frame, latency_area, s, view, theme);
    if rows == 2 {
        let [events_area, dns_area] =
            Layout::horizontal([Constraint::Fill(3), Constraint::Fill(2)]).areas(row_areas[1]);
        events::render(frame, events_area, s, view, theme);
        dns::render(frame, dns_area, dns::records(s), view, theme);
    }
}

fn render_panel(
    frame: &mut Frame,
    area: Rect,
    panel: Panel,
    s: &Snapshot,
    view: &ViewState,
    theme: &Theme,
) {
    match panel {
        Panel::Waves => waves::render(frame, area, s, view, theme),
        Panel::Errors => errors::render(frame, area, s, view, theme),
        Panel::Mailboxes => mailboxes::render(frame, area, s, view, theme),
        Panel::Latency => latency::render(frame, area, s, view, theme),
        Panel::Dns => dns::render(frame, area, dns::records(s), view, theme),
        Panel::Events => events::render(frame, area, s, view, theme),
        Panel::Runbook => runbook::render(frame, area, s, view, theme),
    }
}
