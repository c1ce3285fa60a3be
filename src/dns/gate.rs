//! Whether a wave may cut over, and whether it is finished, judged from
//! published statuses alone, so the engine can decide from the watch channel
//! without holding the watcher.
//!
//! A record belongs to a wave when it names the wave, or names a tenant of the
//! wave. A record that names neither is shared (the company MX, say): its TTL
//! must be low before any wave cuts over, but no single wave's completion
//! waits for it.

use std::cmp::Ordering;

use super::state::RecordStatus;

/// The order the war room lists records in: what holds a wave first, then
/// the soonest to become safe, then by name.
#[must_use]
pub fn blocking_first(a: &RecordStatus, b: &RecordStatus) -> Ordering {
    a.state
        .blocking_rank()
        .cmp(&b.state.blocking_rank())
        .then_with(|| match (a.safe_at, b.safe_at) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        })
        .then_with(|| a.name.cmp(&b.name))
        .then_with(|| a.rtype.cmp(&b.rtype))
}

/// Whether the record is one of the wave's own (by wave or by tenant).
fn owned_by(status: &RecordStatus, wave: &str, tenants: &[String]) -> bool {
    status.wave.as_deref() == Some(wave)
        || status
            .tenant
            .as_ref()
            .is_some_and(|tenant| tenants.contains(tenant))
}

fn shared(status: &RecordStatus) -> bool {
    status.wave.is_none() && status.tenant.is_none()
}

/// `Some("held: <reason>")` while any record gating the wave is not yet
/// `ready` (or already switched); `None` when the wave may go.
///
/// This does not know whether gating is switched on: the caller checks
/// [`super::DnsSection::gate_enabled`] (the [`super::Watcher::gate`] method
/// does both).
#[must_use]
pub fn gate_reason(statuses: &[RecordStatus], wave: &str, tenants: &[String]) -> Option<String> {
    let mut holding: Vec<&RecordStatus> = statuses
        .iter()
        .filter(|status| owned_by(status, wave, tenants) || shared(status))
        .filter(|status| !status.state.allows_cutover())
        .collect();
    holding.sort_by(|a, b| blocking_first(a, b));
    let first = holding.first()?;
    let more = match holding.len() {
        1 => String::new(),
        2 => " (and 1 more record)".to_owned(),
        n => format!(" (and {} more records)", n - 1),
    };
    Some(format!("held: {}{more}", first.reason))
}

/// Whether every record of the wave's own answers the new value everywhere.
/// A wave without records of its own is done as far as DNS is concerned.
#[must_use]
pub fn wave_records_done(statuses: &[RecordStatus], wave: &str, tenants: &[String]) -> bool {
    statuses
        .iter()
        .filter(|status| owned_by(status, wave, tenants))
        .all(|status| status.state == super::state::RecordState::Done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::state::RecordState;

    fn status(
        name: &str,
        wave: Option<&str>,
        tenant: Option<&str>,
        state: RecordState,
    ) -> RecordStatus {
        RecordStatus {
            name: name.into(),
            rtype: "A".into(),
            wave: wave.map(Into::into),
            tenant: tenant.map(Into::into),
            state,
            answers: vec![],
            safe_at: None,
            lagging: vec![],
            reason: format!("{name} is {state}"),
        }
    }

    #[test]
    fn a_wave_is_held_by_its_own_records_its_tenants_and_shared_ones() {
        let acme = vec!["acme".to_owned()];
        let statuses = [
            status("pilot.test", Some("pilot"), None, RecordState::Ready),
            status("acme.test", None, Some("acme"), RecordState::Lowering),
            status("other.test", Some("later"), None, RecordState::TtlHigh),
        ];
        assert_eq!(
            gate_reason(&statuses, "pilot", &acme).as_deref(),
            Some("held: acme.test is lowering")
        );
        assert_eq!(gate_reason(&statuses, "pilot", &[]), None);
        assert!(gate_reason(&statuses, "later", &[]).is_some());

        let with_shared = [
            status("mx.test", None, None, RecordState::TtlHigh),
            status("pilot.test", Some("pilot"), None, RecordState::Unreachable),
        ];
        assert_eq!(
            gate_reason(&with_shared, "pilot", &[]).as_deref(),
            Some("held: pilot.test is unreachable (and 1 more record)")
        );
    }

    #[test]
    fn switched_records_do_not_hold_and_done_needs_every_own_record() {
        let statuses = [
            status("a.test", Some("pilot"), None, RecordState::Propagating),
            status("b.test", Some("pilot"), None, RecordState::Done),
            status("mx.test", None, None, RecordState::Ready),
        ];
        assert_eq!(gate_reason(&statuses, "pilot", &[]), None);
        assert!(!wave_records_done(&statuses, "pilot", &[]));
        assert!(wave_records_done(&statuses[1..], "pilot", &[]));
        assert!(wave_records_done(&statuses, "no-records", &[]));
    }

    #[test]
    fn blocking_states_sort_first() {
        let mut statuses = [
            status("d.test", None, None, RecordState::Done),
            status("r.test", None, None, RecordState::Ready),
            status("u.test", None, None, RecordState::Unexpected),
            status("h.test", None, None, RecordState::TtlHigh),
            status("x.test", None, None, RecordState::Unreachable),
        ];
        statuses.sort_by(blocking_first);
        let names: Vec<&str> = statuses.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["x.test", "h.test", "u.test", "r.test", "d.test"]);
    }
}
