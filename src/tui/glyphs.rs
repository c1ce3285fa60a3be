//! The symbols the war room draws with, in a Unicode set and an ASCII set.
//!
//! Every status is a word plus one of these glyphs, so it reads on a
//! monochrome terminal and to someone who cannot tell red from green. The
//! ASCII set exists for terminals and fonts without UTF-8: it has no
//! box-drawing, block or braille characters.

use ratatui::symbols::border;

/// One complete set of symbols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Glyphs {
    pub ascii: bool,
    pub border: border::Set<'static>,
    /// Waiting to start (planned, pending).
    pub waiting: &'static str,
    /// Work in progress.
    pub active: &'static str,
    /// Part of the way there (pre-synced).
    pub partial: &'static str,
    /// Held by a gate.
    pub held: &'static str,
    /// Halted by an operator.
    pub halted: &'static str,
    pub done: &'static str,
    pub failed: &'static str,
    pub rolled_back: &'static str,
    pub skipped: &'static str,
    pub ok: &'static str,
    pub warn: &'static str,
    pub bad: &'static str,
    /// Marks a figure above its threshold.
    pub over: &'static str,
    pub selected: &'static str,
    pub separator: &'static str,
    pub arrow: &'static str,
    pub ascending: &'static str,
    pub descending: &'static str,
    pub gauge_full: &'static str,
    pub gauge_tail: &'static str,
    pub gauge_empty: &'static str,
    pub threshold: &'static str,
    pub caret: &'static str,
    /// Stands for a missing figure.
    pub none: &'static str,
    /// Leads a detail line under its row.
    pub branch: &'static str,
    pub times: &'static str,
    pub live: &'static str,
    /// Eight levels for sparklines, lowest first.
    pub spark: [&'static str; 8],
    /// The cell used by the large kiosk figures.
    pub big: &'static str,
}

const ASCII_BORDER: border::Set<'static> = border::Set {
    top_left: "+",
    top_right: "+",
    bottom_left: "+",
    bottom_right: "+",
    vertical_left: "|",
    vertical_right: "|",
    horizontal_top: "-",
    horizontal_bottom: "-",
};

pub const UNICODE: Glyphs = Glyphs {
    ascii: false,
    border: border::PLAIN,
    waiting: "○",
    active: "▶",
    partial: "◑",
    held: "‖",
    halted: "■",
    done: "✓",
    failed: "✗",
    rolled_back: "↺",
    skipped: "»",
    ok: "✓",
    warn: "!",
    bad: "✗",
    over: "▲",
    selected: "▸",
    separator: "·",
    arrow: "→",
    ascending: "↑",
    descending: "↓",
    gauge_full: "█",
    gauge_tail: "▒",
    gauge_empty: "░",
    threshold: "│",
    caret: "▏",
    none: "–",
    branch: "└",
    times: "×",
    live: "●",
    spark: ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"],
    big: "█",
};

pub const ASCII: Glyphs = Glyphs {
    ascii: true,
    border: ASCII_BORDER,
    waiting: ".",
    active: ">",
    partial: "~",
    held: "=",
    halted: "#",
    done: "+",
    failed: "x",
    rolled_back: "<",
    skipped: "-",
    ok: "+",
    warn: "!",
    bad: "x",
    over: "^",
    selected: ">",
    separator: "|",
    arrow: "->",
    ascending: "^",
    descending: "v",
    gauge_full: "#",
    gauge_tail: "=",
    gauge_empty: "-",
    threshold: "|",
    caret: "_",
    none: "-",
    branch: "`-",
    times: "x",
    live: "*",
    spark: ["_", ".", ",", "-", "~", "=", "*", "#"],
    big: "#",
};

impl Glyphs {
    #[must_use]
    pub fn for_mode(ascii: bool) -> &'static Glyphs {
        if ascii { &ASCII } else { &UNICODE }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ascii_set_is_ascii() {
        let g = ASCII;
        let b = g.border;
        let mut all = vec![
            b.top_left,
            b.top_right,
            b.bottom_left,
            b.bottom_right,
            b.vertical_left,
            b.vertical_right,
            b.horizontal_top,
            b.horizontal_bottom,
            g.waiting,
            g.active,
            g.partial,
            g.held,
            g.halted,
            g.done,
            g.failed,
            g.rolled_back,
            g.skipped,
            g.ok,
            g.warn,
            g.bad,
            g.over,
            g.selected,
            g.separator,
            g.arrow,
            g.ascending,
            g.descending,
            g.gauge_full,
            g.gauge_tail,
            g.gauge_empty,
            g.threshold,
            g.caret,
            g.times,
            g.live,
            g.big,
            g.none,
            g.branch,
        ];
        all.extend(g.spark);
        assert!(all.iter().all(|s| s.is_ascii() && !s.is_empty()));
    }
}
