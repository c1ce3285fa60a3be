//! DNS TTL state: watches the records that move users (MX, autodiscover, the
//! IMAP/SMTP host names) at the nameservers the plan names, and gates a wave's
//! cutover on them.
//!
//! Before a switch, the published TTL must be low and the old, longer TTL must
//! have run out, or clients keep reaching the old servers for hours. After the
//! switch, every watched nameserver must answer the new value before the wave
//! counts as done. [`Watcher`] polls and derives a [`RecordState`] per record;
//! [`gate_reason`] and [`wave_records_done`] answer the engine's questions from
//! the published [`RecordStatus`] list alone.

pub mod config;
pub mod gate;
mod history;
mod probe;
pub mod state;
mod validate;
pub mod value;
pub mod watcher;
mod words;

pub use config::{DnsSection, NameserverConfig, NameserverRole, RecordConfig};
pub use gate::{gate_reason, wave_records_done};
pub use state::{NameserverAnswer, RecordState, RecordStatus};
pub use validate::Problem;
pub use watcher::{Clock, SystemClock, Watcher};
