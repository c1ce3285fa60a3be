//! Snapshots over the wire, compactly: the first message to a watcher is the
//! whole snapshot; after that only what changed — the small parts of the
//! snapshot, the mailbox rows that changed, and nothing at all but a
//! heartbeat when the engine is idle. At thousands of mailboxes this is the
//! difference between a usable SSH link and a saturated one.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::engine::Snapshot;
use crate::engine::snapshot::MailboxView;

/// What changed since the previous message to this watcher.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Update {
    /// The snapshot without its mailbox rows.
    pub rest: Box<Snapshot>,
    /// Mailbox rows that changed or are new.
    pub mailboxes: Vec<MailboxView>,
}

/// The sender's memory of what a watcher already has.
#[derive(Debug, Default)]
pub struct Encoder {
    last_rest: Option<Snapshot>,
    last_rows: HashMap<String, MailboxView>,
}

/// One message for a watcher.
#[derive(Debug)]
pub enum Frame {
    Full(Box<Snapshot>),
    Update(Update),
    /// Nothing changed but the time.
    Alive(chrono::DateTime<chrono::Utc>),
}

fn without_mailboxes(s: &Snapshot) -> Snapshot {
    Snapshot {
        mailboxes: Vec::new(),
        ..s.clone()
    }
}

impl Encoder {
    /// The message that brings the watcher from what it has to `snapshot`.
    pub fn next(&mut self, snapshot: &Snapshot) -> Frame {
        let rest = without_mailboxes(snapshot);
        let Some(last) = &self.last_rest else {
            self.remember(snapshot, rest);
            return Frame::Full(Box::new(snapshot.clone()));
        };
        let changed: Vec<MailboxView> = snapshot
            .mailboxes
            .iter()
            .filter(|m| self.last_rows.get(&m.source) != Some(*m))
            .cloned()
            .collect();
        let same_rest = Snapshot {
            taken_at: last.taken_at,
            ..rest.clone()
        } == *last;
        let frame = if same_rest && changed.is_empty() {
            Frame::Alive(snapshot.taken_at)
        } else {
            Frame::Update(Update {
                rest: Box::new(rest.clone()),
                mailboxes: changed,
            })
        };
        self.last_rest = Some(rest);
        for m in &snapshot.mailboxes {
            self.last_rows.insert(m.source.clone(), m.clone());
        }
        frame
    }

    fn remember(&mut self, snapshot: &Snapshot, rest: Snapshot) {
        self.last_rest = Some(rest);
        self.last_rows = snapshot
            .mailboxes
            .iter()
            .map(|m| (m.source.clone(), m.clone()))
            .collect();
    }
}

/// Rebuilds full snapshots on the receiving side.
#[derive(Debug, Default)]
pub struct Decoder {
    current: Option<Snapshot>,
}

impl Decoder {
    pub fn full(&mut self, snapshot: Snapshot) -> Snapshot {
        self.current = Some(snapshot.clone());
        snapshot
    }

    /// Applies an update; `None` until a full snapshot arrived.
    pub fn update(&mut self, update: Update) -> Option<Snapshot> {
        let current = self.current.as_mut()?;
        let rows = std::mem::take(&mut current.mailboxes);
        let mut index: HashMap<String, usize> = rows
            .iter()
            .enumerate()
            .map(|(i, m)| (m.source.clone(), i))
            .collect();
        let mut rows = rows;
        for m in update.mailboxes {
            if let Some(&i) = index.get(&m.source) {
                rows[i] = m;
            } else {
                index.insert(m.source.clone(), rows.len());
                rows.push(m);
            }
        }
        *current = Snapshot {
            mailboxes: rows,
            ..*update.rest
        };
        Some(current.clone())
    }

    /// A heartbeat: the data is current as of `at`.
    pub fn alive(&mut self, at: chrono::DateTime<chrono::Utc>) -> Option<Snapshot> {
        let current = self.current.as_mut()?;
        current.taken_at = at;
        Some(current.clone())
    }
}
