//! Watchers receive the whole snapshot once, then only what changed; the
//! receiving side rebuilds exactly the engine's snapshot.

use cutover::control::delta::{Decoder, Encoder, Frame};
use cutover::engine::snapshot::MailboxView;
use cutover::journal::MailboxPhase;
use cutover::tui::demo_snapshot;

fn apply(decoder: &mut Decoder, frame: Frame) -> Option<cutover::engine::Snapshot> {
    match frame {
        Frame::Full(s) => Some(decoder.full(*s)),
        Frame::Update(u) => decoder.update(u),
        Frame::Alive(at) => decoder.alive(at),
    }
}

#[test]
fn updates_rebuild_the_snapshot_and_idle_ticks_send_only_a_heartbeat() {
    let mut encoder = Encoder::default();
    let mut decoder = Decoder::default();
    let first = demo_snapshot();
    let frame = encoder.next(&first);
    assert!(matches!(frame, Frame::Full(_)));
    assert_eq!(apply(&mut decoder, frame).as_ref(), Some(&first));

    let mut idle = first.clone();
    idle.taken_at += chrono::Duration::seconds(1);
    let frame = encoder.next(&idle);
    assert!(matches!(frame, Frame::Alive(_)), "{frame:?}");
    assert_eq!(apply(&mut decoder, frame).as_ref(), Some(&idle));

    let mut busy = idle.clone();
    busy.taken_at += chrono::Duration::seconds(1);
    busy.copied += 10;
    busy.mailboxes[0].copied += 10;
    busy.mailboxes[0].phase = MailboxPhase::Verified;
    busy.mailboxes.push(MailboxView {
        source: "late@example".into(),
        ..busy.mailboxes[1].clone()
    });
    let frame = encoder.next(&busy);
    match &frame {
        Frame::Update(u) => assert_eq!(u.mailboxes.len(), 2, "only the changed and the new row"),
        other => panic!("expected an update, got {other:?}"),
    }
    assert_eq!(apply(&mut decoder, frame).as_ref(), Some(&busy));
}

#[test]
fn an_update_before_any_full_snapshot_is_ignored() {
    let mut encoder = Encoder::default();
    let s = demo_snapshot();
    let _ = encoder.next(&s);
    let mut s2 = s.clone();
    s2.copied += 1;
    let frame = encoder.next(&s2);
    let mut fresh = Decoder::default();
    assert!(apply(&mut fresh, frame).is_none());
}
