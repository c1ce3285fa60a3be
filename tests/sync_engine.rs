//! The engine against two real Dovecots (scripts/testbed.sh): full copy,
//! rerun, delta, kill -9, wrong password, check --connect, TLS, over quota.
//!
//! Every outcome is checked on the servers themselves with
//! scripts/compare-servers.py, never only through cutover's own journal.
//! Account ownership: see the table in tests/common/mod.rs.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::{
    Lcg, PlanBuilder, assert_identical, assert_user_identical, compare, counter, fill, fill_with,
    fresh, json_lines, show, source_counts, stdout, summary, testbed, testbed_cert, total,
    wipe_dst,
};
use serde_json::Value;

/// Folders every corpus account has (INBOX ... "日本語 & Co", Empty).
const CORPUS_FOLDERS: usize = 13;

fn code(out: &std::process::Output) -> Option<i32> {
    out.status.code()
}

/// The manifest's folders: path -> `(count, destination_count)`.
fn manifest_counts(m: &Value) -> BTreeMap<String, (u64, u64)> {
    m["folders"]
        .as_array()
        .unwrap_or_else(|| panic!("manifest has no folders: {m}"))
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_owned(),
                (
                    f["count"].as_u64().unwrap_or(u64::MAX),
                    f["destination_count"].as_u64().unwrap_or(u64::MAX),
                ),
            )
        })
        .collect()
}

/// A manifest says verified, has a root digest, and per folder the counts the
/// source has (as compare-servers.py read them).
fn assert_manifest_matches(m: &Value, cmp: &Value, user: &str) {
    assert_eq!(m["mailbox"], user, "manifest of the wrong mailbox: {m}");
    assert_eq!(
        m["verified"].as_bool(),
        Some(true),
        "manifest of {user} not verified:\n{}",
        show(m)
    );
    let root = m["root_digest"].as_str().unwrap_or_default();
    assert!(
        root.len() >= 32 && root.chars().all(|c| c.is_ascii_hexdigit()),
        "manifest of {user} has no root digest: {root:?}"
    );
    let expected = source_counts(cmp, user);
    let got = manifest_counts(m);
    for (path, n) in &expected {
        let Some((count, dst)) = got.get(path) else {
            // An empty folder may be left out of the proof; a full one may not.
            assert_eq!(
                *n,
                0,
                "manifest of {user} lacks folder {path:?} ({n} messages on the source); \
                 manifest folders: {:?}",
                got.keys().collect::<Vec<_>>()
            );
            continue;
        };
        assert_eq!(
            (*count, *dst),
            (*n, *n),
            "manifest of {user}, folder {path:?}: (count, destination_count) vs the source's {n}"
        );
    }
    for path in got.keys() {
        assert!(
            expected.contains_key(path),
            "manifest of {user} names folder {path:?}, which the source does not have; \
             source folders: {:?}",
            expected.keys().collect::<Vec<_>>()
        );
    }
    let sum: u64 = expected.values().sum();
    assert_eq!(
        m["messages"].as_u64(),
        Some(sum),
        "manifest message total of {user}"
    );
}

#[test]
fn full_copy_is_identical_and_manifest_verified() {
    let users = ["user1", "user2"];
    let filled = fresh(&users, 150, 11);
    let plan = PlanBuilder::master("full-copy", &users).build();

    let started = Instant::now();
    let out = plan.run("sync", &[]);
    assert_eq!(code(&out), Some(0), "cutover sync\n{}", plan.context(&out));
    eprintln!(
        "full copy: sync took {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let cmp = compare(&users);
    assert_identical(&cmp, "after a full copy");
    let expected: u64 = filled.iter().map(|f| f.messages).sum();
    assert_eq!(
        total(&cmp, "dst_messages"),
        expected,
        "destination message count vs what make-corpus stored:\n{}",
        show(&cmp)
    );
    for u in users {
        assert_eq!(
            source_counts(&cmp, u).len(),
            CORPUS_FOLDERS,
            "folders of {u}:\n{}",
            show(&cmp)
        );
        let folders = source_counts(&cmp, u);
        for awkward in [
            "Projects/2024/Q3",
            "Réunions été",
            "日本語 & Co",
            "Old Stuff",
        ] {
            assert!(
                folders.get(awkward).is_some_and(|n| *n > 0),
                "{u}: folder {awkward:?} should hold messages on both sides: {folders:?}"
            );
        }
        let m = plan.manifest(u);
        assert_manifest_matches(&m, &cmp, u);
    }
    // The human-readable report names what an imapsync user looks for.
    let text = stdout(&out);
    for word in ["copied", "skipped", "bytes", "messages/s", "MB/s"] {
        assert!(text.contains(word), "sync report lacks {word:?}:\n{text}");
    }
}

#[test]
fn rerun_copies_nothing() {
    let users = ["user3"];
    fresh(&users, 150, 31);
    let plan = PlanBuilder::master("rerun", &users).build();

    let first = plan.sync_json();
    assert_eq!(
        code(&first),
        Some(0),
        "first sync\n{}",
        plan.context(&first)
    );
    let s1 = summary(&first);
    assert!(
        counter(&s1, "copied") > 150,
        "first sync copied too little: {s1}"
    );

    let second = plan.sync_json();
    assert_eq!(
        code(&second),
        Some(0),
        "second sync\n{}",
        plan.context(&second)
    );
    let s2 = summary(&second);
    assert_eq!(counter(&s2, "copied"), 0, "a rerun copied messages: {s2}");
    assert_eq!(counter(&s2, "bytes"), 0, "a rerun copied bytes: {s2}");
    assert_eq!(counter(&s2, "verified"), 1, "rerun summary: {s2}");
    let cmp = compare(&users);
    assert_identical(&cmp, "after a rerun");
    let folders = source_counts(&cmp, "user3").len() as u64;
    assert_eq!(
        counter(&s2, "folders_unchanged"),
        folders,
        "every one of the {folders} folders should be skipped as unchanged: {s2}"
    );
    assert_manifest_matches(&plan.manifest("user3"), &cmp, "user3");
}

#[test]
fn delta_copies_new_mail_and_flag_changes() {
    let users = ["user4"];
    fresh(&users, 150, 41);
    // Make sure the three messages flagged later are unflagged now, so that
    // flagging them is three real changes.
    common::deliver(&[
        "--user",
        "user4",
        "--folder",
        "INBOX",
        "--flag",
        "\\Flagged",
        "--clear",
        "--uids",
        "first:3",
    ]);
    let plan = PlanBuilder::master("delta", &users).build();
    let first = plan.sync_json();
    assert_eq!(
        code(&first),
        Some(0),
        "first sync\n{}",
        plan.context(&first)
    );
    assert_identical(&compare(&users), "after the first sync");

    common::deliver(&[
        "--user", "user4", "--folder", "INBOX", "--count", "3", "--tag", "d1",
    ]);
    common::deliver(&[
        "--user",
        "user4",
        "--folder",
        "Projects/2024/Q3",
        "--count",
        "2",
        "--tag",
        "d2",
    ]);
    common::deliver(&[
        "--user",
        "user4",
        "--folder",
        "INBOX",
        "--flag",
        "\\Flagged",
        "--uids",
        "first:3",
    ]);

    let second = plan.sync_json();
    assert_eq!(
        code(&second),
        Some(0),
        "delta sync\n{}",
        plan.context(&second)
    );
    let s = summary(&second);
    assert_eq!(
        counter(&s, "copied"),
        5,
        "delta should copy exactly the 5 new messages: {s}"
    );
    assert!(
        counter(&s, "flags_updated") >= 3,
        "delta should carry the 3 \\Flagged changes: {s}"
    );
    let cmp = compare(&users);
    assert_identical(&cmp, "after the delta sync");
    assert_manifest_matches(&plan.manifest("user4"), &cmp, "user4");
}

#[test]
fn kill_9_at_random_moments_loses_and_duplicates_nothing() {
    let users = ["user5"];
    wipe_dst("user5");
    let filled = fill_with("user5", 400, 51, 0.02);
    // Small batches and fewer parallel folders: a slower copy with many
    // batch boundaries, so that more of the kills land mid-copy.
    let plan = PlanBuilder::master("kill9", &users)
        .extra("[concurrency]\nfolders-per-mailbox = 2\nappend-batch = 8")
        .build();

    let seed = std::env::var("CUTOVER_TEST_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_u64);
    let mut rng = Lcg::new(seed);
    let mut log = Vec::new();
    for round in 1..=5 {
        let delay = Duration::from_millis(rng.between(150, 1500));
        let mut child = common::spawn_quiet(plan.command(&[
            std::ffi::OsStr::new("sync"),
            plan.path.as_os_str(),
            std::ffi::OsStr::new("--json"),
        ]));
        std::thread::sleep(delay);
        let finished = child.try_wait().expect("try_wait");
        if finished.is_none() {
            child.kill().expect("SIGKILL cutover"); // std sends SIGKILL on Unix
        }
        let status = child.wait().expect("wait");
        let dst = compare(&users);
        log.push(format!(
            "round {round}: {} ms, {}, destination holds {} of {} messages ({} extra)",
            delay.as_millis(),
            if finished.is_some() {
                format!("had already exited with {status}")
            } else {
                "killed".to_owned()
            },
            total(&dst, "dst_messages"),
            filled.messages,
            total(&dst, "extra"),
        ));
    }
    eprintln!("kill -9 seed {seed:#x}:\n{}", log.join("\n"));

    let last = plan.sync_json();
    assert_eq!(
        code(&last),
        Some(0),
        "sync after the kills ({})\n{}",
        log.join("; "),
        plan.context(&last)
    );
    let cmp = compare(&users);
    assert_eq!(
        (total(&cmp, "missing"), total(&cmp, "extra")),
        (0, 0),
        "after kill -9 x5 and a rerun: (missing, extra) must be (0, 0)\n{}\n{}",
        log.join("\n"),
        show(&cmp)
    );
    assert_identical(&cmp, "after kill -9 x5 and a rerun");
    assert_eq!(total(&cmp, "dst_messages"), filled.messages);
    assert_manifest_matches(&plan.manifest("user5"), &cmp, "user5");
}

#[test]
fn wrong_password_fails_one_mailbox_only() {
    let users = ["user6", "user7"];
    fresh(&users, 40, 61);
    let plan = PlanBuilder::master("wrong-password", &users)
        .user_auth(
            &[("user6", "pass6"), ("user7", "pass7")],
            &[("user6", "pass6"), ("user7", "not-pass7")],
        )
        .build();
    let out = plan.sync_json();
    assert_eq!(
        code(&out),
        Some(3),
        "a wrong destination password must end with exit code 3\n{}",
        plan.context(&out)
    );
    let s = summary(&out);
    assert_eq!(counter(&s, "verified"), 1, "user6 should be verified: {s}");
    let failures = s["failures"].as_array().cloned().unwrap_or_default();
    assert!(
        failures
            .iter()
            .any(|f| f[0] == "user7" && f[1] == "authentication"),
        "the summary should name user7 with category authentication: {s}"
    );
    assert!(
        !failures.iter().any(|f| f[0] == "user6"),
        "user6 must not fail: {s}"
    );
    let finished: Vec<Value> = json_lines(&out)
        .into_iter()
        .filter(|e| e["event"] == "finished" && e["mailbox"] == "user7")
        .collect();
    assert!(
        finished.iter().any(|e| e["category"] == "authentication"),
        "the finished event of user7 should carry category authentication: {finished:?}\n{}",
        stdout(&out)
    );

    let cmp = compare(&users);
    assert_user_identical(&cmp, "user6", "the mailbox with the right password");
    assert_eq!(
        cmp["users"]["user7"]["ok"].as_bool(),
        Some(false),
        "user7 cannot have been copied:\n{}",
        show(&cmp)
    );
    assert_manifest_matches(&plan.manifest("user6"), &cmp, "user6");
}

#[test]
fn check_connect_reports_counts() {
    let users = ["user8"];
    let filled = fresh(&users, 30, 81);
    let plan = PlanBuilder::master("check-connect", &users).build();

    let out = plan.run("check", &["--connect"]);
    assert_eq!(
        code(&out),
        Some(0),
        "check --connect\n{}",
        plan.context(&out)
    );
    let text = stdout(&out);
    let line = text
        .lines()
        .find(|l| l.starts_with("user8"))
        .unwrap_or_else(|| panic!("no line for user8:\n{text}"));
    let want = format!(
        "ok, {CORPUS_FOLDERS} folders, {} messages",
        filled[0].messages
    );
    assert!(
        line.contains(&want),
        "expected {want:?} in {line:?}\n{text}"
    );

    let out = plan.run("check", &["--connect", "--json"]);
    assert_eq!(
        code(&out),
        Some(0),
        "check --connect --json\n{}",
        plan.context(&out)
    );
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("check --json printed no JSON ({e})\n{}", plan.context(&out)));
    let r = &v[0];
    assert_eq!(r["mailbox"], "user8", "{v}");
    assert_eq!(r["source"]["ok"], true, "{v}");
    assert_eq!(
        r["source"]["folders"].as_u64(),
        Some(CORPUS_FOLDERS as u64),
        "{v}"
    );
    assert_eq!(
        r["source"]["messages"].as_u64(),
        Some(filled[0].messages),
        "{v}"
    );
    assert_eq!(r["destination"]["ok"], true, "{v}");
    assert_eq!(r["destination"]["messages"].as_u64(), Some(0), "{v}");
    // check copies nothing
    assert_eq!(total(&compare(&users), "dst_messages"), 0);

    let bad = PlanBuilder::master("check-connect-bad", &users)
        .user_auth(&[("user8", "wrong")], &[("user8", "pass8")])
        .build();
    let out = bad.run("check", &["--connect"]);
    assert_eq!(
        code(&out),
        Some(3),
        "check --connect with a wrong password\n{}",
        bad.context(&out)
    );
    let text = stdout(&out);
    assert!(
        text.contains("FAILED"),
        "the report should show the failure:\n{text}"
    );
}

#[test]
fn tls_needs_the_ca_file() {
    testbed();
    let users = ["user9"];
    fresh(&users, 20, 91);
    let cert = testbed_cert();
    assert!(
        cert.is_file(),
        "the testbed's certificate {} is missing",
        cert.display()
    );

    let untrusted = PlanBuilder::master("tls-untrusted", &users)
        .tls(None)
        .build();
    let out = untrusted.run("check", &["--connect"]);
    assert_eq!(
        code(&out),
        Some(3),
        "a self-signed certificate must be refused by default\n{}",
        untrusted.context(&out)
    );
    let said = format!("{}{}", stdout(&out), common::stderr(&out)).to_lowercase();
    assert!(
        said.contains("certificate"),
        "the error should mention the certificate\n{}",
        untrusted.context(&out)
    );

    let trusted = PlanBuilder::master("tls-trusted", &users)
        .tls(Some(&cert))
        .build();
    let out = trusted.run("check", &["--connect"]);
    assert_eq!(
        code(&out),
        Some(0),
        "check --connect over TLS with ca-file\n{}",
        trusted.context(&out)
    );
    let out = trusted.sync_json();
    assert_eq!(
        code(&out),
        Some(0),
        "sync over TLS with ca-file\n{}",
        trusted.context(&out)
    );
    assert_identical(&compare(&users), "after a sync over TLS");

    // STARTTLS on the plain ports, same trust anchor.
    let starttls = PlanBuilder::master("starttls-trusted", &users)
        .starttls(Some(&cert))
        .build();
    let out = starttls.run("check", &["--connect"]);
    assert_eq!(
        code(&out),
        Some(0),
        "check --connect over STARTTLS with ca-file\n{}",
        starttls.context(&out)
    );
}

#[test]
fn over_quota_is_refused_without_loss() {
    let users = ["quotauser"];
    wipe_dst("quotauser");
    // ~40 regular messages (median 8 KB) plus the corpus's awkward ones:
    // well over quotauser's 200K on the destination.
    let filled = fill("quotauser", 40, 71);
    assert!(
        filled.bytes > 400_000,
        "corpus too small to exceed the quota: {filled:?}"
    );
    let plan = PlanBuilder::master("quota", &users).build();

    let out = plan.sync_json();
    assert_eq!(
        code(&out),
        Some(5),
        "over quota must end with exit code 5\n{}",
        plan.context(&out)
    );
    let text = stdout(&out);
    assert!(
        text.contains("over-quota"),
        "--json output should name over-quota:\n{text}"
    );
    let first = compare(&users);
    let check_only_missing = |cmp: &Value, when: &str| {
        assert!(
            total(cmp, "dst_messages") > 0,
            "{when}: nothing fitted?\n{}",
            show(cmp)
        );
        assert!(
            total(cmp, "missing") > 0,
            "{when}: everything fitted?\n{}",
            show(cmp)
        );
        for key in [
            "extra",
            "flag_mismatch",
            "date_mismatch",
            "folders_missing",
            "folders_extra",
        ] {
            assert_eq!(total(cmp, key), 0, "{when}: {key}\n{}", show(cmp));
        }
    };
    check_only_missing(&first, "after the first sync");

    let again = plan.sync_json();
    assert_eq!(
        code(&again),
        Some(5),
        "rerun over quota\n{}",
        plan.context(&again)
    );
    let second = compare(&users);
    check_only_missing(&second, "after the rerun");
    // Nothing that was on the destination went away.
    let missing = |cmp: &Value| -> Vec<String> {
        let mut ids = Vec::new();
        for f in cmp["users"]["quotauser"]["folders"]
            .as_object()
            .into_iter()
            .flatten()
        {
            for id in f.1["missing"].as_array().into_iter().flatten() {
                ids.push(format!("{}:{}", f.0, id.as_str().unwrap_or_default()));
            }
        }
        ids
    };
    let (before, after) = (missing(&first), missing(&second));
    for id in &after {
        assert!(
            before.contains(id),
            "{id} was on the destination after the first sync and is gone after the rerun"
        );
    }
    assert!(
        total(&second, "dst_messages") >= total(&first, "dst_messages"),
        "the rerun lost messages: {} -> {}",
        total(&first, "dst_messages"),
        total(&second, "dst_messages")
    );
}

#[test]
fn a_new_journal_claims_mail_already_on_the_destination() {
    let users = ["user10"];
    fresh(&users, 60, 101);
    let first = PlanBuilder::master("journal-a", &users).build();
    let out = first.sync_json();
    assert_eq!(code(&out), Some(0), "first sync\n{}", first.context(&out));
    let copied = counter(&summary(&out), "copied");

    // Same mailbox, a journal that knows nothing (lost, or another state dir).
    let second = PlanBuilder::master("journal-b", &users).build();
    let out = second.sync_json();
    assert_eq!(code(&out), Some(0), "second sync\n{}", second.context(&out));
    let s = summary(&out);
    assert_eq!(
        counter(&s, "copied"),
        0,
        "mail already there was copied again: {s}"
    );
    assert_eq!(
        counter(&s, "skipped"),
        copied,
        "every message is claimed by content: {s}"
    );
    let cmp = compare(&users);
    assert_identical(&cmp, "after a sync with a fresh journal");
    assert_eq!(
        common::total(&cmp, "extra"),
        0,
        "duplicates on the destination"
    );
}
