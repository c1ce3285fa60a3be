//! Telemetry health in one header line: whether `CloudWatch`, the status
//! page and the webhooks take what the engine sends, and the `CloudWatch`
//! alarms it reads. A failing output or an alarm in ALARM says so in
//! capitals with a glyph; when the line is short, healthy ones fold into a
//! count and the unhealthy ones keep their place.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::theme::Theme;
use crate::engine::Snapshot;
use crate::engine::snapshot::OutputView;

/// An output's or an alarm's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Ok,
    /// Switched off in the plan.
    Off,
    /// The output refuses or cannot be reached.
    Failing,
    /// A `CloudWatch` alarm in ALARM.
    Alarm,
    /// An alarm without data, missing or in a state this build does not
    /// know.
    Unknown,
}

impl Health {
    #[must_use]
    pub fn of(output: &OutputView) -> Health {
        match output.state.as_str() {
            "ok" | "OK" => Health::Ok,
            "off" => Health::Off,
            "failing" => Health::Failing,
            "ALARM" => Health::Alarm,
            _ => Health::Unknown,
        }
    }

    /// Whether someone should look at it.
    #[must_use]
    pub fn needs_eyes(self) -> bool {
        matches!(self, Health::Failing | Health::Alarm | Health::Unknown)
    }

    fn glyph(self, theme: &Theme) -> &'static str {
        let g = theme.glyphs;
        match self {
            Health::Ok => g.ok,
            Health::Off => g.none,
            Health::Failing | Health::Alarm => g.bad,
            Health::Unknown => g.warn,
        }
    }

    fn style(self, theme: &Theme) -> Style {
        match self {
            Health::Ok => theme.ok,
            Health::Off => theme.muted,
            Health::Failing | Health::Alarm => theme.bad,
            Health::Unknown => theme.warn,
        }
    }
}

/// The state in words: `FAILING` in capitals, alarm states as `CloudWatch`
/// names them, the rest as the engine says them.
fn word(output: &OutputView) -> String {
    match Health::of(output) {
        Health::Failing => "FAILING".into(),
        _ => output.state.clone(),
    }
}

/// `webhook ✗ FAILING: HTTP 502 …`; details only for what needs eyes.
fn item<'a>(output: &OutputView, with_detail: bool, theme: &Theme) -> Vec<Span<'a>> {
    let health = Health::of(output);
    let detail = output
        .detail
        .as_deref()
        .filter(|d| with_detail && health.needs_eyes() && !d.is_empty());
    let text = match detail {
        Some(detail) => format!("{} {}: {detail}", health.glyph(theme), word(output)),
        None => format!("{} {}", health.glyph(theme), word(output)),
    };
    vec![
        Span::styled(format!("{} ", output.name), theme.text),
        Span::styled(text, health.style(theme)),
    ]
}

/// The telemetry line for `width` columns, or nothing when the engine
/// reports no outputs.
#[must_use]
pub fn line<'a>(s: &Snapshot, theme: &Theme, width: usize) -> Option<Line<'a>> {
    if s.outputs.is_empty() {
        return None;
    }
    let g = theme.glyphs;
    let separator = || Span::styled(format!(" {} ", g.separator), theme.muted);
    let join = |items: Vec<Vec<Span<'a>>>| {
        let mut spans = vec![Span::styled("telemetry ", theme.muted)];
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                spans.push(separator());
            }
            spans.extend(item);
        }
        Line::from(spans)
    };

    let everything = join(s.outputs.iter().map(|o| item(o, true, theme)).collect());
    if everything.width() <= width {
        return Some(everything);
    }
    let (troubled, calm): (Vec<&OutputView>, Vec<&OutputView>) =
        s.outputs.iter().partition(|o| Health::of(o).needs_eyes());
    let ok = calm.iter().filter(|o| Health::of(o) == Health::Ok).count();
    let off = calm.len() - ok;
    let mut folded = Vec::new();
    if ok > 0 {
        let text = if troubled.is_empty() && off == 0 {
            format!("{} all {ok} ok", g.ok)
        } else {
            format!("{} {ok} ok", g.ok)
        };
        folded.push(vec![Span::styled(text, theme.ok)]);
    }
    if off > 0 {
        folded.push(vec![Span::styled(
            format!("{} {off} off", g.none),
            theme.muted,
        )]);
    }
    let compact = |with_detail: bool| {
        let mut items: Vec<Vec<Span<'a>>> = troubled
            .iter()
            .map(|o| item(o, with_detail, theme))
            .collect();
        items.extend(folded.iter().cloned());
        join(items)
    };
    let detailed = compact(true);
    if detailed.width() <= width {
        Some(detailed)
    } else {
        Some(compact(false))
    }
}
