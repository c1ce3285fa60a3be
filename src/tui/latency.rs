//! The latency panel: p50/p95/p99 per operation and server, a bar with the
//! plan's p95 threshold drawn as a marker, a word for values over it, and
//! the recent p95 trend.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::format::{self, fit, fit_right};
use super::theme::Theme;
use super::view::{Panel, ViewState};
use crate::engine::Snapshot;
use crate::engine::snapshot::ThresholdView;
use crate::telemetry::{LatencySummary, Op};

/// The plan's p95 limit for an operation, when it has one.
#[must_use]
pub fn threshold(t: &ThresholdView, op: Op) -> Option<u64> {
    match op {
        Op::Append => Some(t.max_p95_append_ms),
        Op::Fetch => Some(t.max_p95_fetch_ms),
        _ => None,
    }
    .filter(|ms| *ms > 0)
}

/// Rows in the panel's order: by server, then operation.
#[must_use]
pub fn ordered(s: &Snapshot) -> Vec<&LatencySummary> {
    let mut rows: Vec<&LatencySummary> = s.latency.iter().collect();
    rows.sort_by(|a, b| a.server.cmp(&b.server).then(a.op.cmp(&b.op)));
    rows
}

const BAR_MAX: usize = 30;
const TREND_MAX: usize = 24;

pub fn render(frame: &mut Frame, area: Rect, s: &Snapshot, view: &ViewState, theme: &Theme) {
    let rows = ordered(s);
    let over = rows
        .iter()
        .filter(|r| threshold(&s.thresholds, r.op).is_some_and(|t| r.p95_ms > u64_to_f64(t)))
        .count();
    let g = theme.glyphs;
    let mut title = vec![Span::raw(" latency ms ")];
    if over > 0 {
        title.push(Span::styled(
            format!("{} {} {over} over p95 limit ", g.separator, g.over),
            theme.bad,
        ));
    }
    let focused = view.focus == Some(Panel::Latency);
    let block = theme.block(Line::from(title), focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    if rows.is_empty() {
        frame.render_widget(
            Paragraph::new(Span::styled("no operations timed yet", theme.muted)),
            inner,
        );
        return;
    }

    let columns = Columns::fit(&rows, usize::from(inner.width));
    let t = &s.thresholds;
    let mut lines = vec![limits_line(t, theme), columns.heading(theme)];
    let selected = view.latency.min(rows.len() - 1);
    let scale = bar_scale(&rows, t);
    for (i, row) in rows.iter().enumerate() {
        let limit = threshold(t, row.op);
        let is_over = limit.is_some_and(|l| row.p95_ms > u64_to_f64(l));
        let marker = if i == selected && view.focus.is_some() {
            format!("{} ", g.selected)
        } else {
            "  ".into()
        };
        let figure = |ms: f64| fit_right(&format::millis(ms), 7);
        let mut spans = vec![
            Span::styled(marker, theme.title),
            Span::styled(fit(&row.server, columns.server), theme.text),
            Span::raw(" "),
            Span::styled(fit(row.op.as_str(), 7), theme.text),
        ];
        if columns.p50 {
            spans.push(Span::styled(figure(row.p50_ms), theme.text));
        }
        spans.push(Span::styled(
            figure(row.p95_ms),
            if is_over { theme.bad } else { theme.text },
        ));
        if columns.p99 {
            spans.push(Span::styled(figure(row.p99_ms), theme.text));
        }
        spans.push(Span::raw(" "));
        spans.push(match limit {
            Some(_) if is_over => Span::styled(fit(&format!("{} OVER", g.over), 7), theme.bad),
            Some(_) => Span::styled(fit(&format!("{} ok", g.ok), 7), theme.ok),
            None => Span::styled(fit(g.none, 7), theme.muted),
        });
        if columns.bar > 0 {
            spans.push(Span::raw(" "));
            spans.extend(bar_spans(row, limit, scale, columns.bar, theme));
        }
        if columns.trend > 0 {
            spans.push(Span::raw(" "));
            spans.push(trend_span(view, row, limit, columns.trend, theme));
        }
        let mut line = Line::from(spans);
        if i == selected && focused {
            line = line.style(theme.selected);
        }
        lines.push(line);
    }
    let visible = usize::from(inner.height);
    let scroll = u16::try_from((selected + 3).saturating_sub(visible)).unwrap_or(0);
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), inner);
}

/// Which columns fit. Server, operation, p95 and the verdict always show;
/// then p99, the bar, p50 and the trend as room allows.
struct Columns {
    server: usize,
    p50: bool,
    p99: bool,
    bar: usize,
    trend: usize,
}

const BAR_MIN: usize = 10;

impl Columns {
    fn fit(rows: &[&LatencySummary], width: usize) -> Columns {
        // marker, space, op, p95, space, verdict
        let others = 2 + 1 + 7 + 7 + 1 + 7;
        let server = rows
            .iter()
            .map(|r| r.server.chars().count())
            .max()
            .unwrap_or(6)
            .clamp(6, 24)
            .min(width.saturating_sub(others));
        let mut room = width.saturating_sub(server + others);
        let mut take = |cells: usize, keep: usize| {
            let fits = room >= cells + keep;
            if fits {
                room -= cells;
            }
            fits
        };
        let p99 = take(7, BAR_MIN + 1);
        let p50 = take(7, BAR_MIN + 1);
        let bar = if room > BAR_MIN {
            (room - 1).min(BAR_MAX)
        } else {
            0
        };
        room = room.saturating_sub(bar + 1);
        let trend = if room > 12 {
            (room - 1).min(TREND_MAX)
        } else {
            0
        };
        Columns {
            server,
            p50,
            p99,
            bar,
            trend,
        }
    }

    fn heading<'a>(&self, theme: &Theme) -> Line<'a> {
        let g = theme.glyphs;
        let mut text = format!("  {} {}", fit("server", self.server), fit("op", 7));
        if self.p50 {
            text.push_str(&fit_right("p50", 7));
        }
        text.push_str(&fit_right("p95", 7));
        if self.p99 {
            text.push_str(&fit_right("p99", 7));
        }
        text.push(' ');
        text.push_str(&fit("limit", 7));
        if self.bar > 0 {
            text.push(' ');
            let label = format!("{} marks the limit", g.threshold);
            text.push_str(&fit(
                if self.bar >= label.chars().count() {
                    &label
                } else {
                    ""
                },
                self.bar,
            ));
        }
        if self.trend > 0 {
            text.push(' ');
            text.push_str(&fit("p95 trend", self.trend));
        }
        Line::from(Span::styled(text, theme.heading))
    }
}

fn limits_line<'a>(t: &ThresholdView, theme: &Theme) -> Line<'a> {
    Line::from(Span::styled(
        format!(
            "p95 limits ({}): append {} ms, fetch {} ms",
            format::duration(i64::try_from(t.window_secs).unwrap_or(0)),
            t.max_p95_append_ms,
            t.max_p95_fetch_ms
        ),
        theme.muted,
    ))
}

/// One scale for every bar, so rows compare at a glance: room for the
/// highest p99 and half again over the highest limit.
fn bar_scale(rows: &[&LatencySummary], t: &ThresholdView) -> f64 {
    rows.iter()
        .map(|r| {
            let limit = threshold(t, r.op).map_or(0.0, u64_to_f64);
            (limit * 1.5).max(r.p99_ms * 1.1)
        })
        .fold(1.0, f64::max)
}

/// A bar to p95 (full) and p99 (lighter), with the threshold's column
/// drawn as a marker on top.
fn bar_spans<'a>(
    row: &LatencySummary,
    limit: Option<u64>,
    scale: f64,
    width: usize,
    theme: &Theme,
) -> Vec<Span<'a>> {
    let g = theme.glyphs;
    let limit = limit.map(u64_to_f64);
    let cell_of = |ms: f64| format::cells(ms / scale, width);
    let p95 = cell_of(row.p95_ms);
    let p99 = cell_of(row.p99_ms).max(p95);
    let marker = limit.map(|l| cell_of(l).min(width - 1));
    let over = limit.is_some_and(|l| row.p95_ms > l);
    let fill = if over { theme.bad } else { theme.gauge };
    (0..width)
        .map(|i| {
            if Some(i) == marker {
                Span::styled(g.threshold, theme.threshold)
            } else if i < p95 {
                Span::styled(g.gauge_full, fill)
            } else if i < p99 {
                Span::styled(g.gauge_tail, fill)
            } else {
                Span::styled(g.gauge_empty, theme.gauge_empty)
            }
        })
        .collect()
}

/// The recent p95 values as a sparkline, scaled to the threshold so a
/// line at the top means at or over the limit.
fn trend_span<'a>(
    view: &ViewState,
    row: &LatencySummary,
    limit: Option<u64>,
    width: usize,
    theme: &Theme,
) -> Span<'a> {
    let g = theme.glyphs;
    let Some(samples) = view
        .history
        .latency_trend(&row.server, row.op)
        .filter(|s| s.len() > 1)
    else {
        return Span::styled(fit("collecting", width), theme.muted);
    };
    let peak = samples.iter().copied().fold(0.0, f64::max);
    let top = limit.map_or(peak, u64_to_f64).max(1.0);
    let skip = samples.len().saturating_sub(width);
    let line: String = samples
        .iter()
        .skip(skip)
        .map(|v| {
            let level = format::cells(v / top, g.spark.len() - 1);
            g.spark[level]
        })
        .collect();
    let style = if limit.is_some_and(|l| row.p95_ms > u64_to_f64(l)) {
        theme.bad
    } else {
        theme.info
    };
    Span::styled(fit(&line, width), style)
}

fn u64_to_f64(n: u64) -> f64 {
    #[expect(
        clippy::cast_precision_loss,
        reason = "milliseconds are far below 2^52"
    )]
    let f = n as f64;
    f
}
