//! The engine: moves mail, proves it arrived, and remembers everything in the
//! journal so that any crash resumes without losing or duplicating a message.
//!
//! It never imports the terminal UI; front ends read its reports and events.

mod commands;
mod context;
mod error;
mod folder_pass;
pub mod hash;
mod mailbox;
pub mod manifest;
mod probe;
mod recover;
mod sync;
mod verify;

pub use context::{Context, Counters, Progress};
pub use error::{EngineError, Result};
pub use mailbox::{MailboxResult, MailboxRun, run_mailbox};
pub use manifest::Manifest;
pub use probe::{MailboxProbe, probe_mailbox};
pub use sync::{SyncReport, register, report, run_all};
pub mod handle;
pub mod snapshot;

pub use handle::{ConnectionState, Handle, Reply, Request};
pub use snapshot::{EngineState, Snapshot};
mod cutover;
mod gates;
mod live;
mod rollback;
mod runbook;
mod runtime;
mod scheduler;
pub mod wave;

pub use gates::{GateKeeper, Stage, WaveFigures, held_reason};
pub use rollback::reverse_mailbox;
pub use runtime::{Engine, ExternalGate, OutputsView, RunOptions, TICK};
pub use wave::WavePhase;
