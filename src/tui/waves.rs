//! The waves panel: one row per wave with its phase in words and a glyph,
//! a gauge, mailboxes done/verified/failed, the ETA against the window, the
//! owner, and under a held, halted or failed wave the reason, in the gate's
//! own words and figures.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::format::{self, fit, fit_right};
use super::phase::WaveStatus;
use super::theme::Theme;
use super::view::{Panel, ViewState};
use crate::engine::Snapshot;
use crate::engine::snapshot::WaveView;

/// Rows the panel needs to show every wave and reason: borders, the
/// column heading, a row per wave, a line per reason.
#[must_use]
pub fn wanted_height(s: &Snapshot) -> u16 {
    let reasons = s.waves.iter().filter(|w| reason(s, w).is_some()).count();
    u16::try_from(3 + s.waves.len().max(1) + reasons).unwrap_or(u16::MAX)
}

pub fn render(frame: &mut Frame, area: Rect, s: &Snapshot, view: &ViewState, theme: &Theme) {
    let focused = view.focus == Some(Panel::Waves);
    let block = theme.block(title(s, theme), focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    if s.waves.is_empty() {
        frame.render_widget(
            Paragraph::new(Span::styled("the plan has no waves", theme.muted)),
            inner,
        );
        return;
    }

    let columns = Columns::fit(s, theme, usize::from(inner.width));
    let mut lines = vec![columns.heading(theme)];
    let mut selected_line = 0;
    for (i, wave) in s.waves.iter().enumerate() {
        let selected = view.focus.is_some() && i == view.wave.min(s.waves.len() - 1);
        if selected {
            selected_line = lines.len();
        }
        let mut row = columns.row(s, wave, selected, theme);
        if selected && focused {
            row = row.style(theme.selected);
        }
        lines.push(row);
        if let Some(why) = reason(s, wave) {
            let status = WaveStatus::of(&wave.phase);
            let style = if status == WaveStatus::Failed {
                theme.bad
            } else {
                theme.warn
            };
            lines.push(Line::from(vec![
                Span::raw("   "),
                Span::styled(format!("{} ", theme.glyphs.branch), theme.muted),
                Span::styled(why, style),
            ]));
        }
    }
    let visible = usize::from(inner.height);
    let scroll = (selected_line + 2).saturating_sub(visible);
    let scroll = u16::try_from(scroll).unwrap_or(0);
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), inner);
}

fn title<'a>(s: &Snapshot, theme: &Theme) -> Line<'a> {
    let g = theme.glyphs;
    let waiting = s
        .waves
        .iter()
        .filter(|w| {
            matches!(
                WaveStatus::of(&w.phase),
                WaveStatus::Held | WaveStatus::Halted
            )
        })
        .count();
    let done: u32 = s.waves.iter().map(|w| w.done).sum();
    let total: u32 = s.waves.iter().map(|w| w.mailboxes).sum();
    let mut spans = vec![
        Span::raw(" waves "),
        Span::raw(format!("{} {done}/{total} mailboxes done ", g.separator)),
    ];
    if waiting > 0 {
        spans.push(Span::styled(
            format!("{} {} {waiting} held ", g.separator, g.held),
            theme.warn,
        ));
    }
    Line::from(spans)
}

/// Why a wave waits: its own reason when held, halted or failed, else the
/// first closed gate that names it.
fn reason(s: &Snapshot, wave: &WaveView) -> Option<String> {
    let status = WaveStatus::of(&wave.phase);
    if !matches!(
        status,
        WaveStatus::Held | WaveStatus::Halted | WaveStatus::Failed
    ) {
        return None;
    }
    wave.reason.clone().or_else(|| {
        s.gates
            .iter()
            .find(|g| g.wave == wave.name && !g.open)
            .map(|g| {
                format!(
                    "gate {}: {}",
                    g.gate,
                    g.reason.as_deref().unwrap_or("closed")
                )
            })
    })
}

/// Column widths for the space there is. The owner stays while it fits
/// (the runbook asks for that wave's owner by name); the gauge takes what
/// is left, since the percentage beside it says the same in figures.
struct Columns {
    name: usize,
    phase: usize,
    gauge: usize,
    counts: usize,
    eta: usize,
    owner: usize,
}

const GAUGE_MAX: usize = 30;
const GAUGE_MIN: usize = 6;

impl Columns {
    fn fit(s: &Snapshot, theme: &Theme, width: usize) -> Columns {
        let widest = |f: &dyn Fn(&WaveView) -> usize| s.waves.iter().map(f).max().unwrap_or(0);
        let name = widest(&|w| w.name.chars().count()).clamp(4, 18);
        let phase = widest(&|w| w.phase.chars().count() + 2).max(5);
        let counts = widest(&|w| counts(w, theme).chars().count()).max(9);
        let eta = widest(&|w| eta(s, w, theme).0.chars().count()).max(3);
        let owner = widest(&|w| w.owner.as_deref().map_or(0, |o| o.chars().count())).clamp(5, 12);
        // marker 2, name, then a space before each further column, "100%" 4
        let fixed = 2 + name + 1 + phase + 1 + 4 + 1 + counts + 1 + eta;
        let mut columns = Columns {
            name,
            phase,
            gauge: 0,
            counts,
            eta,
            owner,
        };
        let mut used = fixed + 1 + owner;
        if used > width {
            columns.owner = 0;
            used = fixed;
        }
        let room = width.saturating_sub(used + 1);
        columns.gauge = if room >= GAUGE_MIN + 2 {
            (room - 2).min(GAUGE_MAX)
        } else {
            0
        };
        columns
    }

    fn heading<'a>(&self, theme: &Theme) -> Line<'a> {
        let mut text = format!("  {} {} ", fit("wave", self.name), fit("phase", self.phase));
        if self.gauge > 0 {
            text.push_str(&fit("progress", self.gauge + 2));
            text.push(' ');
        }
        for (i, cell) in [
            fit_right("%", 4),
            fit("mailboxes", self.counts),
            fit("ETA", self.eta),
        ]
        .iter()
        .enumerate()
        {
            if i > 0 {
                text.push(' ');
            }
            text.push_str(cell);
        }
        if self.owner > 0 {
            text.push(' ');
            text.push_str(&fit("owner", self.owner));
        }
        Line::from(Span::styled(text, theme.heading))
    }

    fn row<'a>(&self, s: &Snapshot, wave: &WaveView, selected: bool, theme: &Theme) -> Line<'a> {
        let g = theme.glyphs;
        let status = WaveStatus::of(&wave.phase);
        let marker = if selected {
            format!("{} ", g.selected)
        } else {
            "  ".into()
        };
        let ratio = format::ratio(u64::from(wave.done), u64::from(wave.mailboxes));
        let mut spans = vec![
            Span::styled(marker, theme.title),
            Span::styled(fit(&wave.name, self.name), theme.text),
            Span::raw(" "),
            Span::styled(
                fit(
                    &format!("{} {}", status.glyph(theme), wave.phase),
                    self.phase,
                ),
                status.style(theme),
            ),
            Span::raw(" "),
        ];
        if self.gauge > 0 {
            spans.extend(gauge(ratio, self.gauge, theme));
            spans.push(Span::raw(" "));
        }
        let (eta_text, eta_style) = eta(s, wave, theme);
        spans.push(Span::styled(
            fit_right(&format!("{}%", format::percent(ratio)), 4),
            theme.text,
        ));
        spans.push(Span::raw(" "));
        spans.push(Span::styled(
            fit(&counts(wave, theme), self.counts),
            counts_style(wave, theme),
        ));
        spans.push(Span::raw(" "));
        spans.push(Span::styled(fit(&eta_text, self.eta), eta_style));
        if self.owner > 0 {
            let owner = wave.owner.as_deref().unwrap_or(g.none);
            spans.push(Span::raw(" "));
            spans.push(Span::styled(fit(owner, self.owner), theme.muted));
        }
        Line::from(spans)
    }
}

/// `[█████░░░░░]`, or `[#####-----]` in ASCII.
#[must_use]
pub fn gauge<'a>(ratio: f64, width: usize, theme: &Theme) -> Vec<Span<'a>> {
    let g = theme.glyphs;
    let filled = format::cells(ratio, width);
    vec![
        Span::styled("[", theme.muted),
        Span::styled(g.gauge_full.repeat(filled), theme.gauge),
        Span::styled(g.gauge_empty.repeat(width - filled), theme.gauge_empty),
        Span::styled("]", theme.muted),
    ]
}

/// `7/12 ✓6 ✗1`: done of all, verified, failed.
fn counts(w: &WaveView, theme: &Theme) -> String {
    let g = theme.glyphs;
    format!(
        "{}/{} {}{} {}{}",
        w.done, w.mailboxes, g.ok, w.verified, g.bad, w.failed
    )
}

fn counts_style(w: &WaveView, theme: &Theme) -> Style {
    if w.failed > 0 { theme.warn } else { theme.text }
}

/// The ETA and whether it ends inside the maintenance window.
fn eta(s: &Snapshot, w: &WaveView, theme: &Theme) -> (String, Style) {
    let g = theme.glyphs;
    if WaveStatus::of(&w.phase) == WaveStatus::Done {
        return ("done".into(), theme.ok);
    }
    let Some(secs) = w.eta_secs else {
        return (g.none.into(), theme.muted);
    };
    let secs = i64::try_from(secs).unwrap_or(i64::MAX / 2);
    let left = format::duration(secs);
    let Some(window) = &s.window else {
        return (left, theme.text);
    };
    let end = s.taken_at + chrono::Duration::seconds(secs);
    if end <= window.end {
        (format!("{left} {} fits", g.ok), theme.ok)
    } else {
        let late = format::duration((end - window.end).num_seconds());
        (format!("{left} {} {late} late", g.bad), theme.bad)
    }
}
