//! What a wave's or a mailbox's phase means for the screen: which glyph and
//! emphasis it gets, and which wave a halt would hold.

use ratatui::style::Style;

use super::theme::Theme;
use crate::engine::snapshot::WaveView;
use crate::journal::MailboxPhase;

/// A wave's phase, grouped by what an operator needs to know about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaveStatus {
    Waiting,
    Active,
    Held,
    Halted,
    Done,
    Failed,
    RolledBack,
}

impl WaveStatus {
    /// Groups the engine's phase words; an unknown word counts as work in
    /// progress, so nothing new is ever shown as finished.
    #[must_use]
    pub fn of(phase: &str) -> WaveStatus {
        match phase {
            "planned" | "pending" | "waiting" => WaveStatus::Waiting,
            "held" => WaveStatus::Held,
            "halted" => WaveStatus::Halted,
            "done" | "cut-over" | "finished" => WaveStatus::Done,
            "failed" => WaveStatus::Failed,
            "rolled-back" | "rolling-back" => WaveStatus::RolledBack,
            _ => WaveStatus::Active,
        }
    }

    #[must_use]
    pub fn glyph(self, theme: &Theme) -> &'static str {
        let g = theme.glyphs;
        match self {
            WaveStatus::Waiting => g.waiting,
            WaveStatus::Active => g.active,
            WaveStatus::Held => g.held,
            WaveStatus::Halted => g.halted,
            WaveStatus::Done => g.done,
            WaveStatus::Failed => g.failed,
            WaveStatus::RolledBack => g.rolled_back,
        }
    }

    #[must_use]
    pub fn style(self, theme: &Theme) -> Style {
        match self {
            WaveStatus::Waiting | WaveStatus::RolledBack => theme.muted,
            WaveStatus::Active => theme.info,
            WaveStatus::Held | WaveStatus::Halted => theme.warn,
            WaveStatus::Done => theme.ok,
            WaveStatus::Failed => theme.bad,
        }
    }

    /// Has not started yet: a halt would hold it.
    #[must_use]
    pub fn not_started(self) -> bool {
        matches!(self, WaveStatus::Waiting | WaveStatus::Held)
    }
}

/// The wave a halt would hold: the first one that has not started.
#[must_use]
pub fn next_unstarted(waves: &[WaveView]) -> Option<&WaveView> {
    waves
        .iter()
        .find(|w| WaveStatus::of(&w.phase).not_started())
}

/// Glyph and emphasis for a mailbox phase.
#[must_use]
pub fn mailbox_look(phase: MailboxPhase, theme: &Theme) -> (&'static str, Style) {
    let g = theme.glyphs;
    match phase {
        MailboxPhase::Pending => (g.waiting, theme.muted),
        MailboxPhase::PreSyncing | MailboxPhase::DeltaSyncing | MailboxPhase::Verifying => {
            (g.active, theme.info)
        }
        MailboxPhase::PreSynced => (g.partial, theme.text),
        MailboxPhase::Verified => (g.done, theme.ok),
        MailboxPhase::Failed => (g.failed, theme.bad),
        MailboxPhase::Paused => (g.held, theme.warn),
        MailboxPhase::Skipped => (g.skipped, theme.muted),
    }
}

/// Order of mailbox phases for sorting: along the way, then the stops.
#[must_use]
pub fn mailbox_rank(phase: MailboxPhase) -> u8 {
    match phase {
        MailboxPhase::Failed => 0,
        MailboxPhase::Paused => 1,
        MailboxPhase::Skipped => 2,
        MailboxPhase::Pending => 3,
        MailboxPhase::PreSyncing => 4,
        MailboxPhase::PreSynced => 5,
        MailboxPhase::DeltaSyncing => 6,
        MailboxPhase::Verifying => 7,
        MailboxPhase::Verified => 8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_phase_words_are_grouped() {
        assert_eq!(WaveStatus::of("planned"), WaveStatus::Waiting);
        assert_eq!(WaveStatus::of("delta-syncing"), WaveStatus::Active);
        assert_eq!(WaveStatus::of("verified"), WaveStatus::Active);
        assert_eq!(WaveStatus::of("cut-over"), WaveStatus::Done);
        assert_eq!(WaveStatus::of("held"), WaveStatus::Held);
        assert_eq!(WaveStatus::of("something-new"), WaveStatus::Active);
    }
}
