//! What the engine measures about itself: latency per IMAP operation and
//! server, operation and error counts, error categories with examples.
//!
//! Everything here is in memory and bounded; the journal keeps what must
//! survive a restart.

mod category;
mod metrics;

pub use category::Category;
pub use metrics::{ErrorExample, LatencySummary, Metrics, Op};
