//! The control socket's messages: one JSON object per line each way.

use serde::{Deserialize, Serialize};

use super::actions::Action;
use super::identity::Caller;
use crate::engine::{Reply, Snapshot};

/// What a client asks.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum ClientMessage {
    /// One snapshot now.
    Snapshot,
    /// Snapshots from now on, as they change (at most one per tick).
    Watch,
    /// An operator command; the engine decides from the peer's uid.
    Command { action: Action },
    /// Who the engine thinks the caller is.
    Whoami,
}

/// What the engine answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum ServerMessage {
    Snapshot {
        snapshot: Box<Snapshot>,
    },
    /// What changed since the last message on a watch stream.
    Update {
        update: super::delta::Update,
    },
    /// Nothing changed; the engine is alive and its data current at `at`.
    Alive {
        at: chrono::DateTime<chrono::Utc>,
    },
    Reply {
        reply: Reply,
        caller: Caller,
    },
    Whoami {
        caller: Caller,
    },
    Error {
        message: String,
    },
}
