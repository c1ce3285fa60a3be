//! The plan's `[dns]` table: which records move users, what they answer before
//! and after the cutover, and which nameservers to ask.
//!
//! Fields that validation points at keep their byte span ([`Spanned`]) so a
//! problem is reported at the line the operator wrote.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::value::{RecordKind, normalize_name, normalize_value, value_set};

/// Port a nameserver address gets when the plan names only an IP.
pub const DEFAULT_DNS_PORT: u16 = 53;

/// The `[dns]` table of a plan file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct DnsSection {
    /// Seconds between two polls of every record at every nameserver.
    #[serde(default = "default_interval_secs")]
    pub interval_secs: Spanned<u64>,
    /// Whether a wave waits for its records to be `ready`; unset means "yes
    /// when records are configured" (see [`DnsSection::gate_enabled`]).
    #[serde(default)]
    pub gate: Option<bool>,
    /// How long one query may take before the nameserver counts as failed.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: Spanned<u64>,
    #[serde(default, rename = "nameserver")]
    pub nameservers: Vec<NameserverConfig>,
    #[serde(default, rename = "record")]
    pub records: Vec<RecordConfig>,
}

/// One nameserver to ask directly (never the system resolver).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct NameserverConfig {
    /// The label the war room shows, e.g. `ns1`.
    pub name: Spanned<String>,
    /// `ip:port`, `[ipv6]:port` or a bare IP (port 53). Host names are not
    /// accepted: resolving them would depend on the DNS being watched.
    pub address: Spanned<String>,
    pub role: NameserverRole,
}

/// What a nameserver's answer means for the cutover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NameserverRole {
    /// Serves the zone: its TTL is the one that must be lowered, its value
    /// is the one switched.
    Authoritative,
    /// A caching resolver users sit behind: it shows how far the switch has
    /// travelled.
    Resolver,
}

/// One record that moves users (MX, autodiscover, IMAP/SMTP host names…).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RecordConfig {
    pub name: Spanned<String>,
    #[serde(rename = "type")]
    pub rtype: Spanned<String>,
    /// What the record answers before the cutover; empty when the record is
    /// created by the cutover.
    #[serde(default)]
    pub before: Vec<Spanned<String>>,
    /// What the record answers once the cutover has switched it.
    #[serde(default)]
    pub after: Vec<Spanned<String>>,
    /// The TTL, in seconds, that must be in force (and the old one run out)
    /// before the wave may cut over.
    #[serde(default = "default_target_ttl")]
    pub target_ttl: Spanned<u32>,
    /// The wave this record gates.
    #[serde(default)]
    pub wave: Option<Spanned<String>>,
    /// Or the tenant whose wave it gates.
    #[serde(default)]
    pub tenant: Option<Spanned<String>>,
}

fn default_interval_secs() -> Spanned<u64> {
    Spanned::new(0..0, 30)
}

fn default_timeout_ms() -> Spanned<u64> {
    Spanned::new(0..0, 2000)
}

fn default_target_ttl() -> Spanned<u32> {
    Spanned::new(0..0, 300)
}

impl Default for DnsSection {
    fn default() -> Self {
        Self {
            interval_secs: default_interval_secs(),
            gate: None,
            timeout_ms: default_timeout_ms(),
            nameservers: Vec::new(),
            records: Vec::new(),
        }
    }
}

impl DnsSection {
    /// Time between polls; never zero, so a bad plan cannot spin the CPU.
    #[must_use]
    pub fn interval(&self) -> Duration {
        Duration::from_secs((*self.interval_secs.get_ref()).max(1))
    }

    /// Time one query may take; never zero.
    #[must_use]
    pub fn timeout(&self) -> Duration {
        Duration::from_millis((*self.timeout_ms.get_ref()).max(1))
    }

    /// The gate is on by default as soon as a record is configured: a wave
    /// cut over while resolvers still hold a long TTL strands its users.
    #[must_use]
    pub fn gate_enabled(&self) -> bool {
        self.gate.unwrap_or(true) && !self.records.is_empty()
    }
}

impl NameserverConfig {
    /// The address to send queries to.
    ///
    /// # Errors
    /// Why the plan's address is not an IP with an optional port.
    pub fn socket_addr(&self) -> Result<SocketAddr, String> {
        parse_address(self.address.get_ref())
    }
}

/// Reads `ip:port`, `[ipv6]:port`, or a bare IPv4/IPv6 address (port 53).
///
/// # Errors
/// A plain-words reason when the text is none of these.
pub fn parse_address(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    text.parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, DEFAULT_DNS_PORT))
        .map_err(|_| format!("`{text}` is not an IP address with an optional port"))
}

impl RecordConfig {
    /// The record type, when the plan names one this crate knows.
    #[must_use]
    pub fn kind(&self) -> Option<RecordKind> {
        RecordKind::parse(self.rtype.get_ref())
    }

    /// The name as the war room shows it: lower case, no trailing dot.
    #[must_use]
    pub fn display_name(&self) -> String {
        let name = self.name.get_ref().trim();
        name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
    }

    /// The name to query, the type, and both value sets in normal form.
    ///
    /// # Errors
    /// The first problem validation would also report.
    pub fn normalized(&self) -> Result<NormalizedRecord, String> {
        let name = normalize_name(self.name.get_ref())?;
        let kind = self.kind().ok_or_else(|| {
            format!(
                "type `{}` is not one of {}",
                self.rtype.get_ref(),
                RecordKind::list()
            )
        })?;
        let set = |values: &[Spanned<String>]| -> Result<Vec<String>, String> {
            let normal: Result<Vec<String>, String> = values
                .iter()
                .map(|value| normalize_value(kind, value.get_ref()))
                .collect();
            normal.map(value_set)
        };
        Ok(NormalizedRecord {
            name,
            kind,
            before: set(&self.before)?,
            after: set(&self.after)?,
        })
    }
}

/// A record's query name and values, ready to compare with answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalizedRecord {
    /// Fully qualified, lower case, with the trailing dot.
    pub name: String,
    pub kind: RecordKind,
    /// Sorted, without duplicates.
    pub before: Vec<String>,
    /// Sorted, without duplicates.
    pub after: Vec<String>,
}
