//! How front ends talk to a running engine: a watch channel of snapshots
//! and a command channel whose every request gets an answer.

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot, watch};

use super::snapshot::Snapshot;
use crate::control::{Action, Caller};

/// The engine's answer to a command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "kebab-case")]
pub enum Reply {
    Accepted { message: String },
    Refused { reason: String },
}

impl Reply {
    pub fn accepted(message: impl Into<String>) -> Self {
        Reply::Accepted {
            message: message.into(),
        }
    }

    pub fn refused(reason: impl Into<String>) -> Self {
        Reply::Refused {
            reason: reason.into(),
        }
    }

    #[must_use]
    pub fn is_accepted(&self) -> bool {
        matches!(self, Reply::Accepted { .. })
    }

    #[must_use]
    pub fn text(&self) -> &str {
        match self {
            Reply::Accepted { message } => message,
            Reply::Refused { reason } => reason,
        }
    }
}

/// A command on its way to the engine.
#[derive(Debug)]
pub struct Request {
    pub caller: Caller,
    pub action: Action,
    pub reply: oneshot::Sender<Reply>,
}

/// A front end's link to an in-process engine.
#[derive(Debug, Clone)]
pub struct Handle {
    pub snapshots: watch::Receiver<Option<Snapshot>>,
    pub commands: mpsc::Sender<Request>,
}

impl Handle {
    /// Sends a command and waits for the engine's decision.
    pub async fn send(&self, caller: Caller, action: Action) -> Reply {
        let (tx, rx) = oneshot::channel();
        if self
            .commands
            .send(Request {
                caller,
                action,
                reply: tx,
            })
            .await
            .is_err()
        {
            return Reply::refused("the engine has stopped");
        }
        rx.await
            .unwrap_or_else(|_| Reply::refused("the engine stopped before answering"))
    }
}

/// How a front end is connected to the engine, shown in its header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum ConnectionState {
    /// The engine runs in this process.
    Embedded,
    /// Attached over the control socket and receiving snapshots.
    Connected,
    /// The engine went away; the next try is in this many seconds.
    Reconnecting { next_try_secs: u64, attempt: u32 },
    /// Gave up, or the engine said it is finished and gone.
    Gone { reason: String },
}
