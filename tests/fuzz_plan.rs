//! Property tests of the plan loader (`cutover::plan::load`): arbitrary
//! bytes, arbitrary text, TOML-shaped token soup and mutations of a valid
//! plan never panic, and either load or come back as `PlanError::Invalid`
//! with diagnostics whose line and column lie inside the text (or, for a
//! problem in the mailbox CSV, inside that file). Bytes that are not UTF-8
//! may also be refused as unreadable (`PlanError::Read`).
//!
//! Time-bounded: 256 cases per property, no failure files written.

use std::path::{Path, PathBuf};

use cutover::plan::{PlanError, load, load_without_secrets};
use proptest::prelude::*;
use proptest::test_runner::Config;

/// A plan that loads, touching most of the format: both auth modes, every
/// table, waves with steps and decision rights, a mailbox CSV.
const VALID: &str = r#"name = "fuzz"
state-dir = "state"
presync-ahead = 1
mailboxes-csv = "mailboxes.csv"

[source]
host = "127.0.0.1"
port = 10143
security = "plain"
timeout-secs = 30
auth = { mode = "master", user = "master", password-file = "admin.pass" }

[destination]
host = "imap.example.net"
port = 993
security = "tls"
auth = { mode = "user", passwords-file = "passwords" }

[concurrency]
connections-per-server = 8
folders-per-mailbox = 2
append-batch = 32

[folders]
exclude = ["Trash", "Junk*"]
rename = [{ from = "Old Stuff", to = "Archive/Old Stuff" }]

[thresholds]
max-error-rate = 0.05
max-p95-append-ms = 2000
window-secs = 120
hold-down-secs = 20

[maintenance-window]
start = "2026-01-01T00:00:00Z"
end = "2027-12-31T23:00:00Z"

[roles]
lead = ["root"]
operator = ["olga"]
viewer = ["wall"]

[[tenant]]
name = "acme"

[[tenant]]
name = "initech"
partition = "p2"

[[wave]]
name = "pilot"
tenants = ["acme"]
owner = "olga"
planned-at = "2026-12-05T22:00:00Z"
decision-rights = { halt = ["owner"] }

[[wave.step]]
title = "Lower the MX TTL"
stage = "before-delta"
who = "user:olga"

[[wave]]
name = "main"
tenants = ["initech"]

[[wave.step]]
title = "Mobile profile published"
stage = "before-cutover"
who = "operator"
check = "true"

[[mailbox]]
source = "user1"
tenant = "acme"

[[mailbox]]
source = "user2"
destination = "user2@new.example"
tenant = "initech"
wave = "main"
"#;

const CSV: &str =
    "source,destination,tenant,wave\nuser3,,acme,pilot\nuser4,user4@new,initech,main\n";

/// A folder with the plan's companion files; each case rewrites plan.toml.
struct Workspace {
    _dir: tempfile::TempDir,
    plan: PathBuf,
    csv: PathBuf,
}

fn private(path: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, body).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

impl Workspace {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        private(&dir.path().join("admin.pass"), "s3cret\n");
        private(
            &dir.path().join("passwords"),
            "user1 p1\nuser2@new.example p2\nuser3 p3\nuser4@new p4\n",
        );
        let csv = dir.path().join("mailboxes.csv");
        std::fs::write(&csv, CSV).expect("csv");
        let plan = dir.path().join("plan.toml");
        Self {
            _dir: dir,
            plan,
            csv,
        }
    }

    /// Writes `bytes` as the plan, loads it both ways and checks the outcome.
    fn check(&self, bytes: &[u8]) -> Result<(), TestCaseError> {
        std::fs::write(&self.plan, bytes).expect("write plan");
        for result in [load(&self.plan), load_without_secrets(&self.plan)] {
            self.outcome(bytes, result)?;
        }
        Ok(())
    }

    fn outcome(
        &self,
        bytes: &[u8],
        result: Result<cutover::plan::Plan, PlanError>,
    ) -> Result<(), TestCaseError> {
        match result {
            Ok(_) => Ok(()),
            Err(PlanError::Read { .. }) => {
                prop_assert!(
                    std::str::from_utf8(bytes).is_err(),
                    "a UTF-8 plan was refused as unreadable"
                );
                Ok(())
            }
            Err(PlanError::Invalid(found)) => {
                prop_assert!(!found.is_empty(), "Invalid without a diagnostic");
                let text = String::from_utf8_lossy(bytes);
                for d in &found {
                    // A problem in another file the plan names (the CSV):
                    // its line lies in that file.
                    let other;
                    let within = if d.file == self.plan {
                        &*text
                    } else if d.file == self.csv {
                        CSV
                    } else {
                        other = std::fs::read(&d.file).map_or_else(
                            |_| String::new(),
                            |b| String::from_utf8_lossy(&b).into_owned(),
                        );
                        &other
                    };
                    let lines: Vec<&str> = within.split('\n').collect();
                    prop_assert!(
                        d.line >= 1 && d.line <= lines.len(),
                        "line {} outside 1..={}: {d}",
                        d.line,
                        lines.len()
                    );
                    let width = lines[d.line - 1].chars().count();
                    prop_assert!(
                        d.column >= 1 && d.column <= width + 1,
                        "column {} outside 1..={} of line {}: {d}",
                        d.column,
                        width + 1,
                        d.line
                    );
                    prop_assert!(!d.message.trim().is_empty(), "empty message: {d:?}");
                }
                Ok(())
            }
        }
    }
}

fn config() -> Config {
    Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    }
}

#[test]
fn the_base_plan_loads() {
    let ws = Workspace::new();
    std::fs::write(&ws.plan, VALID).expect("write");
    if let Err(e) = load(&ws.plan) {
        panic!("the fuzzer's starting plan must be valid:\n{e}");
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        Workspace::new().check(&bytes)?;
    }

    #[test]
    fn arbitrary_text(text in any::<String>()) {
        Workspace::new().check(text.as_bytes())?;
    }
}

/// Pieces of plans: keys, values, tables, and the awkward ones.
const TOKENS: &[&str] = &[
    "name = ",
    "\"fuzz\"",
    "[source]",
    "[destination]",
    "host = ",
    "\"127.0.0.1\"",
    "\"imap.example.net\"",
    "port = ",
    "993",
    "70000",
    "-1",
    "security = ",
    "\"tls\"",
    "\"plain\"",
    "\"starttls\"",
    "\"ssl\"",
    "auth = ",
    "{ mode = \"master\", user = \"m\", password-file = \"admin.pass\" }",
    "{ mode = \"user\", passwords-file = \"passwords\" }",
    "{ mode = \"user\" }",
    "{ mode = \"master\" }",
    "{ mode = \"master\", user = \"m\", password-env = \"CUTOVER_FUZZ_UNSET\" }",
    "timeout-secs = ",
    "0",
    "18446744073709551615",
    "18446744073709551616",
    "1e400",
    "nan",
    "inf",
    "[[tenant]]",
    "[[mailbox]]",
    "source = ",
    "tenant = ",
    "\"acme\"",
    "wave = ",
    "\"pilot\"",
    "[[wave]]",
    "tenants = ",
    "[\"acme\"]",
    "mailboxes = ",
    "[\"user1\", \"user1\"]",
    "[[wave.step]]",
    "title = ",
    "stage = ",
    "\"before-delta\"",
    "\"never\"",
    "who = ",
    "\"user:nobody\"",
    "\"lead\"",
    "[thresholds]",
    "max-error-rate = ",
    "2.5",
    "window-secs = ",
    "[maintenance-window]",
    "start = ",
    "end = ",
    "\"2026-01-01T00:00:00Z\"",
    "\"2026-01-01T00:00:00+02:00\"",
    "\"yesterday\"",
    "[concurrency]",
    "folders-per-mailbox = ",
    "append-batch = ",
    "[roles]",
    "lead = ",
    "[\"root\"]",
    "owner = ",
    "\"olga\"",
    "planned-at = ",
    "mailboxes-csv = ",
    "\"mailboxes.csv\"",
    "\"missing.csv\"",
    "ca-file = ",
    "\"/nonexistent/ca.pem\"",
    "[folders]",
    "exclude = ",
    "[\"*\"]",
    "rename = ",
    "[{ from = \"a\", to = \"b\" }]",
    "[dns]",
    "[handoff]",
    "state-dir = ",
    "presync-ahead = ",
    "\n",
    "\n",
    "\n",
    "\r\n",
    " ",
    "=",
    "\"",
    "'",
    "'''",
    "\"\"\"",
    "[",
    "]",
    "[[",
    "]]",
    "{",
    "}",
    ",",
    ".",
    "#",
    "# comment\n",
    "\\",
    "\\u00e9",
    "\\uD800",
    "é",
    "日本語",
    "\u{0}",
    "\u{feff}",
    "🕌",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..120).prop_map(|t| t.concat())
}

/// One edit of a plan's text, on characters (never inside a UTF-8 sequence).
#[derive(Debug, Clone)]
enum Edit {
    Delete { at: usize, len: usize },
    Insert { at: usize, text: String },
    Replace { at: usize, with: char },
    DuplicateLine { line: usize },
    SwapLines { a: usize, b: usize },
    DropLine { line: usize },
    Truncate { at: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1usize..40).prop_map(|(at, len)| Edit::Delete { at, len }),
        (any::<usize>(), prop::sample::select(TOKENS)).prop_map(|(at, t)| Edit::Insert {
            at,
            text: t.to_owned()
        }),
        (any::<usize>(), any::<String>()).prop_map(|(at, text)| Edit::Insert { at, text }),
        (any::<usize>(), any::<char>()).prop_map(|(at, with)| Edit::Replace { at, with }),
        any::<usize>().prop_map(|line| Edit::DuplicateLine { line }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines { a, b }),
        any::<usize>().prop_map(|line| Edit::DropLine { line }),
        any::<usize>().prop_map(|at| Edit::Truncate { at }),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for e in edits {
        let n = chars.len();
        match e {
            Edit::Delete { at, len } if n > 0 => {
                let start = at % n;
                let end = (start + len).min(n);
                chars.drain(start..end);
            }
            Edit::Insert { at, text } => {
                let at = at % (n + 1);
                chars.splice(at..at, text.chars());
            }
            Edit::Replace { at, with } if n > 0 => chars[at % n] = *with,
            Edit::Truncate { at } => chars.truncate(at % (n + 1)),
            Edit::DuplicateLine { line } | Edit::DropLine { line } => {
                let joined: String = chars.iter().collect();
                let mut lines: Vec<&str> = joined.split('\n').collect();
                let i = line % lines.len();
                if matches!(e, Edit::DuplicateLine { .. }) {
                    lines.insert(i, lines[i]);
                } else {
                    lines.remove(i);
                }
                chars = lines.join("\n").chars().collect();
            }
            Edit::SwapLines { a, b } => {
                let joined: String = chars.iter().collect();
                let mut lines: Vec<&str> = joined.split('\n').collect();
                let len = lines.len();
                lines.swap(a % len, b % len);
                chars = lines.join("\n").chars().collect();
            }
            _ => {}
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn toml_shaped_token_soup(text in token_soup()) {
        Workspace::new().check(text.as_bytes())?;
    }

    #[test]
    fn mutated_valid_plans(edits in prop::collection::vec(edit(), 1..6)) {
        let text = apply(VALID, &edits);
        Workspace::new().check(text.as_bytes())?;
    }

    #[test]
    fn valid_plan_with_token_soup_appended(soup in token_soup()) {
        let text = format!("{VALID}\n{soup}");
        Workspace::new().check(text.as_bytes())?;
    }
}
