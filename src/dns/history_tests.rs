use chrono::{DateTime, TimeDelta, TimeZone, Utc};

use super::{Expectation, RecordHistory};
use crate::dns::config::NameserverRole;
use crate::dns::state::{NameserverAnswer, RecordState};

const OLD: &str = "127.0.0.1";
const NEW: &str = "127.0.0.2";
const ODD: &str = "127.0.0.9";
/// Marks an answer that failed (timeout) instead of a value.
const ERR: &str = "error";

/// `(nameserver, value, ttl)`; names starting with `r` are resolvers.
type Ans = (&'static str, &'static str, u32);

fn at(secs: i64) -> DateTime<Utc> {
    let base = Utc.with_ymd_and_hms(2025, 3, 1, 14, 0, 0).single();
    base.unwrap_or_default() + TimeDelta::seconds(secs)
}

fn expectation(resolvers_watched: bool) -> Expectation {
    Expectation {
        name: "mail.example.test".into(),
        before: vec![OLD.into()],
        after: vec![NEW.into()],
        target_ttl: 300,
        resolvers_watched,
    }
}

fn answer(&(nameserver, value, ttl): &Ans, secs: i64) -> NameserverAnswer {
    let role = if nameserver.starts_with('r') {
        NameserverRole::Resolver
    } else {
        NameserverRole::Authoritative
    };
    let failed = value == ERR;
    NameserverAnswer {
        nameserver: nameserver.into(),
        role,
        values: if failed || value.is_empty() {
            vec![]
        } else {
            vec![value.into()]
        },
        ttl: (!failed).then_some(ttl),
        at: at(secs),
        error: failed.then(|| "timed out".to_owned()),
    }
}

fn replay(rounds: &[(i64, &[Ans])], expected: &Expectation) -> RecordHistory {
    let mut history = RecordHistory::default();
    for (secs, answers) in rounds {
        let round = answers.iter().map(|a| answer(a, *secs)).collect();
        history.observe(round, expected, at(*secs));
    }
    history
}

struct Case {
    what: &'static str,
    resolvers: bool,
    rounds: &'static [(i64, &'static [Ans])],
    now: i64,
    state: RecordState,
    safe_at: Option<i64>,
    lagging: &'static [&'static str],
    says: &'static str,
}

const HIGH_THEN_LOW: &[(i64, &[Ans])] = &[(0, &[("ns1", OLD, 3600)]), (600, &[("ns1", OLD, 300)])];
const LOW_THEN_SWITCH: &[(i64, &[Ans])] = &[
    (0, &[("ns1", OLD, 300)]),
    (400, &[("ns1", OLD, 300)]),
    (1000, &[("ns1", NEW, 300)]),
];
const WITH_RESOLVER: &[(i64, &[Ans])] = &[
    (0, &[("ns1", OLD, 300), ("r1", OLD, 250)]),
    (400, &[("ns1", OLD, 300), ("r1", OLD, 100)]),
    (1000, &[("ns1", NEW, 300), ("r1", OLD, 200)]),
];

const CASES: &[Case] = &[
    Case {
        what: "an authoritative TTL above target",
        resolvers: false,
        rounds: &[(0, &[("ns1", OLD, 3600)])],
        now: 0,
        state: RecordState::TtlHigh,
        safe_at: None,
        lagging: &[],
        says: "mail.example.test TTL 3600 s > 300 s",
    },
    Case {
        what: "one of two authoritative servers still high",
        resolvers: false,
        rounds: &[(0, &[("ns1", OLD, 300), ("ns2", OLD, 3600)])],
        now: 0,
        state: RecordState::TtlHigh,
        safe_at: None,
        lagging: &[],
        says: "3600 s > 300 s",
    },
    Case {
        what: "lowered 12 minutes ago, the old 3600 s not yet run out",
        resolvers: false,
        rounds: HIGH_THEN_LOW,
        now: 600 + 12 * 60,
        state: RecordState::Lowering,
        safe_at: Some(600 + 3600),
        lagging: &[],
        says: "TTL lowered 12 min ago, safe at 15:10Z",
    },
    Case {
        what: "the old TTL has run out since the lowering",
        resolvers: false,
        rounds: HIGH_THEN_LOW,
        now: 600 + 3600,
        state: RecordState::Ready,
        safe_at: Some(600 + 3600),
        lagging: &[],
        says: "safe to switch",
    },
    Case {
        what: "never seen high: the first TTL seen must run out",
        resolvers: false,
        rounds: &[(0, &[("ns1", OLD, 300)])],
        now: 299,
        state: RecordState::Lowering,
        safe_at: Some(300),
        lagging: &[],
        says: "safe at 14:05Z",
    },
    Case {
        what: "raised again after a lowering: the wait starts over",
        resolvers: false,
        rounds: &[
            (0, &[("ns1", OLD, 300)]),
            (100, &[("ns1", OLD, 3600)]),
            (200, &[("ns1", OLD, 300)]),
        ],
        now: 3000,
        state: RecordState::Lowering,
        safe_at: Some(200 + 3600),
        lagging: &[],
        says: "lowered 46 min ago",
    },
    Case {
        what: "switched with no resolver watched: wait out the old TTL",
        resolvers: false,
        rounds: LOW_THEN_SWITCH,
        now: 1100,
        state: RecordState::Switched,
        safe_at: Some(1300),
        lagging: &[],
        says: "caches may hold the old value until 14:21:40Z",
    },
    Case {
        what: "switched and the old TTL has run out",
        resolvers: false,
        rounds: LOW_THEN_SWITCH,
        now: 1300,
        state: RecordState::Done,
        safe_at: Some(1300),
        lagging: &[],
        says: "old TTL ran out",
    },
    Case {
        what: "switched before the lowering had run out: that deadline wins",
        resolvers: false,
        rounds: &[
            (0, &[("ns1", OLD, 3600)]),
            (100, &[("ns1", OLD, 300)]),
            (200, &[("ns1", NEW, 300)]),
        ],
        now: 300,
        state: RecordState::Switched,
        safe_at: Some(100 + 3600),
        lagging: &[],
        says: "switched",
    },
    Case {
        what: "a resolver still answers the old value",
        resolvers: true,
        rounds: WITH_RESOLVER,
        now: 1100,
        state: RecordState::Propagating,
        safe_at: Some(1300),
        lagging: &["r1"],
        says: "r1 still answers the old value, at most until 14:21:40Z",
    },
    Case {
        what: "a resolver lags past the old TTL",
        resolvers: true,
        rounds: WITH_RESOLVER,
        now: 2000,
        state: RecordState::Propagating,
        safe_at: Some(1300),
        lagging: &["r1"],
        says: "although the old TTL ran out",
    },
    Case {
        what: "every nameserver answers the new value",
        resolvers: true,
        rounds: &[
            (0, &[("ns1", OLD, 300), ("r1", OLD, 20)]),
            (900, &[("ns1", NEW, 300), ("r1", NEW, 300)]),
        ],
        now: 900,
        state: RecordState::Done,
        safe_at: Some(1200),
        lagging: &[],
        says: "every nameserver answers the new value",
    },
    Case {
        what: "one authoritative switched, the other not yet",
        resolvers: false,
        rounds: &[
            (0, &[("ns1", OLD, 300), ("ns2", OLD, 300)]),
            (900, &[("ns1", NEW, 300), ("ns2", OLD, 300)]),
        ],
        now: 900,
        state: RecordState::Propagating,
        safe_at: Some(1200),
        lagging: &["ns2"],
        says: "ns2 still answers the old value",
    },
    Case {
        what: "a silent resolver after the switch is lagging, not fatal",
        resolvers: true,
        rounds: &[
            (0, &[("ns1", OLD, 300), ("r1", OLD, 20)]),
            (900, &[("ns1", NEW, 300), ("r1", ERR, 0)]),
        ],
        now: 900,
        state: RecordState::Propagating,
        safe_at: Some(1200),
        lagging: &["r1"],
        says: "r1 did not answer",
    },
    Case {
        what: "an authoritative answer that is neither old nor new",
        resolvers: false,
        rounds: &[(0, &[("ns1", ODD, 300)])],
        now: 0,
        state: RecordState::Unexpected,
        safe_at: None,
        lagging: &[],
        says: "ns1 answers 127.0.0.9 for mail.example.test, neither",
    },
    Case {
        what: "a resolver answering a third value",
        resolvers: true,
        rounds: &[(0, &[("ns1", OLD, 300), ("r1", ODD, 300)])],
        now: 0,
        state: RecordState::Unexpected,
        safe_at: None,
        lagging: &[],
        says: "r1 answers 127.0.0.9",
    },
    Case {
        what: "a missing record is unexpected",
        resolvers: false,
        rounds: &[(0, &[("ns1", "", 60)])],
        now: 0,
        state: RecordState::Unexpected,
        safe_at: None,
        lagging: &[],
        says: "answers nothing",
    },
    Case {
        what: "no authoritative server answered",
        resolvers: true,
        rounds: &[(0, &[("ns1", ERR, 0), ("r1", OLD, 300)])],
        now: 0,
        state: RecordState::Unreachable,
        safe_at: None,
        lagging: &[],
        says: "no authoritative nameserver answered for mail.example.test: ns1: timed out",
    },
    Case {
        what: "one authoritative silent: the other decides, and the reason says so",
        resolvers: false,
        rounds: &[(0, &[("ns1", OLD, 300), ("ns2", ERR, 0)])],
        now: 300,
        state: RecordState::Ready,
        safe_at: Some(300),
        lagging: &[],
        says: "(ns2 did not answer)",
    },
    Case {
        what: "not polled yet",
        resolvers: false,
        rounds: &[],
        now: 0,
        state: RecordState::Unreachable,
        safe_at: None,
        lagging: &[],
        says: "not checked yet",
    },
    Case {
        what: "rolled back to the old value: ready again",
        resolvers: false,
        rounds: &[
            (0, &[("ns1", OLD, 300)]),
            (400, &[("ns1", NEW, 300)]),
            (500, &[("ns1", OLD, 300)]),
        ],
        now: 600,
        state: RecordState::Ready,
        safe_at: Some(300),
        lagging: &[],
        says: "safe to switch",
    },
];

#[test]
fn states_follow_the_observations_and_the_clock() {
    for case in CASES {
        let expected = expectation(case.resolvers);
        let history = replay(case.rounds, &expected);
        let verdict = history.verdict(&expected, at(case.now));
        assert_eq!(
            verdict.state, case.state,
            "{}: {}",
            case.what, verdict.reason
        );
        assert_eq!(verdict.safe_at, case.safe_at.map(at), "{}", case.what);
        assert_eq!(verdict.lagging, case.lagging, "{}", case.what);
        assert!(
            verdict.reason.contains(case.says),
            "{}: `{}` does not contain `{}`",
            case.what,
            verdict.reason,
            case.says
        );
    }
}

#[test]
fn a_record_created_by_the_cutover_waits_out_its_negative_ttl() {
    let expected = Expectation {
        before: vec![],
        ..expectation(false)
    };
    let history = replay(&[(0, &[("ns1", "", 60)])], &expected);
    let verdict = history.verdict(&expected, at(30));
    assert_eq!(verdict.state, RecordState::Lowering, "{}", verdict.reason);
    assert_eq!(verdict.safe_at, Some(at(60)));
    let high = replay(&[(0, &[("ns1", "", 3600)])], &expected);
    let verdict = high.verdict(&expected, at(0));
    assert_eq!(verdict.state, RecordState::TtlHigh);
    assert!(
        verdict.reason.contains("does not exist yet"),
        "{}",
        verdict.reason
    );
}
