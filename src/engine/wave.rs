//! A wave's life: planned → pre-syncing → pre-synced → delta-syncing →
//! verifying → verified → cut over → done, with held (a gate is closed),
//! halted (an operator stopped it), failed (validation failed) and rolled
//! back beside the main line.

use serde::{Deserialize, Serialize};

/// Where a wave stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WavePhase {
    Planned,
    PreSyncing,
    PreSynced,
    DeltaSyncing,
    Verifying,
    Verified,
    CutOver,
    Done,
    Held,
    Halted,
    Failed,
    RolledBack,
}

impl WavePhase {
    pub const ALL: [WavePhase; 12] = [
        WavePhase::Planned,
        WavePhase::PreSyncing,
        WavePhase::PreSynced,
        WavePhase::DeltaSyncing,
        WavePhase::Verifying,
        WavePhase::Verified,
        WavePhase::CutOver,
        WavePhase::Done,
        WavePhase::Held,
        WavePhase::Halted,
        WavePhase::Failed,
        WavePhase::RolledBack,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            WavePhase::Planned => "planned",
            WavePhase::PreSyncing => "pre-syncing",
            WavePhase::PreSynced => "pre-synced",
            WavePhase::DeltaSyncing => "delta-syncing",
            WavePhase::Verifying => "verifying",
            WavePhase::Verified => "verified",
            WavePhase::CutOver => "cut-over",
            WavePhase::Done => "done",
            WavePhase::Held => "held",
            WavePhase::Halted => "halted",
            WavePhase::Failed => "failed",
            WavePhase::RolledBack => "rolled-back",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> WavePhase {
        WavePhase::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .unwrap_or(WavePhase::Planned)
    }

    /// Phases a restarted engine leaves alone.
    #[must_use]
    pub fn is_final(self) -> bool {
        matches!(self, WavePhase::Done | WavePhase::RolledBack)
    }
}

#[cfg(test)]
mod tests {
    use super::WavePhase;

    #[test]
    fn phases_round_trip_through_their_words() {
        for phase in WavePhase::ALL {
            assert_eq!(WavePhase::parse(phase.as_str()), phase);
        }
    }
}
