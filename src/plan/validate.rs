//! Turns a plan file into a [`Plan`], reporting every problem at once.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use toml::Spanned;

use super::diagnostic::Diagnostics;
use super::types::{DecisionRights, RawAuth, RawEndpoint, RawPlan, RawWave, Roles};
use super::{
    Auth, Endpoint, Mailbox, MaintenanceWindow, MasterMethod, Plan, PlanError, Security, Side,
    Step, StepStage, StepWho, Tenant, Wave, csv_rows, secret,
};

/// Name of the wave that holds every mailbox when a plan declares none.
pub const DEFAULT_WAVE: &str = "all";

/// Reads and validates a plan file.
///
/// # Errors
/// [`PlanError::Read`] when the file cannot be read, [`PlanError::Invalid`]
/// with every problem found otherwise.
pub fn load(path: &Path) -> Result<Plan, PlanError> {
    load_with(path, true)
}

/// Reads and validates a plan without reading its secrets: for commands that
/// only talk to a running engine or read the journal (`ctl`, `attach`,
/// `manifest`), which must work without the servers' passwords.
///
/// # Errors
/// As [`load`].
pub fn load_without_secrets(path: &Path) -> Result<Plan, PlanError> {
    load_with(path, false)
}

fn load_with(path: &Path, read_secrets: bool) -> Result<Plan, PlanError> {
    let text = std::fs::read_to_string(path).map_err(|source| PlanError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut diags = Diagnostics::new(path, &text);
    let raw: RawPlan = match toml::from_str(&text) {
        Ok(raw) => raw,
        Err(e) => {
            let hint = parse_hint(e.message());
            diags.at(
                e.span().unwrap_or(0..0),
                e.message().trim(),
                hint.as_deref(),
            );
            return Err(PlanError::Invalid(diags.found));
        }
    };
    let base = path.parent().unwrap_or(Path::new("."));
    let plan = build(raw, path, base, read_secrets, &mut diags);
    if diags.found.is_empty() {
        Ok(plan)
    } else {
        Err(PlanError::Invalid(diags.found))
    }
}

fn parse_hint(message: &str) -> Option<String> {
    if message.contains("unknown field") {
        Some("check the spelling; keys are kebab-case (see README, plan file reference)".into())
    } else if message.contains("missing field") {
        Some("add the field; the README's plan file reference lists what is required".into())
    } else {
        None
    }
}

fn build(
    raw: RawPlan,
    path: &Path,
    base: &Path,
    read_secrets: bool,
    diags: &mut Diagnostics<'_>,
) -> Plan {
    if raw.name.get_ref().trim().is_empty() {
        diags.at(raw.name.span(), "the plan needs a name", None);
    }
    let source = endpoint(&raw.source, Side::Source, base, read_secrets, diags);
    let destination = endpoint(
        &raw.destination,
        Side::Destination,
        base,
        read_secrets,
        diags,
    );
    check_concurrency(&raw, diags);

    let tenants = tenants(&raw, diags);
    let waves: Vec<Wave> = if raw.waves.is_empty() {
        vec![Wave {
            name: DEFAULT_WAVE.into(),
            owner: None,
            contact: None,
            cutover_hook: None,
            rollback_hook: None,
            steps: Vec::new(),
            decision_rights: DecisionRights::default(),
            planned_at: None,
        }]
    } else {
        raw.waves
            .iter()
            .map(|w| wave(w, &raw.roles, diags))
            .collect()
    };
    let mut seen_waves = HashSet::new();
    for w in &raw.waves {
        if !seen_waves.insert(w.name.get_ref().as_str()) {
            diags.at(
                w.name.span(),
                format!("wave {} is declared twice", w.name.get_ref()),
                None,
            );
        }
    }
    let mailboxes = mailboxes(&raw, base, &tenants, &waves, diags);
    if let Some(dns) = &raw.dns {
        let wave_names: Vec<String> = waves.iter().map(|w| w.name.clone()).collect();
        let tenant_names: Vec<String> = tenants.iter().map(|t| t.name.clone()).collect();
        for (span, message, hint) in dns.validate(&wave_names, &tenant_names) {
            diags.at(span, message, hint.as_deref());
        }
    }
    if let Some(telemetry) = &raw.telemetry {
        let tenant_names: Vec<String> = tenants.iter().map(|t| t.name.clone()).collect();
        for (span, message, hint) in telemetry.validate(&tenant_names) {
            diags.at(span, message, hint.as_deref());
        }
    }
    let window = window(&raw, diags);
    check_thresholds(&raw, diags);

    Plan {
        name: raw.name.into_inner(),
        path: path.to_path_buf(),
        state_dir: raw.state_dir.map(|d| resolve(base, &d)),
        source: source.unwrap_or_else(|| placeholder(Side::Source)),
        destination: destination.unwrap_or_else(|| placeholder(Side::Destination)),
        concurrency: raw.concurrency,
        folders: raw.folders,
        tenants,
        mailboxes,
        waves,
        thresholds: raw.thresholds,
        window,
        roles: raw.roles,
        presync_ahead: raw.presync_ahead.unwrap_or(1),
        control_group: raw.control_group.map(toml::Spanned::into_inner),
        handoff: raw.handoff.unwrap_or_default(),
        dns: raw.dns,
        telemetry: raw.telemetry,
    }
}

/// Stands in for an endpoint that failed validation; never used, since the
/// plan is then rejected, but lets validation carry on and report the rest.
fn placeholder(side: Side) -> Endpoint {
    Endpoint {
        side,
        host: String::new(),
        port: 0,
        security: Security::Plain,
        ca_file: None,
        auth: Auth::User {
            passwords: HashMap::new(),
        },
        timeout: Duration::from_secs(1),
    }
}

fn resolve(base: &Path, file: &str) -> PathBuf {
    let p = Path::new(file);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn endpoint(
    raw: &RawEndpoint,
    side: Side,
    base: &Path,
    read_secrets: bool,
    diags: &mut Diagnostics<'_>,
) -> Option<Endpoint> {
    let host = raw.host.get_ref().trim().to_owned();
    if host.is_empty() {
        diags.at(
            raw.host.span(),
            format!("{} host is empty", side.as_str()),
            None,
        );
    }
    let security = match raw.security.get_ref().as_str() {
        "tls" => Security::Tls,
        "starttls" => Security::StartTls,
        "plain" => Security::Plain,
        other => {
            diags.at(
                raw.security.span(),
                format!("unknown security {other:?}"),
                Some("use one of \"tls\", \"starttls\", \"plain\""),
            );
            return None;
        }
    };
    if security == Security::Plain && !raw.allow_plaintext && !is_loopback(&host) {
        diags.at(
            raw.security.span(),
            format!("plain-text IMAP to {host} would send passwords in the clear"),
            Some("use \"tls\" or \"starttls\", or set allow-plaintext = true if the network is trusted"),
        );
    }
    let ca_file = raw.ca_file.as_ref().map(|f| {
        let path = resolve(base, f.get_ref());
        if !path.is_file() {
            diags.at(
                f.span(),
                format!("CA file {} not found", path.display()),
                None,
            );
        }
        path
    });
    let port = raw
        .port
        .unwrap_or(if security == Security::Tls { 993 } else { 143 });
    let auth = auth(&raw.auth, side, base, read_secrets, diags)?;
    Some(Endpoint {
        side,
        host,
        port,
        security,
        ca_file,
        auth,
        timeout: Duration::from_secs(raw.timeout_secs.unwrap_or(60).max(1)),
    })
}

fn auth(
    raw: &RawAuth,
    side: Side,
    base: &Path,
    read_secrets: bool,
    diags: &mut Diagnostics<'_>,
) -> Option<Auth> {
    match raw.mode.get_ref().as_str() {
        "user" => {
            let Some(file) = &raw.passwords_file else {
                diags.at(
                    raw.mode.span(),
                    format!("{} auth mode \"user\" needs passwords-file", side.as_str()),
                    Some("a file of `login password` lines, chmod 600"),
                );
                return None;
            };
            if !read_secrets {
                return Some(Auth::User {
                    passwords: HashMap::new(),
                });
            }
            match secret::passwords_file(&resolve(base, file.get_ref())) {
                Ok(passwords) => Some(Auth::User { passwords }),
                Err(e) => {
                    diags.at(file.span(), e, None);
                    None
                }
            }
        }
        "master" => {
            let Some(user) = &raw.user else {
                diags.at(raw.mode.span(), "auth mode \"master\" needs `user`", None);
                return None;
            };
            let method = match raw
                .method
                .as_ref()
                .map(|m| (m.get_ref().as_str(), m.span()))
            {
                None | Some(("login", _)) => MasterMethod::Login,
                Some(("plain", _)) => MasterMethod::Plain,
                Some((other, span)) => {
                    diags.at(
                        span,
                        format!("unknown auth method {other:?}"),
                        Some("use \"login\" (user*master) or \"plain\" (SASL PLAIN with authzid)"),
                    );
                    return None;
                }
            };
            let password = if read_secrets {
                password(raw, base, diags)?
            } else {
                secret::Secret::new(String::new())
            };
            Some(Auth::Master {
                user: user.get_ref().clone(),
                method,
                separator: raw.master_separator.clone().unwrap_or_else(|| "*".into()),
                password,
            })
        }
        other => {
            diags.at(
                raw.mode.span(),
                format!("unknown auth mode {other:?}"),
                Some("use \"user\" or \"master\""),
            );
            None
        }
    }
}

fn password(raw: &RawAuth, base: &Path, diags: &mut Diagnostics<'_>) -> Option<secret::Secret> {
    let found = match (&raw.password_env, &raw.password_file) {
        (Some(var), None) => secret::from_env(var.get_ref()).map_err(|e| (var.span(), e)),
        (None, Some(file)) => {
            secret::from_file(&resolve(base, file.get_ref())).map_err(|e| (file.span(), e))
        }
        (Some(var), Some(_)) => Err((
            var.span(),
            "give password-env or password-file, not both".into(),
        )),
        (None, None) => Err((
            raw.mode.span(),
            "the admin password needs password-env or password-file".into(),
        )),
    };
    found
        .map_err(|(span, e)| {
            diags.at(span, e, Some("passwords never go in the plan itself"));
        })
        .ok()
}

fn check_concurrency(raw: &RawPlan, diags: &mut Diagnostics<'_>) {
    let c = &raw.concurrency;
    if c.connections_per_server == 0 || c.folders_per_mailbox == 0 || c.append_batch == 0 {
        diags.at(
            raw.name.span(),
            "concurrency settings must be at least 1",
            Some("see [concurrency] in the README"),
        );
    }
}

fn tenants(raw: &RawPlan, diags: &mut Diagnostics<'_>) -> Vec<Tenant> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for t in &raw.tenants {
        if !seen.insert(t.name.get_ref().clone()) {
            diags.at(
                t.name.span(),
                format!("tenant {} is declared twice", t.name.get_ref()),
                None,
            );
            continue;
        }
        out.push(Tenant {
            name: t.name.get_ref().clone(),
            partition: t.partition.clone(),
        });
    }
    out
}

/// Where a mailbox row came from, so errors can point at it.
enum Origin {
    Plan(std::ops::Range<usize>),
    Csv(PathBuf, usize),
}

struct Row {
    origin: Origin,
    source: String,
    destination: Option<String>,
    tenant: String,
    wave: Option<String>,
}

fn mailboxes(
    raw: &RawPlan,
    base: &Path,
    tenants: &[Tenant],
    waves: &[Wave],
    diags: &mut Diagnostics<'_>,
) -> Vec<Mailbox> {
    let mut rows: Vec<Row> = raw
        .mailboxes
        .iter()
        .map(|m| Row {
            origin: Origin::Plan(m.source.span()),
            source: m.source.get_ref().clone(),
            destination: m.destination.clone(),
            tenant: m.tenant.get_ref().clone(),
            wave: m.wave.as_ref().map(|w| w.get_ref().clone()),
        })
        .collect();
    if let Some(csv) = &raw.mailboxes_csv {
        let path = resolve(base, csv.get_ref());
        if path.is_file() {
            rows.extend(csv_rows::read(&path, diags).into_iter().map(|r| Row {
                origin: Origin::Csv(path.clone(), r.line),
                source: r.source,
                destination: r.destination,
                tenant: r.tenant,
                wave: r.wave,
            }));
        } else {
            diags.at(
                csv.span(),
                format!("mailbox CSV {} not found", path.display()),
                None,
            );
        }
    }

    let wave_of_tenant = members(raw, |w| &w.tenants, waves, diags);
    let wave_of_mailbox = members(raw, |w| &w.mailboxes, waves, diags);
    let known_tenants: HashSet<&str> = tenants.iter().map(|t| t.name.as_str()).collect();
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let mut report = |message: String, hint: Option<&str>| match &row.origin {
            Origin::Plan(span) => diags.at(span.clone(), message, hint),
            Origin::Csv(file, line) => diags.at_line(file, *line, message, hint),
        };
        if !seen.insert(row.source.clone()) {
            report(format!("mailbox {} is listed twice", row.source), None);
            continue;
        }
        if !known_tenants.contains(row.tenant.as_str()) {
            report(
                format!("mailbox {} names unknown tenant {}", row.source, row.tenant),
                Some("declare it in a [[tenant]] table"),
            );
            continue;
        }
        let wave = match &row.wave {
            Some(name) => waves.iter().position(|w| &w.name == name),
            None => wave_of_mailbox
                .get(row.source.as_str())
                .or_else(|| wave_of_tenant.get(row.tenant.as_str()))
                .copied()
                .or(if raw.waves.is_empty() { Some(0) } else { None }),
        };
        let Some(wave) = wave else {
            report(
                format!(
                    "mailbox {} belongs to no wave{}",
                    row.source,
                    row.wave
                        .as_ref()
                        .map(|w| format!(" (unknown wave {w})"))
                        .unwrap_or_default()
                ),
                Some("name it in a wave's `mailboxes` or its tenant in a wave's `tenants`"),
            );
            continue;
        };
        out.push(Mailbox {
            destination: row.destination.unwrap_or_else(|| row.source.clone()),
            source: row.source,
            tenant: row.tenant,
            wave,
        });
    }
    if out.is_empty() && diags.found.is_empty() {
        diags.at(
            raw.name.span(),
            "the plan lists no mailboxes",
            Some("add [[mailbox]] tables or mailboxes-csv"),
        );
    }
    out
}

/// Maps names listed in waves (tenants or mailboxes) to the wave's index.
fn members<'r>(
    raw: &'r RawPlan,
    list: impl Fn(&'r super::types::RawWave) -> &'r Vec<Spanned<String>>,
    waves: &[Wave],
    diags: &mut Diagnostics<'_>,
) -> HashMap<&'r str, usize> {
    let mut out = HashMap::new();
    for w in &raw.waves {
        let index = waves
            .iter()
            .position(|x| &x.name == w.name.get_ref())
            .unwrap_or(0);
        for name in list(w) {
            if let Some(previous) = out.insert(name.get_ref().as_str(), index)
                && previous != index
            {
                diags.at(
                    name.span(),
                    format!("{} is in two waves", name.get_ref()),
                    None,
                );
            }
        }
    }
    out
}

fn window(raw: &RawPlan, diags: &mut Diagnostics<'_>) -> Option<MaintenanceWindow> {
    let w = raw.maintenance_window.as_ref()?;
    let parse =
        |s: &Spanned<String>, diags: &mut Diagnostics<'_>| match DateTime::parse_from_rfc3339(
            s.get_ref(),
        ) {
            Ok(t) if t.offset().local_minus_utc() == 0 => Some(t.with_timezone(&Utc)),
            Ok(_) => {
                diags.at(
                    s.span(),
                    "maintenance window times must be UTC",
                    Some("end the time with Z"),
                );
                None
            }
            Err(e) => {
                diags.at(
                    s.span(),
                    format!("{:?} is not an RFC 3339 time: {e}", s.get_ref()),
                    Some("e.g. 2026-12-05T22:00:00Z"),
                );
                None
            }
        };
    let start = parse(&w.start, diags);
    let end = parse(&w.end, diags);
    let (start, end) = (start?, end?);
    if end <= start {
        diags.at(
            w.end.span(),
            "the maintenance window ends before it starts",
            None,
        );
        return None;
    }
    Some(MaintenanceWindow { start, end })
}

fn check_thresholds(raw: &RawPlan, diags: &mut Diagnostics<'_>) {
    let t = &raw.thresholds;
    if !(0.0..=1.0).contains(&t.max_error_rate) {
        diags.at(
            raw.name.span(),
            format!(
                "thresholds.max-error-rate {} is not between 0 and 1",
                t.max_error_rate
            ),
            Some("a rate of 0.05 means 5 errors per 100 IMAP operations"),
        );
    }
    if t.window_secs == 0 {
        diags.at(
            raw.name.span(),
            "thresholds.window-secs must be at least 1",
            None,
        );
    }
}

fn wave(raw: &RawWave, roles: &Roles, diags: &mut Diagnostics<'_>) -> Wave {
    let known = |user: &str| {
        roles
            .lead
            .iter()
            .chain(&roles.operator)
            .chain(&roles.viewer)
            .any(|u| u == user)
    };
    if let Some(owner) = &raw.owner
        && !known(owner)
    {
        diags.at(
            raw.name.span(),
            format!(
                "wave {} is owned by {owner}, who has no role in [roles]",
                raw.name.get_ref()
            ),
            Some("add the owner to [roles] lead or operator"),
        );
    }
    let mut steps = Vec::new();
    for step in &raw.steps {
        let stage = match step.stage.get_ref().as_str() {
            "before-delta" => StepStage::BeforeDelta,
            "before-cutover" => StepStage::BeforeCutover,
            "after-cutover" => StepStage::AfterCutover,
            other => {
                diags.at(
                    step.stage.span(),
                    format!("unknown stage {other:?}"),
                    Some("use before-delta, before-cutover or after-cutover"),
                );
                continue;
            }
        };
        let who = match step.who.get_ref().as_str() {
            role @ ("lead" | "operator") => StepWho::Role(role.to_owned()),
            other => match other.strip_prefix("user:") {
                Some(user) if known(user) => StepWho::User(user.to_owned()),
                Some(user) => {
                    diags.at(
                        step.who.span(),
                        format!("{user} has no role in [roles]"),
                        None,
                    );
                    continue;
                }
                None => {
                    diags.at(
                        step.who.span(),
                        format!("unknown step owner {other:?}"),
                        Some("use lead, operator or user:NAME"),
                    );
                    continue;
                }
            },
        };
        steps.push(Step {
            title: step.title.get_ref().clone(),
            stage,
            who,
            check: step.check.clone(),
            check_interval_secs: step.check_interval_secs.unwrap_or(60).max(1),
        });
    }
    let planned_at = raw.planned_at.as_ref().and_then(|t| {
        DateTime::parse_from_rfc3339(t)
            .map(|d| d.with_timezone(&Utc))
            .map_err(|e| {
                diags.at(
                    raw.name.span(),
                    format!("wave {} planned-at {t:?}: {e}", raw.name.get_ref()),
                    Some("RFC 3339 in UTC, e.g. 2026-12-05T22:00:00Z"),
                );
            })
            .ok()
    });
    Wave {
        name: raw.name.get_ref().clone(),
        owner: raw.owner.clone(),
        contact: raw.contact.clone(),
        cutover_hook: raw.cutover_hook.clone(),
        rollback_hook: raw.rollback_hook.clone(),
        steps,
        decision_rights: raw.decision_rights.clone().unwrap_or_default(),
        planned_at,
    }
}
