//! A realistic snapshot for tests, benches and screenshots: four waves, one
//! of them held by the latency gate, errors in four categories, latency with
//! one operation over its limit, thirty mailboxes, events, audit entries, a
//! maintenance window that was extended once, three runbook steps (one done,
//! one with a failing check, one open) and telemetry with a failing webhook.

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::dns::{NameserverAnswer, NameserverRole, RecordState, RecordStatus};
use crate::engine::snapshot::{
    ErrorCount, EventView, GateView, MailboxView, OutputView, StepView, ThresholdView, WaveView,
    WindowView,
};
use crate::engine::{EngineState, Snapshot};
use crate::journal::{AuditEntry, Extension, MailboxPhase};
use crate::telemetry::{Category, ErrorExample, LatencySummary, Op};

/// When the demo snapshot was taken: a Saturday night, 23:47:30 UTC.
#[must_use]
pub fn demo_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 14, 23, 47, 30)
        .single()
        .unwrap_or_default()
}

fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
    let day = if h < 12 { 15 } else { 14 };
    Utc.with_ymd_and_hms(2025, 6, day, h, m, s)
        .single()
        .unwrap_or_default()
}

fn stamp(h: u32, m: u32, s: u32) -> String {
    at(h, m, s).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub const HELD_REASON: &str = "held: p95 APPEND 840 ms > 500 ms for 3 min";

/// The demo snapshot; see the module documentation.
#[must_use]
pub fn demo_snapshot() -> Snapshot {
    let mailboxes = mailboxes();
    Snapshot {
        plan: "acme-globex-weekend".into(),
        taken_at: demo_time(),
        state: EngineState::Running,
        halted: false,
        waves: waves(),
        errors: vec![
            ErrorCount {
                category: Category::Timeout,
                count: 14,
            },
            ErrorCount {
                category: Category::Connection,
                count: 5,
            },
            ErrorCount {
                category: Category::OverQuota,
                count: 3,
            },
            ErrorCount {
                category: Category::ChecksumMismatch,
                count: 1,
            },
        ],
        error_examples: error_examples(),
        latency: latency(),
        thresholds: ThresholdView {
            max_error_rate: 0.02,
            max_p95_append_ms: 500,
            max_p95_fetch_ms: 800,
            window_secs: 180,
        },
        gates: vec![
            GateView {
                wave: "wave-1-acme".into(),
                gate: "error-rate".into(),
                open: true,
                reason: None,
            },
            GateView {
                wave: "wave-2-globex".into(),
                gate: "latency".into(),
                open: false,
                reason: Some(HELD_REASON.into()),
            },
        ],
        window: Some(WindowView {
            start: at(22, 0, 0),
            end: at(4, 30, 0),
            planned_end: at(4, 0, 0),
            extensions: vec![Extension {
                at: stamp(23, 20, 11),
                minutes: 30,
                reason: "globex pre-sync slower than planned".into(),
                user: "alice".into(),
            }],
            forecast_end: Some(at(3, 55, 0)),
        }),
        events: events(),
        audit: audit(),
        messages_per_sec: 212.5,
        bytes_per_sec: 9_800_000.0,
        copied: mailboxes.iter().map(|m| m.copied).sum(),
        bytes: mailboxes.iter().map(|m| m.bytes).sum(),
        mailboxes,
        dns: demo_dns(),
        runbook: runbook(),
        outputs: outputs(),
    }
}

/// Steps of two waves: one ticked by its owner, one whose check fails, one
/// open for any operator.
#[must_use]
pub fn runbook() -> Vec<StepView> {
    let step = |wave: &str, step, title: &str, stage: &str, owner: &str| StepView {
        wave: wave.into(),
        step,
        title: title.into(),
        stage: stage.into(),
        owner: owner.into(),
        done: false,
        ticked_by: None,
        ticked_at: None,
        check: None,
        check_exit: None,
        check_output: None,
        checked_at: None,
    };
    vec![
        StepView {
            done: true,
            ticked_by: Some("olga".into()),
            ticked_at: Some(stamp(22, 14, 5)),
            ..step(
                "wave-1-acme",
                0,
                "Lower the TTL of imap.acme.example",
                "before-delta",
                "olga",
            )
        },
        StepView {
            check: Some("scripts/check-mdm-profile globex".into()),
            check_exit: Some(1),
            check_output: Some(
                "profile missing\nmdm.globex.example lists no \"Globex Mail 2025\" profile".into(),
            ),
            checked_at: Some(stamp(23, 45, 12)),
            ..step(
                "wave-2-globex",
                0,
                "Publish the new mobile profile",
                "before-cutover",
                "carol",
            )
        },
        step(
            "wave-2-globex",
            1,
            "Tell the helpdesk who moves tonight",
            "before-cutover",
            "any operator",
        ),
    ]
}

/// Telemetry outputs: `CloudWatch` and the status page healthy, the webhook
/// failing, one alarm quiet.
#[must_use]
pub fn outputs() -> Vec<OutputView> {
    let output = |name: &str, state: &str, detail: Option<&str>| OutputView {
        name: name.into(),
        state: state.into(),
        detail: detail.map(Into::into),
    };
    vec![
        output("cloudwatch", "ok", None),
        output("status-page", "ok", None),
        output(
            "webhook",
            "failing",
            Some("HTTP 502 from hooks.acme.example"),
        ),
        output("alarm cutover-append-p95", "OK", None),
    ]
}

fn waves() -> Vec<WaveView> {
    let wave = |name: &str, phase: &str, owner: &str, counts: [u32; 4]| WaveView {
        name: name.into(),
        phase: phase.into(),
        reason: None,
        owner: Some(owner.into()),
        mailboxes: counts[0],
        done: counts[1],
        verified: counts[2],
        failed: counts[3],
        messages: 0,
        bytes: 0,
        eta_secs: None,
    };
    vec![
        WaveView {
            messages: 18_204,
            bytes: 1_940_000_000,
            ..wave("pilot", "done", "alice", [4, 4, 4, 0])
        },
        WaveView {
            messages: 41_377,
            bytes: 5_210_000_000,
            eta_secs: Some(42 * 60),
            ..wave("wave-1-acme", "delta-syncing", "bob", [12, 7, 6, 1])
        },
        WaveView {
            reason: Some(HELD_REASON.into()),
            ..wave("wave-2-globex", "held", "carol", [8, 0, 0, 0])
        },
        wave("wave-3-initech", "planned", "dave", [6, 0, 0, 0]),
    ]
}

fn mailboxes() -> Vec<MailboxView> {
    use MailboxPhase::{DeltaSyncing, Failed, Paused, Pending, PreSynced, Verified, Verifying};
    let rows: [(&str, &str, &str, MailboxPhase, u64); 30] = [
        ("it.desk", "acme", "pilot", Verified, 3_120),
        ("ana.silva", "acme", "pilot", Verified, 5_877),
        ("jon.kerr", "acme", "pilot", Verified, 4_410),
        ("mia.lund", "acme", "pilot", Verified, 4_797),
        ("sara.berg", "acme", "wave-1-acme", Verified, 2_418),
        ("tom.reyes", "acme", "wave-1-acme", Verified, 6_031),
        ("eva.novak", "acme", "wave-1-acme", Verified, 3_377),
        ("raj.patel", "acme", "wave-1-acme", Verified, 8_912),
        ("lena.koch", "acme", "wave-1-acme", Verified, 1_204),
        ("paul.dubois", "acme", "wave-1-acme", Verified, 4_656),
        ("li.wei", "acme", "wave-1-acme", Failed, 3_980),
        ("omar.haddad", "acme", "wave-1-acme", Paused, 2_245),
        ("nina.ross", "acme", "wave-1-acme", DeltaSyncing, 5_102),
        ("ivan.petrov", "acme", "wave-1-acme", DeltaSyncing, 3_339),
        ("kim.sato", "acme", "wave-1-acme", DeltaSyncing, 1_876),
        ("zoe.martin", "acme", "wave-1-acme", Verifying, 2_950),
        ("ben.okafor", "globex", "wave-2-globex", PreSynced, 7_712),
        ("amy.chen", "globex", "wave-2-globex", PreSynced, 3_305),
        ("dan.weiss", "globex", "wave-2-globex", PreSynced, 4_188),
        ("fay.adams", "globex", "wave-2-globex", PreSynced, 2_060),
        ("gus.moreno", "globex", "wave-2-globex", PreSynced, 5_541),
        ("hal.jensen", "globex", "wave-2-globex", Pending, 0),
        ("ida.lopez", "globex", "wave-2-globex", Pending, 0),
        ("joe.fischer", "globex", "wave-2-globex", Pending, 0),
        ("kai.nakamura", "initech", "wave-3-initech", Pending, 0),
        ("lea.moreau", "initech", "wave-3-initech", Pending, 0),
        ("max.berger", "initech", "wave-3-initech", Pending, 0),
        ("noa.cohen", "initech", "wave-3-initech", Pending, 0),
        ("oli.harris", "initech", "wave-3-initech", Pending, 0),
        ("pia.romano", "initech", "wave-3-initech", Pending, 0),
    ];
    rows.iter()
        .map(|(user, tenant, wave, phase, copied)| {
            let (error_category, error_text) = match *user {
                "li.wei" => (
                    Some(Category::ChecksumMismatch),
                    Some("INBOX uid 4411: digest differs".into()),
                ),
                "omar.haddad" => (
                    Some(Category::OverQuota),
                    Some("NO [OVERQUOTA] Quota exceeded".into()),
                ),
                "nina.ross" => (
                    Some(Category::Timeout),
                    Some("APPEND timed out after 30 s".into()),
                ),
                _ => (None, None),
            };
            MailboxView {
                source: format!("{user}@{tenant}.example"),
                destination: format!("{user}@{tenant}.mail.example"),
                tenant: (*tenant).into(),
                wave: (*wave).into(),
                phase: *phase,
                copied: *copied,
                bytes: copied * 61_440,
                error_category,
                error_text,
                verified: match phase {
                    Verified => Some(true),
                    Failed => Some(false),
                    _ => None,
                },
                cutover: *wave == "pilot",
            }
        })
        .collect()
}

fn error_examples() -> Vec<ErrorExample> {
    let example = |category, mailbox: &str, server: &str, text: &str, when| ErrorExample {
        category,
        mailbox: mailbox.into(),
        server: server.into(),
        text: text.into(),
        at: when,
    };
    vec![
        example(
            Category::Timeout,
            "nina.ross@acme.example",
            "imap.new.example",
            "APPEND timed out after 30 s",
            at(23, 46, 51),
        ),
        example(
            Category::Timeout,
            "kim.sato@acme.example",
            "imap.new.example",
            "APPEND timed out after 30 s",
            at(23, 43, 12),
        ),
        example(
            Category::Timeout,
            "ivan.petrov@acme.example",
            "imap.old.example",
            "FETCH timed out after 30 s",
            at(23, 29, 40),
        ),
        example(
            Category::Connection,
            "kim.sato@acme.example",
            "imap.new.example",
            "connection reset by peer",
            at(23, 39, 2),
        ),
        example(
            Category::OverQuota,
            "omar.haddad@acme.example",
            "imap.new.example",
            "NO [OVERQUOTA] Quota exceeded (mailbox 2 GB)",
            at(23, 44, 10),
        ),
        example(
            Category::OverQuota,
            "omar.haddad@acme.example",
            "imap.new.example",
            "NO [OVERQUOTA] Quota exceeded (mailbox 2 GB)",
            at(23, 41, 55),
        ),
        example(
            Category::ChecksumMismatch,
            "li.wei@acme.example",
            "imap.new.example",
            "INBOX uid 4411: sha256 differs from the source manifest",
            at(23, 12, 40),
        ),
    ]
}

fn latency() -> Vec<LatencySummary> {
    let row = |server: &str, op, count, p: [f64; 3]| LatencySummary {
        server: server.into(),
        op,
        count,
        p50_ms: p[0],
        p95_ms: p[1],
        p99_ms: p[2],
    };
    vec![
        row("imap.old.example", Op::Fetch, 9_214, [42.0, 180.0, 410.0]),
        row("imap.old.example", Op::Select, 611, [8.2, 21.0, 40.0]),
        row("imap.old.example", Op::Login, 48, [35.0, 90.0, 150.0]),
        row(
            "imap.new.example",
            Op::Append,
            9_107,
            [310.0, 840.0, 1_290.0],
        ),
        row("imap.new.example", Op::Select, 598, [12.0, 30.0, 55.0]),
        row("imap.new.example", Op::Login, 48, [40.0, 95.0, 160.0]),
    ]
}

fn events() -> Vec<EventView> {
    let event =
        |when: String, kind: &str, wave: Option<&str>, mailbox: Option<&str>, text: &str| {
            EventView {
                at: when,
                kind: kind.into(),
                wave: wave.map(Into::into),
                mailbox: mailbox.map(Into::into),
                text: text.into(),
            }
        };
    vec![
        event(
            stamp(22, 0, 3),
            "wave",
            Some("pilot"),
            None,
            "pilot: pre-syncing, window opened",
        ),
        event(
            stamp(22, 41, 10),
            "wave",
            Some("pilot"),
            None,
            "pilot: done, 4 mailboxes verified and cut over",
        ),
        event(
            stamp(22, 41, 12),
            "wave",
            Some("wave-1-acme"),
            None,
            "wave-1-acme: pre-syncing",
        ),
        event(
            stamp(23, 12, 40),
            "mailbox",
            Some("wave-1-acme"),
            Some("li.wei@acme.example"),
            "failed: checksum mismatch in INBOX uid 4411",
        ),
        event(
            stamp(23, 20, 11),
            "window",
            None,
            None,
            "window extended by 30m by alice: globex pre-sync slower than planned",
        ),
        event(
            stamp(23, 31, 5),
            "wave",
            Some("wave-1-acme"),
            None,
            "wave-1-acme: delta-syncing",
        ),
        event(
            stamp(23, 38, 52),
            "gate",
            Some("wave-2-globex"),
            None,
            "wave-2-globex held: p95 APPEND 840 ms > 500 ms for 3 min",
        ),
        event(
            stamp(23, 44, 18),
            "mailbox",
            Some("wave-1-acme"),
            Some("omar.haddad@acme.example"),
            "paused by bob",
        ),
        event(
            stamp(23, 46, 2),
            "mailbox",
            Some("wave-1-acme"),
            Some("sara.berg@acme.example"),
            "verified: 2,418 messages, manifest matches",
        ),
    ]
}

fn audit() -> Vec<AuditEntry> {
    let entry = |when: String,
                 uid,
                 user: &str,
                 role: &str,
                 action: &str,
                 arguments: &str,
                 reason: Option<&str>| AuditEntry {
        at: when,
        uid,
        user: user.into(),
        role: role.into(),
        action: action.into(),
        arguments: arguments.into(),
        decision: if reason.is_some() {
            "refused"
        } else {
            "accepted"
        }
        .into(),
        reason: reason.map(Into::into),
    };
    vec![
        entry(
            stamp(23, 20, 11),
            1001,
            "alice",
            "lead",
            "extend",
            "30m reason=\"globex pre-sync slower than planned\"",
            None,
        ),
        entry(
            stamp(23, 44, 18),
            1002,
            "bob",
            "operator",
            "pause",
            "omar.haddad@acme.example",
            None,
        ),
        entry(
            stamp(23, 45, 30),
            1005,
            "erin",
            "viewer",
            "halt",
            "",
            Some("halt needs the lead role; you are a viewer"),
        ),
    ]
}

/// Watched DNS records in every interesting state, for the DNS panel.
#[must_use]
pub fn demo_dns() -> Vec<RecordStatus> {
    let answer = |nameserver: &str, role, value: &str, ttl| NameserverAnswer {
        nameserver: nameserver.into(),
        role,
        values: vec![value.into()],
        ttl: Some(ttl),
        at: demo_time() - Duration::seconds(20),
        error: None,
    };
    let record = |name: &str,
                  rtype: &str,
                  wave: &str,
                  state,
                  answers,
                  safe_at,
                  lagging: &[&str],
                  reason: &str| RecordStatus {
        name: name.into(),
        rtype: rtype.into(),
        wave: Some(wave.into()),
        tenant: None,
        state,
        answers,
        safe_at,
        lagging: lagging.iter().map(|s| (*s).to_string()).collect(),
        reason: reason.into(),
    };
    let auth = NameserverRole::Authoritative;
    let resolver = NameserverRole::Resolver;
    vec![
        record(
            "autodiscover.acme.example",
            "CNAME",
            "pilot",
            RecordState::Done,
            vec![
                answer("ns1", auth, "mail.new.example", 300),
                answer("resolver-1", resolver, "mail.new.example", 212),
            ],
            None,
            &[],
            "every nameserver answers the new value",
        ),
        record(
            "imap.acme.example",
            "A",
            "wave-1-acme",
            RecordState::Propagating,
            vec![
                answer("ns1", auth, "203.0.113.20", 300),
                answer("resolver-1", resolver, "198.51.100.7", 188),
            ],
            Some(at(23, 52, 0)),
            &["resolver-1"],
            "resolver-1 still answers 198.51.100.7",
        ),
        record(
            "globex.example",
            "MX",
            "wave-2-globex",
            RecordState::TtlHigh,
            vec![answer("ns1", auth, "10 mx.old.example", 3600)],
            None,
            &[],
            "globex.example MX TTL 3600 s > 300 s",
        ),
        record(
            "imap.initech.example",
            "A",
            "wave-3-initech",
            RecordState::Lowering,
            vec![answer("ns1", auth, "198.51.100.9", 300)],
            Some(at(0, 40, 0)),
            &[],
            "TTL 300 s published; old 3600 s cached until 00:40Z",
        ),
    ]
}
