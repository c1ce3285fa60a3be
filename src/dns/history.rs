//! The facts a record's state is derived from, folded from poll to poll, and
//! the derivation itself. Both are pure: the clock comes in as an argument, so
//! the unit tests can replay an hour of TTL arithmetic in microseconds.
//!
//! Only authoritative answers move the TTL facts: they publish the TTL that
//! resolvers copy. Resolvers only tell how far a switch has travelled.

use chrono::{DateTime, TimeDelta, Utc};

use super::config::NameserverRole;
use super::state::{NameserverAnswer, RecordState};
use super::words;

/// What one record should look like, in the form answers are compared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    /// Lower case, without the trailing dot (for reasons).
    pub name: String,
    /// Normalised and sorted, like [`NameserverAnswer::values`].
    pub before: Vec<String>,
    pub after: Vec<String>,
    pub target_ttl: u32,
    /// Whether any non-authoritative nameserver is watched; without one the
    /// watcher can only wait out the old TTL after the switch.
    pub resolvers_watched: bool,
}

/// A derived state with its explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub state: RecordState,
    pub safe_at: Option<DateTime<Utc>>,
    pub lagging: Vec<String>,
    pub reason: String,
}

/// What the polls so far have shown about one record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordHistory {
    latest: Vec<NameserverAnswer>,
    /// The highest TTL the authoritative servers published for the old
    /// value: resolvers may have cached that long just before the lowering.
    highest_ttl: Option<u32>,
    /// When every authoritative server was first seen at or below the target
    /// (reset if one goes back above it).
    low_since: Option<DateTime<Utc>>,
    /// The old value's TTL in the last poll before the switch.
    old_ttl: Option<u32>,
    /// When an authoritative server was first seen answering the new value.
    switched_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    Before,
    After,
    Neither,
}

fn seen(answer: &NameserverAnswer, expected: &Expectation) -> Seen {
    if answer.values == expected.after {
        Seen::After
    } else if answer.values == expected.before {
        Seen::Before
    } else {
        Seen::Neither
    }
}

fn seconds(ttl: u32) -> TimeDelta {
    TimeDelta::seconds(i64::from(ttl))
}

fn answered(answers: &[NameserverAnswer]) -> impl Iterator<Item = &NameserverAnswer> {
    answers.iter().filter(|answer| answer.error.is_none())
}

fn authoritative(answers: &[NameserverAnswer]) -> impl Iterator<Item = &NameserverAnswer> {
    answered(answers).filter(|answer| answer.role == NameserverRole::Authoritative)
}

impl RecordHistory {
    /// The answers of the latest poll.
    #[must_use]
    pub fn latest(&self) -> &[NameserverAnswer] {
        &self.latest
    }

    /// Folds one poll's answers (one per nameserver) into the facts.
    pub fn observe(
        &mut self,
        round: Vec<NameserverAnswer>,
        expected: &Expectation,
        at: DateTime<Utc>,
    ) {
        let kinds: Vec<(Seen, u32)> = authoritative(&round)
            .map(|answer| (seen(answer, expected), answer.ttl.unwrap_or(0)))
            .collect();
        let any_after = kinds.iter().any(|(kind, _)| *kind == Seen::After);
        let all_before = !kinds.is_empty() && kinds.iter().all(|(kind, _)| *kind == Seen::Before);
        if any_after {
            self.switched_at.get_or_insert(at);
        } else if all_before {
            let ttl = kinds.iter().map(|(_, ttl)| *ttl).max().unwrap_or(0);
            self.switched_at = None;
            self.old_ttl = Some(ttl);
            self.highest_ttl = Some(self.highest_ttl.map_or(ttl, |high| high.max(ttl)));
            if ttl > expected.target_ttl {
                self.low_since = None;
            } else {
                self.low_since.get_or_insert(at);
            }
        }
        self.latest = round;
    }

    /// The record's state at `now`.
    #[must_use]
    pub fn verdict(&self, expected: &Expectation, now: DateTime<Utc>) -> Verdict {
        let name = &expected.name;
        if self.latest.is_empty() {
            return verdict(RecordState::Unreachable, format!("{name} not checked yet"));
        }
        if authoritative(&self.latest).next().is_none() {
            return verdict(
                RecordState::Unreachable,
                format!(
                    "no authoritative nameserver answered for {name}: {}",
                    self.failures()
                ),
            );
        }
        let odd: Vec<&NameserverAnswer> = answered(&self.latest)
            .filter(|answer| seen(answer, expected) == Seen::Neither)
            .collect();
        if let Some(first) = odd.first() {
            let more = match odd.len() {
                1 => String::new(),
                n => format!(" (and {} more nameservers)", n - 1),
            };
            return verdict(
                RecordState::Unexpected,
                format!(
                    "{} answers {} for {name}, neither the old nor the new value{more}",
                    first.nameserver,
                    words::values(&first.values)
                ),
            );
        }
        if authoritative(&self.latest).any(|answer| seen(answer, expected) == Seen::After) {
            self.after_switch(expected, now)
        } else {
            self.before_switch(expected, now)
        }
    }

    fn before_switch(&self, expected: &Expectation, now: DateTime<Utc>) -> Verdict {
        let name = &expected.name;
        let target = expected.target_ttl;
        let ttl = authoritative(&self.latest)
            .map(|answer| answer.ttl.unwrap_or(0))
            .max()
            .unwrap_or(0);
        let silent = self.silent_authoritative();
        let empty = authoritative(&self.latest).all(|answer| answer.values.is_empty());
        let subject = if empty {
            format!("{name} does not exist yet; its negative-caching")
        } else {
            name.clone()
        };
        if ttl > target {
            return verdict(
                RecordState::TtlHigh,
                format!("{subject} TTL {ttl} s > {target} s{silent}"),
            );
        }
        let low_since = self.low_since.unwrap_or(now);
        let safe_at = low_since + seconds(self.highest_ttl.unwrap_or(ttl).max(ttl));
        let (state, reason) = if now >= safe_at {
            (
                RecordState::Ready,
                format!(
                    "{subject} TTL {ttl} s (target {target} s) since {}; safe to switch{silent}",
                    words::clock(low_since)
                ),
            )
        } else {
            (
                RecordState::Lowering,
                format!(
                    "{name} TTL lowered {} ago, safe at {}{silent}",
                    words::duration(now - low_since),
                    words::clock(safe_at)
                ),
            )
        };
        Verdict {
            state,
            safe_at: Some(safe_at),
            lagging: Vec::new(),
            reason,
        }
    }

    fn after_switch(&self, expected: &Expectation, now: DateTime<Utc>) -> Verdict {
        let switched_at = self.switched_at.unwrap_or(now);
        let mut deadline = switched_at + seconds(self.old_ttl.unwrap_or(expected.target_ttl));
        if let (Some(low_since), Some(high)) = (self.low_since, self.highest_ttl) {
            deadline = deadline.max(low_since + seconds(high));
        }
        let old: Vec<String> = answered(&self.latest)
            .filter(|answer| seen(answer, expected) == Seen::Before)
            .map(|answer| answer.nameserver.clone())
            .collect();
        let silent: Vec<String> = self
            .latest
            .iter()
            .filter(|answer| answer.error.is_some())
            .map(|answer| answer.nameserver.clone())
            .collect();
        let until = words::clock(deadline);
        if old.is_empty() && silent.is_empty() {
            let (state, reason) = if expected.resolvers_watched {
                (
                    RecordState::Done,
                    format!(
                        "every nameserver answers the new value for {}",
                        expected.name
                    ),
                )
            } else if now >= deadline {
                (
                    RecordState::Done,
                    format!("{} switched; the old TTL ran out at {until}", expected.name),
                )
            } else {
                (
                    RecordState::Switched,
                    format!(
                        "{} switched; caches may hold the old value until {until}",
                        expected.name
                    ),
                )
            };
            return Verdict {
                state,
                safe_at: Some(deadline),
                lagging: Vec::new(),
                reason,
            };
        }
        let mut parts = Vec::new();
        if !silent.is_empty() {
            parts.push(format!("{} did not answer", words::list(&silent)));
        }
        if !old.is_empty() {
            let verb = if old.len() == 1 { "answers" } else { "answer" };
            let when = if now > deadline {
                format!("although the old TTL ran out at {until}")
            } else {
                format!("at most until {until}")
            };
            parts.push(format!(
                "{} still {verb} the old value, {when}",
                words::list(&old)
            ));
        }
        Verdict {
            state: RecordState::Propagating,
            safe_at: Some(deadline),
            lagging: old.into_iter().chain(silent).collect(),
            reason: parts.join("; "),
        }
    }

    /// `ns1: timed out; ns2: SERVFAIL` for every failed authoritative server.
    fn failures(&self) -> String {
        let failed: Vec<String> = self
            .latest
            .iter()
            .filter(|answer| answer.role == NameserverRole::Authoritative)
            .filter_map(|answer| {
                let error = answer.error.as_ref()?;
                Some(format!("{}: {error}", answer.nameserver))
            })
            .collect();
        if failed.is_empty() {
            "none is configured".to_owned()
        } else {
            failed.join("; ")
        }
    }

    /// ` (ns1b did not answer)` when an authoritative server failed while
    /// others answered, so a `ready` resting on fewer servers says so.
    fn silent_authoritative(&self) -> String {
        let silent: Vec<String> = self
            .latest
            .iter()
            .filter(|answer| answer.role == NameserverRole::Authoritative && answer.error.is_some())
            .map(|answer| answer.nameserver.clone())
            .collect();
        if silent.is_empty() {
            String::new()
        } else {
            format!(" ({} did not answer)", words::list(&silent))
        }
    }
}

fn verdict(state: RecordState, reason: String) -> Verdict {
    Verdict {
        state,
        safe_at: None,
        lagging: Vec::new(),
        reason,
    }
}

#[cfg(test)]
#[path = "history_tests.rs"]
mod tests;
