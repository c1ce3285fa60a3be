//! Asking one nameserver directly for one record, the way the war room needs
//! it: the TTL exactly as sent (no cache in between), and every failure turned
//! into a short word instead of an error that stops the watcher.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError, NoRecords};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::Name;

use super::config::{NameserverConfig, NameserverRole};
use super::value::{RecordKind, rdata_value, value_set};

/// One configured nameserver, with a resolver that talks to it alone.
pub(crate) struct Probe {
    pub label: String,
    pub role: NameserverRole,
    timeout: Duration,
    target: Result<SocketAddr, String>,
    resolver: Option<Result<TokioResolver, String>>,
}

/// What a nameserver said, before it is stamped with a time.
pub(crate) struct Reply {
    pub values: Vec<String>,
    pub ttl: Option<u32>,
    pub error: Option<String>,
}

impl Probe {
    pub fn new(config: &NameserverConfig, timeout: Duration) -> Self {
        Self {
            label: config.name.get_ref().trim().to_owned(),
            role: config.role,
            timeout,
            target: config.socket_addr(),
            resolver: None,
        }
    }

    /// Whether the nameserver's address could not even be read from the
    /// plan: such failures are configuration, not DNS errors to count.
    pub fn misconfigured(&self) -> bool {
        self.target.is_err()
    }

    /// Builds the resolver on first use, inside the runtime that will drive it.
    pub fn prepare(&mut self) {
        if self.resolver.is_none()
            && let Ok(address) = self.target
        {
            self.resolver = Some(resolver_for(address, self.role, self.timeout));
        }
    }

    /// Queries `name` (fully qualified) for `kind`. Never fails: a problem is
    /// the reply's `error`.
    pub async fn ask(&self, name: &str, kind: RecordKind) -> Reply {
        let resolver = match (&self.target, &self.resolver) {
            (Err(reason), _) | (Ok(_), Some(Err(reason))) => return Reply::failed(reason.clone()),
            (Ok(_), None) => return Reply::failed("not prepared".to_owned()),
            (Ok(_), Some(Ok(resolver))) => resolver,
        };
        let name = match Name::from_ascii(name) {
            Ok(name) => name,
            Err(error) => return Reply::failed(format!("bad name: {error}")),
        };
        match resolver.lookup(name, kind.record_type()).await {
            Ok(lookup) => {
                let mut ttl = None;
                let mut values = Vec::new();
                for record in lookup.answers() {
                    if let Some(value) = rdata_value(kind, &record.data) {
                        values.push(value);
                        ttl = Some(ttl.map_or(record.ttl, |seen: u32| seen.max(record.ttl)));
                    }
                }
                Reply {
                    values: value_set(values),
                    ttl,
                    error: None,
                }
            }
            Err(NetError::Dns(DnsError::NoRecordsFound(NoRecords {
                negative_ttl,
                response_code: ResponseCode::NoError | ResponseCode::NXDomain,
                ..
            }))) => Reply {
                values: Vec::new(),
                ttl: negative_ttl,
                error: None,
            },
            Err(error) => Reply::failed(describe(&error, self.timeout)),
        }
    }
}

impl Reply {
    fn failed(reason: String) -> Self {
        Self {
            values: Vec::new(),
            ttl: None,
            error: Some(reason),
        }
    }
}

/// A resolver bound to one nameserver: no cache (a cached answer's TTL counts
/// down and hides what the server publishes), no hosts file, one attempt (the
/// next poll is the retry), recursion asked only of resolvers.
fn resolver_for(
    address: SocketAddr,
    role: NameserverRole,
    timeout: Duration,
) -> Result<TokioResolver, String> {
    let mut udp = ConnectionConfig::udp();
    udp.port = address.port();
    let mut tcp = ConnectionConfig::tcp();
    tcp.port = address.port();
    let server = NameServerConfig::new(address.ip(), true, vec![udp, tcp]);
    let mut options = ResolverOpts::default();
    options.cache_size = 0;
    options.timeout = timeout;
    options.attempts = 1;
    options.use_hosts_file = ResolveHosts::Never;
    options.recursion_desired = role == NameserverRole::Resolver;
    options.num_concurrent_reqs = 1;
    TokioResolver::builder_with_config(
        ResolverConfig::from_name_servers(vec![server]),
        TokioRuntimeProvider::default(),
    )
    .with_options(options)
    .build()
    .map_err(|error| format!("cannot set up a resolver: {error}"))
}

/// Short, stable words for the war room: `timed out after 2000 ms`,
/// `SERVFAIL`, `REFUSED`, or hickory's own text for the rest.
fn describe(error: &NetError, timeout: Duration) -> String {
    match error {
        NetError::Timeout => format!("timed out after {} ms", timeout.as_millis()),
        NetError::Dns(DnsError::ResponseCode(ResponseCode::ServFail)) => "SERVFAIL".to_owned(),
        NetError::Dns(DnsError::ResponseCode(ResponseCode::Refused)) => "REFUSED".to_owned(),
        NetError::Dns(DnsError::ResponseCode(code)) => code.to_str().to_owned(),
        NetError::Dns(DnsError::NoRecordsFound(NoRecords { response_code, .. })) => {
            response_code.to_str().to_owned()
        }
        other => other.to_string(),
    }
}
