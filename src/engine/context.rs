//! What every mailbox worker shares: the plan, the journal, the metrics,
//! connection slots per server and the progress counters.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use tokio::sync::{Semaphore, mpsc};

use crate::journal::{Journal, MailboxPhase};
use crate::plan::{FolderMap, Plan};
use crate::telemetry::{Category, Metrics};

/// Something a watcher of a running sync may want to show.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Progress {
    /// A mailbox entered a phase.
    Phase {
        mailbox: String,
        phase: MailboxPhase,
    },
    /// Messages reached the destination.
    Copied {
        mailbox: String,
        messages: u64,
        bytes: u64,
    },
    /// A fault that will be retried.
    Retry {
        mailbox: String,
        category: Category,
        text: String,
        attempt: u32,
    },
    /// A mailbox finished its run, well or not.
    Finished {
        mailbox: String,
        phase: MailboxPhase,
        category: Option<Category>,
        text: Option<String>,
    },
}

/// Running totals since the engine started.
#[derive(Debug, Default)]
pub struct Counters {
    pub copied: AtomicU64,
    pub bytes: AtomicU64,
    pub skipped: AtomicU64,
    pub failed: AtomicU64,
    pub flags_updated: AtomicU64,
    pub folders_unchanged: AtomicU64,
}

impl Counters {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// Something told about every progress event.
type Listener = Box<dyn Fn(&Progress) + Send + Sync>;

/// Shared state of one engine run.
pub struct Context {
    pub plan: Arc<Plan>,
    pub journal: Arc<Journal>,
    pub metrics: Arc<Metrics>,
    pub folders: FolderMap,
    pub counters: Counters,
    /// Mailboxes worked on at once: the plan's connection budget divided by
    /// the folders each mailbox copies in parallel.
    pub mailbox_slots: Arc<Semaphore>,
    /// When this engine started, for throughput.
    pub started: std::time::Instant,
    progress: Vec<Listener>,
}

impl Context {
    pub fn new(plan: Arc<Plan>, journal: Arc<Journal>, metrics: Arc<Metrics>) -> Self {
        let c = &plan.concurrency;
        let slots = (c.connections_per_server / c.folders_per_mailbox.max(1)).max(1);
        Self {
            folders: FolderMap::new(plan.folders.clone()),
            plan,
            journal,
            metrics,
            counters: Counters::default(),
            mailbox_slots: Arc::new(Semaphore::new(slots)),
            started: std::time::Instant::now(),
            progress: Vec::new(),
        }
    }

    /// Sends progress events to `tx` from now on.
    #[must_use]
    pub fn with_progress(self, tx: mpsc::UnboundedSender<Progress>) -> Self {
        self.with_listener(move |event| {
            let _ = tx.send(event.clone());
        })
    }

    /// Calls `listener` with every progress event, synchronously, so state
    /// derived from events is current when a mailbox run returns.
    #[must_use]
    pub fn with_listener(mut self, listener: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.progress.push(Box::new(listener));
        self
    }

    pub fn emit(&self, event: &Progress) {
        for listener in &self.progress {
            listener(event);
        }
    }
}
