//! The runbook panel: the people's steps beside the machine's figures.
//! Steps sit under their wave in plan order, each with its stage, who may
//! tick it, its state in a word and a glyph, and who ticked it when. A
//! failing check shows its first output line under the step; while the
//! panel has the focus, the selected step shows every line kept and the
//! command.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::format::{self, fit, fit_right};
use super::theme::Theme;
use super::view::{Panel, ViewState};
use crate::engine::Snapshot;
use crate::engine::snapshot::StepView;

/// Steps in the panel's order, which is also the selection's: grouped by
/// wave in the plan's order, then by step.
#[must_use]
pub fn ordered(s: &Snapshot) -> Vec<&StepView> {
    let rank = |wave: &str| {
        s.waves
            .iter()
            .position(|w| w.name == wave)
            .unwrap_or(usize::MAX)
    };
    let mut rows: Vec<&StepView> = s.runbook.iter().collect();
    rows.sort_by(|a, b| {
        rank(&a.wave)
            .cmp(&rank(&b.wave))
            .then_with(|| a.wave.cmp(&b.wave))
            .then(a.step.cmp(&b.step))
    });
    rows
}

/// Where a wave's first step is in the panel's order.
#[must_use]
pub fn first_of_wave(s: &Snapshot, wave: &str) -> Option<usize> {
    ordered(s).iter().position(|step| step.wave == wave)
}

/// What a step's state is, as the war room words it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepState {
    Done,
    Open,
    /// Open because its last check exited with this code.
    Failing(i32),
}

impl StepState {
    #[must_use]
    pub fn of(step: &StepView) -> StepState {
        match step.check_exit {
            _ if step.done => StepState::Done,
            Some(code) if code != 0 => StepState::Failing(code),
            _ => StepState::Open,
        }
    }

    /// `✓ done`, `○ open`, `✗ failing, exit 1`.
    #[must_use]
    pub fn text(self, theme: &Theme) -> String {
        let g = theme.glyphs;
        match self {
            StepState::Done => format!("{} done", g.done),
            StepState::Open => format!("{} open", g.waiting),
            StepState::Failing(code) => format!("{} failing, exit {code}", g.failed),
        }
    }

    fn style(self, theme: &Theme) -> Style {
        match self {
            StepState::Done => theme.ok,
            StepState::Open => theme.text,
            StepState::Failing(_) => theme.bad,
        }
    }
}

/// Rows the panel would like: borders, the column heading, a line per
/// wave and per step, the failing checks' lines, and room for the
/// selected step's detail.
#[must_use]
pub fn wanted_height(s: &Snapshot) -> u16 {
    if s.runbook.is_empty() {
        return 3;
    }
    let rows = ordered(s);
    let mut waves: Vec<&str> = rows.iter().map(|r| r.wave.as_str()).collect();
    waves.dedup();
    let failing = rows
        .iter()
        .filter(|r| matches!(StepState::of(r), StepState::Failing(_)))
        .count();
    u16::try_from(3 + waves.len() + rows.len() + failing + 2).unwrap_or(u16::MAX)
}

pub fn render(frame: &mut Frame, area: Rect, s: &Snapshot, view: &ViewState, theme: &Theme) {
    let rows = ordered(s);
    let focused = view.focus == Some(Panel::Runbook);
    let block = theme.block(title(&rows, theme), focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    if rows.is_empty() {
        let text = Span::styled("no runbook steps in this plan", theme.muted);
        frame.render_widget(Paragraph::new(text), inner);
        return;
    }

    let columns = Columns::fit(&rows, theme, usize::from(inner.width));
    let selected = view.step.min(rows.len() - 1);
    let mut lines = Vec::new();
    let mut selected_span = (0, 0);
    for (i, step) in rows.iter().enumerate() {
        if i == 0 || rows[i - 1].wave != step.wave {
            lines.push(wave_line(s, &rows, &step.wave, theme));
        }
        let is_selected = view.focus.is_some() && i == selected;
        let mut row = columns.row(step, is_selected, theme);
        if is_selected && focused {
            row = row.style(theme.selected);
        }
        let start = lines.len();
        lines.push(row);
        let expanded = focused && i == selected;
        lines.extend(detail(step, expanded, columns.ticked == 0, theme));
        if i == selected {
            selected_span = (start, lines.len());
        }
    }

    let [heading_area, body_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(inner);
    frame.render_widget(Paragraph::new(columns.heading(theme)), heading_area);
    let visible = usize::from(body_area.height);
    let (start, end) = selected_span;
    let scroll = end.saturating_sub(visible).min(start);
    let scroll = u16::try_from(scroll).unwrap_or(0);
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), body_area);
}

fn title<'a>(rows: &[&StepView], theme: &Theme) -> Line<'a> {
    let g = theme.glyphs;
    let done = rows.iter().filter(|r| r.done).count();
    let failing = rows
        .iter()
        .filter(|r| matches!(StepState::of(r), StepState::Failing(_)))
        .count();
    let mut spans = vec![Span::raw(" runbook ")];
    if !rows.is_empty() {
        spans.push(Span::raw(format!(
            "{} {done}/{} done ",
            g.separator,
            rows.len()
        )));
    }
    if failing > 0 {
        spans.push(Span::styled(
            format!("{} {} {failing} failing ", g.separator, g.failed),
            theme.bad,
        ));
    }
    Line::from(spans)
}

/// `wave-2-globex · owner carol · 0/2 done` above the wave's steps.
fn wave_line<'a>(s: &Snapshot, rows: &[&StepView], wave: &str, theme: &Theme) -> Line<'a> {
    let g = theme.glyphs;
    let steps: Vec<&&StepView> = rows.iter().filter(|r| r.wave == wave).collect();
    let done = steps.iter().filter(|r| r.done).count();
    let mut spans = vec![Span::styled(wave.to_string(), theme.heading)];
    let owner = s
        .waves
        .iter()
        .find(|w| w.name == wave)
        .and_then(|w| w.owner.as_deref());
    if let Some(owner) = owner {
        spans.push(Span::styled(
            format!(" {} owner {owner}", g.separator),
            theme.muted,
        ));
    }
    spans.push(Span::styled(
        format!(" {} {done}/{} done", g.separator, steps.len()),
        theme.muted,
    ));
    Line::from(spans)
}

/// The lines under a step: a failing check's first line, and for the
/// selected step the whole check result, its command, and who ticked it
/// when the table has no room for that column.
fn detail<'a>(step: &StepView, selected: bool, tick_hidden: bool, theme: &Theme) -> Vec<Line<'a>> {
    let mut texts: Vec<(String, Style)> = Vec::new();
    if selected && step.done && tick_hidden {
        texts.push((format!("ticked by {}", ticked(step, theme)), theme.muted));
    }
    let output: Vec<&str> = step
        .check_output
        .as_deref()
        .map(|o| o.lines().filter(|l| !l.trim().is_empty()).collect())
        .unwrap_or_default();
    match step.check_exit {
        Some(code) if code != 0 || selected => {
            let when = step
                .checked_at
                .as_deref()
                .map(|at| format!(" at {}", format::journal_clock(at)))
                .unwrap_or_default();
            let first = output.first().map(|l| format!(": {l}")).unwrap_or_default();
            let style = if code == 0 { theme.muted } else { theme.bad };
            texts.push((format!("check exit {code}{when}{first}"), style));
            if selected {
                for line in output.iter().skip(1) {
                    texts.push((format!("  {line}"), theme.warn));
                }
            }
        }
        None if selected && step.check.is_some() => {
            texts.push(("check not run yet".into(), theme.muted));
        }
        _ => {}
    }
    if selected && let Some(command) = &step.check {
        texts.push((format!("check command: {command}"), theme.muted));
    }
    let g = theme.glyphs;
    texts
        .into_iter()
        .enumerate()
        .map(|(i, (text, style))| {
            let lead = if i == 0 {
                format!("     {} ", g.branch)
            } else {
                " ".repeat(6 + g.branch.chars().count())
            };
            Line::from(vec![
                Span::styled(lead, theme.muted),
                Span::styled(text, style),
            ])
        })
        .collect()
}

/// `olga 22:14Z`, or the none glyph for a step no one ticked.
fn ticked(step: &StepView, theme: &Theme) -> String {
    let g = theme.glyphs;
    match (&step.ticked_by, &step.ticked_at) {
        (Some(by), Some(at)) => format!("{by} {}", format::journal_clock(at)),
        (Some(by), None) => by.clone(),
        (None, Some(at)) => format::journal_clock(at),
        (None, None) => g.none.to_string(),
    }
}

/// Column widths for the space there is. The title and the state always
/// show; owner and stage come next, then who ticked, each only while the
/// title keeps enough room; the step number (what `cutover ctl` and the
/// audit log use) only when every title fits whole.
struct Columns {
    number: usize,
    title: usize,
    stage: usize,
    owner: usize,
    state: usize,
    ticked: usize,
}

const MARKER: usize = 2;
/// The title's least width beside owner and stage.
const TITLE_MIN: usize = 16;
/// The title's least width beside the optional extras.
const TITLE_EXTRAS: usize = 24;

impl Columns {
    fn fit(rows: &[&StepView], theme: &Theme, width: usize) -> Columns {
        let widest = |f: &dyn Fn(&StepView) -> usize| rows.iter().map(|r| f(r)).max().unwrap_or(0);
        let longest_title = widest(&|r| r.title.chars().count()).max(4);
        let state = widest(&|r| StepState::of(r).text(theme).chars().count()).max(5);
        let mut columns = Columns {
            number: 0,
            title: 0,
            stage: 0,
            owner: 0,
            state,
            ticked: 0,
        };
        let mut room = width.saturating_sub(MARKER + state + 1);
        let mut take = |wanted: usize, least_title: usize| {
            if room >= wanted + 1 + least_title {
                room -= wanted + 1;
                wanted
            } else {
                0
            }
        };
        columns.owner = take(widest(&|r| r.owner.chars().count()).clamp(5, 14), TITLE_MIN);
        columns.stage = take(widest(&|r| r.stage.chars().count()).max(5), TITLE_MIN);
        columns.ticked = take(
            widest(&|r| ticked(r, theme).chars().count()).clamp(6, 20),
            TITLE_EXTRAS,
        );
        columns.number = take(widest(&|r| r.step.to_string().len()).max(1), longest_title);
        columns.title = room.min(longest_title);
        columns
    }

    /// The cells of a row after the marker, in column order.
    fn cells(&self) -> [(usize, bool); 6] {
        [
            (self.number, true),
            (self.title, false),
            (self.stage, false),
            (self.owner, false),
            (self.state, false),
            (self.ticked, false),
        ]
    }

    fn join<'a>(&self, texts: [(String, Style); 6]) -> Vec<Span<'a>> {
        let mut spans = Vec::new();
        for ((width, right), (text, style)) in self.cells().into_iter().zip(texts) {
            if width == 0 {
                continue;
            }
            if !spans.is_empty() {
                spans.push(Span::raw(" "));
            }
            let cell = if right {
                fit_right(&text, width)
            } else {
                fit(&text, width)
            };
            spans.push(Span::styled(cell, style));
        }
        spans
    }

    fn heading<'a>(&self, theme: &Theme) -> Line<'a> {
        let h = theme.heading;
        let mut spans = vec![Span::styled(" ".repeat(MARKER), h)];
        spans.extend(self.join([
            ("#".into(), h),
            ("step".into(), h),
            ("stage".into(), h),
            ("owner".into(), h),
            ("state".into(), h),
            ("ticked".into(), h),
        ]));
        Line::from(spans)
    }

    fn row<'a>(&self, step: &StepView, selected: bool, theme: &Theme) -> Line<'a> {
        let g = theme.glyphs;
        let marker = if selected {
            format!("{} ", g.selected)
        } else {
            " ".repeat(MARKER)
        };
        let state = StepState::of(step);
        let mut spans = vec![Span::styled(marker, theme.title)];
        spans.extend(self.join([
            (step.step.to_string(), theme.muted),
            (step.title.clone(), theme.text),
            (step.stage.clone(), theme.muted),
            (step.owner.clone(), theme.text),
            (state.text(theme), state.style(theme)),
            (ticked(step, theme), theme.muted),
        ]));
        Line::from(spans)
    }
}
