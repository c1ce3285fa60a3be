//! What the engine measures about itself: latency per IMAP operation and
//! server, operation and error counts, error categories with examples.
//!
//! Everything here is in memory and bounded; the journal keeps what must
//! survive a restart.

mod category;
pub mod cloudwatch;
pub mod config;
mod metrics;
pub mod outputs;
pub mod status_page;
pub mod webhooks;

pub use category::Category;
pub use cloudwatch::AlarmState;
pub use config::TelemetrySection;
pub use metrics::{ErrorExample, LatencySummary, Metrics, Op};
pub use outputs::{OutputState, OutputStatus, Outputs, start};
