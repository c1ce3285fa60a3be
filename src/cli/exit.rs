//! Exit codes, documented in the README.

use std::process::ExitCode;

use cutover::telemetry::Category;

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: done; for sync, every mailbox verified.
    Ok,
    /// 1: cutover itself failed (journal unreadable, bad arguments...).
    Internal,
    /// 2: the plan (or a file it names) is invalid.
    Plan,
    /// 3: a mailbox could not log in or reach a server (auth, connection, TLS, timeout).
    Access,
    /// 4: checksum validation failed: a message is missing, extra or altered.
    Validation,
    /// 5: the destination refused messages (over quota, too big, other NO/BAD).
    Refused,
}

impl Exit {
    pub fn code(self) -> ExitCode {
        ExitCode::from(match self {
            Exit::Ok => 0,
            Exit::Internal => 1,
            Exit::Plan => 2,
            Exit::Access => 3,
            Exit::Validation => 4,
            Exit::Refused => 5,
        })
    }

    /// The exit code for a set of failed mailboxes' categories.
    pub fn for_failures(categories: impl IntoIterator<Item = Category>) -> Exit {
        let mut worst = Exit::Ok;
        for c in categories {
            let this = match c {
                Category::ChecksumMismatch => Exit::Validation,
                Category::Authentication
                | Category::Connection
                | Category::Tls
                | Category::Timeout => Exit::Access,
                Category::Journal => Exit::Internal,
                _ => Exit::Refused,
            };
            worst = worst.max_by_rank(this);
        }
        worst
    }

    fn rank(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Refused => 1,
            Exit::Access => 2,
            Exit::Validation => 3,
            Exit::Plan => 4,
            Exit::Internal => 5,
        }
    }

    fn max_by_rank(self, other: Exit) -> Exit {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
    }
}
