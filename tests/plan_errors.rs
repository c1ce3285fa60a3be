//! Broken plan files (tests/fixtures/plans/): `cutover check PLAN` exits 2
//! and names `file:line:column` of each problem. No server is needed.
//!
//! Each fixture is copied into a temporary directory before the run, so the
//! files it names (CSV, password file) resolve there and the test can create
//! the ones that need particular permissions.

mod common;

use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use common::{cutover_in, describe, stderr, stdout};

const PASS_ENV: &str = "CUTOVER_TEST_PLAN_PASS";

struct Case {
    fixture: &'static str,
    /// Extra files copied next to it.
    with: &'static [&'static str],
    /// The file the diagnostic must name (the plan unless a CSV is at fault).
    file: &'static str,
    /// Acceptable lines (the first is the most precise one).
    lines: &'static [usize],
    /// Words the message must contain (lower-cased comparison).
    says: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        fixture: "syntax-error.toml",
        with: &[],
        file: "syntax-error.toml",
        lines: &[4],
        says: &[],
    },
    Case {
        fixture: "unknown-key.toml",
        with: &[],
        file: "unknown-key.toml",
        lines: &[8],
        says: &["retries"],
    },
    Case {
        fixture: "unknown-security.toml",
        with: &[],
        file: "unknown-security.toml",
        lines: &[12],
        says: &["ssl"],
    },
    Case {
        fixture: "plaintext-remote.toml",
        with: &[],
        file: "plaintext-remote.toml",
        lines: &[6, 4],
        says: &["imap.example.com"],
    },
    Case {
        fixture: "password-file-644.toml",
        with: &[],
        file: "password-file-644.toml",
        lines: &[13],
        says: &["master-password.txt"],
    },
    Case {
        fixture: "missing-password-env.toml",
        with: &[],
        file: "missing-password-env.toml",
        lines: &[7],
        says: &["cutover_test_surely_unset_password"],
    },
    Case {
        fixture: "unknown-tenant.toml",
        with: &[],
        file: "unknown-tenant.toml",
        lines: &[24, 23],
        says: &["globex"],
    },
    Case {
        fixture: "no-wave.toml",
        with: &[],
        file: "no-wave.toml",
        lines: &[29, 30],
        says: &["user2", "wave"],
    },
    Case {
        fixture: "csv-bad-row.toml",
        with: &["bad-row.csv"],
        file: "bad-row.csv",
        lines: &[4],
        says: &[],
    },
    Case {
        fixture: "window-not-utc.toml",
        with: &[],
        file: "window-not-utc.toml",
        lines: &[23],
        says: &["utc"],
    },
    Case {
        fixture: "window-end-before-start.toml",
        with: &[],
        file: "window-end-before-start.toml",
        lines: &[24],
        says: &["before"],
    },
    Case {
        fixture: "duplicate-mailbox.toml",
        with: &[],
        file: "duplicate-mailbox.toml",
        lines: &[27],
        says: &["user1", "twice"],
    },
];

fn fixtures() -> PathBuf {
    common::repo_root().join("tests/fixtures/plans")
}

/// Copies a fixture (and its companions) into `dir`, returning the plan path.
fn stage(dir: &Path, fixture: &str, with: &[&str]) -> PathBuf {
    for name in std::iter::once(&fixture).chain(with) {
        std::fs::copy(fixtures().join(name), dir.join(name))
            .unwrap_or_else(|e| panic!("copy fixture {name}: {e}"));
    }
    // The password file must exist but be readable by others.
    let secret = dir.join("master-password.txt");
    std::fs::write(&secret, "masterpass\n").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
    dir.join(fixture)
}

fn check(dir: &Path, plan: &Path) -> Output {
    cutover_in(
        dir,
        &[(PASS_ENV.to_owned(), "masterpass".to_owned())],
        &[std::ffi::OsStr::new("check"), plan.as_os_str()],
    )
}

/// `(line, column, message)` of every diagnostic naming `file`.
fn diagnostics(text: &str, file: &Path) -> Vec<(usize, usize, String)> {
    let prefix = format!("{}:", file.display());
    text.lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .filter_map(|rest| {
            let mut parts = rest.splitn(3, ':');
            let line = parts.next()?.parse().ok()?;
            let column = parts.next()?.parse().ok()?;
            Some((line, column, parts.next()?.trim().to_owned()))
        })
        .collect()
}

#[test]
fn valid_fixture_passes() {
    let dir = tempfile::tempdir().unwrap();
    let plan = stage(dir.path(), "valid.toml", &[]);
    let out = check(dir.path(), &plan);
    assert_eq!(out.status.code(), Some(0), "valid.toml\n{}", describe(&out));
    assert!(
        stdout(&out).contains("2 mailbox(es)"),
        "valid.toml\n{}",
        describe(&out)
    );
}

#[test]
fn broken_plans_exit_2_and_name_the_line() {
    let mut failures = Vec::new();
    for case in CASES {
        let dir = tempfile::tempdir().unwrap();
        let plan = stage(dir.path(), case.fixture, case.with);
        let out = check(dir.path(), &plan);
        let err = stderr(&out);
        let named = dir.path().join(case.file);
        let found = diagnostics(&err, &named);
        let mut problems = Vec::new();
        if out.status.code() != Some(2) {
            problems.push(format!("exit code {:?}, expected 2", out.status.code()));
        }
        let hit = found
            .iter()
            .find(|(line, column, _)| case.lines.contains(line) && *column >= 1);
        match hit {
            None => problems.push(format!(
                "no diagnostic at {}:{}:COLUMN (found {:?})",
                case.file,
                case.lines
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" or "),
                found
                    .iter()
                    .map(|(l, c, _)| format!("{l}:{c}"))
                    .collect::<Vec<_>>()
            )),
            Some((line, _, message)) => {
                if *line != case.lines[0] {
                    eprintln!(
                        "note: {}: diagnostic on line {line}, the most precise line is {}",
                        case.fixture, case.lines[0]
                    );
                }
                let lower = message.to_lowercase();
                for word in case.says {
                    if !lower.contains(word) {
                        problems.push(format!("message {message:?} does not mention {word:?}"));
                    }
                }
            }
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{}: {}\n{}",
                case.fixture,
                problems.join("; "),
                describe(&out)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} broken plans not reported as expected:\n\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n\n")
    );
}

#[test]
fn csv_plan_with_3000_rows_loads_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let mut plan = String::from(
        "name = \"big-csv\"\nmailboxes-csv = \"mailboxes.csv\"\n\n\
         [source]\nhost = \"127.0.0.1\"\nport = 10143\nsecurity = \"plain\"\n\
         auth = { mode = \"master\", user = \"master\", password-env = \"CUTOVER_TEST_PLAN_PASS\" }\n\n\
         [destination]\nhost = \"127.0.0.1\"\nport = 20143\nsecurity = \"plain\"\n\
         auth = { mode = \"master\", user = \"master\", password-env = \"CUTOVER_TEST_PLAN_PASS\" }\n",
    );
    for t in 0..30 {
        let _ = write!(plan, "\n[[tenant]]\nname = \"tenant{t:02}\"\n");
    }
    for w in 0..3 {
        let tenants: Vec<String> = (0..30)
            .filter(|t| t % 3 == w)
            .map(|t| format!("\"tenant{t:02}\""))
            .collect();
        let _ = write!(
            plan,
            "\n[[wave]]\nname = \"wave{w}\"\ntenants = [{}]\n",
            tenants.join(", ")
        );
    }
    let mut csv = String::from("source,destination,tenant,wave\n");
    for i in 0..3000 {
        // Every tenth row names its wave explicitly, the rest inherit the tenant's.
        let tenant = i % 30;
        let wave = if i % 10 == 0 {
            format!("wave{}", tenant % 3)
        } else {
            String::new()
        };
        let _ = writeln!(
            csv,
            "box{i:04}@old.example,box{i:04}@new.example,tenant{tenant:02},{wave}"
        );
    }
    std::fs::write(dir.path().join("mailboxes.csv"), csv).unwrap();
    let path = dir.path().join("plan.toml");
    std::fs::write(&path, plan).unwrap();

    let started = Instant::now();
    let out = check(dir.path(), &path);
    let took = started.elapsed();
    assert_eq!(
        out.status.code(),
        Some(0),
        "3000-row plan\n{}",
        describe(&out)
    );
    assert!(
        stdout(&out).contains("3000 mailbox(es)"),
        "check should report 3000 mailboxes\n{}",
        describe(&out)
    );
    eprintln!("check of a 3000-row CSV plan took {took:?}");
    assert!(
        took < Duration::from_secs(5),
        "check of a 3000-row plan took {took:?}"
    );
}
