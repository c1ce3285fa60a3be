//! Error categories: the words the war room and the exit codes use.

use serde::{Deserialize, Serialize};

/// Why something failed, in the operator's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    Authentication,
    Connection,
    Tls,
    Timeout,
    ServerNo,
    ServerBad,
    OverQuota,
    TooBig,
    ChecksumMismatch,
    Journal,
    Protocol,
    Dns,
    Cloudwatch,
    Webhook,
}

impl Category {
    pub const ALL: [Category; 14] = [
        Category::Authentication,
        Category::Connection,
        Category::Tls,
        Category::Timeout,
        Category::ServerNo,
        Category::ServerBad,
        Category::OverQuota,
        Category::TooBig,
        Category::ChecksumMismatch,
        Category::Journal,
        Category::Protocol,
        Category::Dns,
        Category::Cloudwatch,
        Category::Webhook,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Authentication => "authentication",
            Category::Connection => "connection",
            Category::Tls => "tls",
            Category::Timeout => "timeout",
            Category::ServerNo => "server-no",
            Category::ServerBad => "server-bad",
            Category::OverQuota => "over-quota",
            Category::TooBig => "too-big",
            Category::ChecksumMismatch => "checksum-mismatch",
            Category::Journal => "journal",
            Category::Protocol => "protocol",
            Category::Dns => "dns",
            Category::Cloudwatch => "cloudwatch",
            Category::Webhook => "webhook",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Faults worth another try after a pause: the network and busy servers.
    /// A wrong password or a full mailbox will not fix itself in seconds.
    #[must_use]
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            Category::Connection | Category::Timeout | Category::Protocol
        )
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
