//! What the watcher publishes: per record, the state word, the answers behind
//! it, and a sentence the war room can show as is.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::config::NameserverRole;

/// Where a record stands on its way through a cutover.
///
/// The variants are in lifecycle order; [`RecordState::blocking_rank`] gives
/// the order the war room sorts by (what holds a wave first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecordState {
    /// An authoritative server publishes a TTL above the target: lower it.
    TtlHigh,
    /// The target TTL is published, but resolvers may still hold the old,
    /// longer TTL; `safe_at` says when they cannot any more.
    Lowering,
    /// Safe to switch: the low TTL has been in force longer than the old one.
    Ready,
    /// The authoritative servers answer the new value; no resolver is
    /// watched, so the old TTL has to run out before it counts as done.
    Switched,
    /// Some nameservers still answer the old value (listed in `lagging`).
    Propagating,
    /// Every nameserver answers the new value.
    Done,
    /// A nameserver answers a value that is neither the old nor the new one.
    Unexpected,
    /// No authoritative server answered (timeout, SERVFAIL, refused).
    Unreachable,
}

impl RecordState {
    /// The state word, as the plan, logs and JSON spell it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TtlHigh => "ttl-high",
            Self::Lowering => "lowering",
            Self::Ready => "ready",
            Self::Switched => "switched",
            Self::Propagating => "propagating",
            Self::Done => "done",
            Self::Unexpected => "unexpected",
            Self::Unreachable => "unreachable",
        }
    }

    /// A one-column glyph for terminals with Unicode.
    #[must_use]
    pub fn glyph(self) -> &'static str {
        match self {
            Self::TtlHigh => "▲",
            Self::Lowering => "↓",
            Self::Ready => "○",
            Self::Switched => "⇄",
            Self::Propagating => "…",
            Self::Done => "✓",
            Self::Unexpected => "≠",
            Self::Unreachable => "✗",
        }
    }

    /// The same glyph for `--ascii-only` terminals.
    #[must_use]
    pub fn ascii_glyph(self) -> &'static str {
        match self {
            Self::TtlHigh => "^",
            Self::Lowering => "v",
            Self::Ready => "o",
            Self::Switched => ">",
            Self::Propagating => "~",
            Self::Done => "+",
            Self::Unexpected => "!",
            Self::Unreachable => "x",
        }
    }

    /// Whether a wave whose record is in this state may cut over: the record
    /// is ready, or the switch has already happened.
    #[must_use]
    pub fn allows_cutover(self) -> bool {
        matches!(
            self,
            Self::Ready | Self::Switched | Self::Propagating | Self::Done
        )
    }

    /// Sort key: states that hold a wave come first, then the switch in
    /// progress, then what is finished.
    #[must_use]
    pub fn blocking_rank(self) -> u8 {
        match self {
            Self::Unreachable => 0,
            Self::TtlHigh => 1,
            Self::Lowering => 2,
            Self::Unexpected => 3,
            Self::Ready => 4,
            Self::Switched => 5,
            Self::Propagating => 6,
            Self::Done => 7,
        }
    }
}

impl std::fmt::Display for RecordState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One nameserver's answer for one record in one poll.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NameserverAnswer {
    /// The nameserver's label from the plan.
    pub nameserver: String,
    pub role: NameserverRole,
    /// The answered values in normal form, sorted; empty when the name or
    /// type does not exist.
    pub values: Vec<String>,
    /// The TTL as the server sent it (the negative-caching TTL for an empty
    /// answer); a resolver's is the time its cached copy has left.
    pub ttl: Option<u32>,
    /// When the answer arrived.
    pub at: DateTime<Utc>,
    /// Why there is no answer (timeout, SERVFAIL, refused…).
    pub error: Option<String>,
}

/// Everything the war room and the gate need to know about one record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordStatus {
    /// Lower case, without the trailing dot.
    pub name: String,
    /// `A`, `AAAA`, `CNAME`, `MX` or `TXT`.
    pub rtype: String,
    pub wave: Option<String>,
    pub tenant: Option<String>,
    pub state: RecordState,
    /// The latest answer of every configured nameserver.
    pub answers: Vec<NameserverAnswer>,
    /// When the old value can no longer be cached anywhere: the end of
    /// `lowering`, or the latest a lagging server can still hand out the old
    /// value while `switched`/`propagating`.
    pub safe_at: Option<DateTime<Utc>>,
    /// Nameservers that have not yet confirmed the new value.
    pub lagging: Vec<String>,
    /// The state explained in plain words, e.g. `mail.example.test TTL 3600 s > 300 s`.
    pub reason: String,
}
