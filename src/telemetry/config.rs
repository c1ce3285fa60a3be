//! The plan's `[telemetry]` table: CloudWatch, the public status page and
//! webhooks. Each output is off when its table is absent.
//!
//! Fields that validation points at keep their byte span ([`Spanned`]) so a
//! problem is reported at the line the operator wrote.

#![expect(
    clippy::doc_markdown,
    reason = "CloudWatch is a product name, not an identifier"
)]

use std::collections::HashSet;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use toml::Spanned;

/// One problem: where it is, what is wrong, and how to fix it.
pub type Problem = (Range<usize>, String, Option<String>);

/// The `[telemetry]` table of a plan file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct TelemetrySection {
    #[serde(default)]
    pub cloudwatch: Option<CloudWatchConfig>,
    #[serde(default)]
    pub status_page: Option<StatusPageConfig>,
    #[serde(default, rename = "webhook")]
    pub webhooks: Vec<Spanned<WebhookConfig>>,
}

/// `[telemetry.cloudwatch]`: metrics out, alarm states in.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct CloudWatchConfig {
    #[serde(default = "on")]
    pub enabled: bool,
    /// Unset: the standard chain decides (`AWS_REGION`, profile).
    #[serde(default)]
    pub region: Option<Spanned<String>>,
    /// Another endpoint than AWS's, e.g. a local emulator.
    #[serde(default)]
    pub endpoint_url: Option<Spanned<String>>,
    #[serde(default = "default_namespace")]
    pub namespace: Spanned<String>,
    /// Seconds between two publications (and two alarm reads).
    #[serde(default = "default_interval_secs")]
    pub interval_secs: Spanned<u64>,
    /// Alarms whose state the war room shows, read with `DescribeAlarms`.
    #[serde(default)]
    pub alarms: Vec<Spanned<String>>,
    /// Whether one of `alarms` in ALARM holds the next wave.
    #[serde(default = "off")]
    pub alarm_gate: Spanned<bool>,
}

/// `[telemetry.status-page]`: the public page for hosting partners.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct StatusPageConfig {
    #[serde(default = "on")]
    pub enabled: bool,
    /// Where `index.html` and `status.json` are written; relative paths are
    /// taken from the plan's folder.
    pub dir: Spanned<String>,
    /// The page's heading; the plan's name when unset.
    #[serde(default)]
    pub title: Option<Spanned<String>>,
    /// Lists every mailbox address with its state. Off by default: the page
    /// is public.
    #[serde(default)]
    pub show_mailboxes: bool,
    /// Components of the page; one per tenant when empty.
    #[serde(default)]
    pub groups: Vec<GroupConfig>,
}

/// One component of the status page: a hosting partner or tenant group.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct GroupConfig {
    pub name: Spanned<String>,
    pub tenants: Vec<Spanned<String>>,
}

/// `[[telemetry.webhook]]`: one chat or automation endpoint.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct WebhookConfig {
    #[serde(default = "on")]
    pub enabled: bool,
    /// Environment variable holding the URL.
    #[serde(default)]
    pub url_env: Option<Spanned<String>>,
    /// A file readable only by its owner whose first line is the URL.
    #[serde(default)]
    pub url_file: Option<Spanned<String>>,
    /// A URL written into the plan. Accepted by the parser only to refuse it
    /// with a useful message; its value is dropped unread.
    #[serde(default)]
    pub url: Option<IgnoredAny>,
    #[serde(default)]
    pub style: WebhookStyle,
    /// Which notices this endpoint receives; all when unset.
    #[serde(default)]
    pub events: Option<Spanned<Vec<EventKind>>>,
}

/// The JSON shape a webhook expects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WebhookStyle {
    /// `{"text": ...}`: Slack and most chat incoming webhooks.
    #[default]
    Slack,
    /// An Office 365 connector `MessageCard`, which also carries `text`.
    Teams,
    /// The notice as it is: plan, kind, wave, text, time.
    Json,
}

impl WebhookStyle {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookStyle::Slack => "slack",
            WebhookStyle::Teams => "teams",
            WebhookStyle::Json => "json",
        }
    }
}

/// What a notice is about; webhooks choose among these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    /// A wave moved to another phase.
    Wave,
    /// A gate closed or opened.
    Gate,
    /// An operator halted or resumed the migration.
    Halt,
    /// The maintenance window was extended.
    Extend,
    /// A wave was rolled back.
    Rollback,
}

impl EventKind {
    pub const ALL: [EventKind; 5] = [
        EventKind::Wave,
        EventKind::Gate,
        EventKind::Halt,
        EventKind::Extend,
        EventKind::Rollback,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Wave => "wave",
            EventKind::Gate => "gate",
            EventKind::Halt => "halt",
            EventKind::Extend => "extend",
            EventKind::Rollback => "rollback",
        }
    }
}

fn on() -> bool {
    true
}

fn off() -> Spanned<bool> {
    Spanned::new(0..0, false)
}

fn default_namespace() -> Spanned<String> {
    Spanned::new(0..0, "Cutover".to_owned())
}

fn default_interval_secs() -> Spanned<u64> {
    Spanned::new(0..0, 60)
}

/// CloudWatch takes at most this many alarm names in one `DescribeAlarms`.
const MAX_ALARMS: usize = 100;

impl TelemetrySection {
    /// The CloudWatch settings when that output is switched on.
    #[must_use]
    pub fn cloudwatch_on(&self) -> Option<&CloudWatchConfig> {
        self.cloudwatch.as_ref().filter(|c| c.enabled)
    }

    /// The status page settings when that output is switched on.
    #[must_use]
    pub fn status_page_on(&self) -> Option<&StatusPageConfig> {
        self.status_page.as_ref().filter(|s| s.enabled)
    }

    /// The webhooks that are switched on, with their place in the plan
    /// (1-based) so messages can name one without showing its URL.
    pub fn webhooks_on(&self) -> impl Iterator<Item = (usize, &WebhookConfig)> {
        self.webhooks
            .iter()
            .enumerate()
            .map(|(i, w)| (i + 1, w.get_ref()))
            .filter(|(_, w)| w.enabled)
    }

    /// Every problem in the section. `tenants` are the plan's tenant ids that
    /// status page groups may name.
    #[must_use]
    pub fn validate(&self, tenants: &[String]) -> Vec<Problem> {
        let mut problems = Vec::new();
        if let Some(cw) = &self.cloudwatch {
            cw.check(&mut problems);
        }
        if let Some(page) = &self.status_page {
            page.check(tenants, &mut problems);
        }
        for webhook in &self.webhooks {
            check_webhook(webhook, &mut problems);
        }
        problems
    }
}

impl CloudWatchConfig {
    fn check(&self, problems: &mut Vec<Problem>) {
        if let Some(region) = &self.region {
            let r = region.get_ref();
            let well_formed = !r.is_empty()
                && r.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !well_formed {
                problems.push((
                    region.span(),
                    format!("{r:?} is not an AWS region"),
                    Some("write it as AWS does, e.g. \"eu-west-1\"".to_owned()),
                ));
            }
        }
        if let Some(url) = &self.endpoint_url {
            let u = url.get_ref();
            let rest = u
                .strip_prefix("http://")
                .or_else(|| u.strip_prefix("https://"));
            if rest.is_none_or(|host| host.is_empty() || host.starts_with('/')) {
                problems.push((
                    url.span(),
                    format!("endpoint-url {u:?} is not an http:// or https:// URL"),
                    Some("e.g. \"http://127.0.0.1:4577\" for a local emulator".to_owned()),
                ));
            }
        }
        let ns = self.namespace.get_ref();
        if ns.is_empty() || ns.len() > 255 || !ns.chars().all(|c| c.is_ascii_graphic() || c == ' ')
        {
            problems.push((
                self.namespace.span(),
                "namespace must be 1 to 255 printable ASCII characters".to_owned(),
                Some("e.g. \"Cutover\"".to_owned()),
            ));
        } else if ns.starts_with("AWS/") {
            problems.push((
                self.namespace.span(),
                "namespaces starting with AWS/ are reserved for AWS services".to_owned(),
                Some("e.g. \"Cutover\"".to_owned()),
            ));
        }
        let interval = *self.interval_secs.get_ref();
        if !(1..=3600).contains(&interval) {
            problems.push((
                self.interval_secs.span(),
                format!("interval-secs {interval} is not between 1 and 3600"),
                Some("60 matches CloudWatch's standard resolution".to_owned()),
            ));
        }
        let mut seen = HashSet::new();
        for alarm in &self.alarms {
            let name = alarm.get_ref();
            if name.trim().is_empty() || name.len() > 255 {
                problems.push((
                    alarm.span(),
                    "an alarm name is 1 to 255 characters".to_owned(),
                    None,
                ));
            } else if !seen.insert(name.as_str()) {
                problems.push((alarm.span(), format!("alarm {name} is listed twice"), None));
            }
        }
        if self.alarms.len() > MAX_ALARMS {
            problems.push((
                self.alarms[MAX_ALARMS].span(),
                format!("at most {MAX_ALARMS} alarms can be read at once"),
                Some("a composite alarm can stand for many".to_owned()),
            ));
        }
        if *self.alarm_gate.get_ref() && self.alarms.is_empty() {
            problems.push((
                self.alarm_gate.span(),
                "alarm-gate is on but no alarms are named".to_owned(),
                Some("list them: alarms = [\"dst-fleet-cpu\"]".to_owned()),
            ));
        }
    }
}

impl StatusPageConfig {
    /// The output folder, relative paths taken from the plan's folder.
    #[must_use]
    pub fn resolved_dir(&self, plan_dir: &Path) -> PathBuf {
        let dir = Path::new(self.dir.get_ref());
        if dir.is_absolute() {
            dir.to_owned()
        } else {
            plan_dir.join(dir)
        }
    }

    /// The page's components with their tenants: the configured groups, or
    /// one per tenant (in the order given) when none are configured.
    #[must_use]
    pub fn components(&self, tenants: &[String]) -> Vec<(String, Vec<String>)> {
        if self.groups.is_empty() {
            let mut seen = HashSet::new();
            return tenants
                .iter()
                .filter(|t| seen.insert(t.as_str()))
                .map(|t| (t.clone(), vec![t.clone()]))
                .collect();
        }
        self.groups
            .iter()
            .map(|g| {
                (
                    g.name.get_ref().clone(),
                    g.tenants.iter().map(|t| t.get_ref().clone()).collect(),
                )
            })
            .collect()
    }

    fn check(&self, tenants: &[String], problems: &mut Vec<Problem>) {
        if self.dir.get_ref().trim().is_empty() {
            problems.push((
                self.dir.span(),
                "the status page needs a folder".to_owned(),
                Some("e.g. dir = \"/var/www/cutover-status\"".to_owned()),
            ));
        }
        if let Some(title) = &self.title
            && title.get_ref().trim().is_empty()
        {
            problems.push((
                title.span(),
                "the title is empty".to_owned(),
                Some("leave it out to use the plan's name".to_owned()),
            ));
        }
        let known: HashSet<&str> = tenants.iter().map(String::as_str).collect();
        let mut names = HashSet::new();
        let mut placed: HashSet<&str> = HashSet::new();
        for group in &self.groups {
            let name = group.name.get_ref();
            if name.trim().is_empty() {
                problems.push((group.name.span(), "a group needs a name".to_owned(), None));
            } else if !names.insert(name.as_str()) {
                problems.push((
                    group.name.span(),
                    format!("group {name} is listed twice"),
                    None,
                ));
            }
            if group.tenants.is_empty() {
                problems.push((
                    group.name.span(),
                    format!("group {name} has no tenants"),
                    Some("tenants = [\"acme\", \"globex\"]".to_owned()),
                ));
            }
            for tenant in &group.tenants {
                let t = tenant.get_ref().as_str();
                if !known.contains(t) {
                    problems.push((
                        tenant.span(),
                        format!("the plan has no tenant {t}"),
                        Some(known_list(tenants)),
                    ));
                } else if !placed.insert(t) {
                    problems.push((
                        tenant.span(),
                        format!("tenant {t} is in more than one group"),
                        Some("a tenant belongs to one component of the page".to_owned()),
                    ));
                }
            }
        }
    }
}

fn known_list(tenants: &[String]) -> String {
    let mut shown: Vec<&str> = tenants.iter().map(String::as_str).collect();
    shown.sort_unstable();
    shown.dedup();
    let more = shown.len().saturating_sub(8);
    shown.truncate(8);
    if more > 0 {
        format!("tenants are {} and {more} more", shown.join(", "))
    } else {
        format!("tenants are {}", shown.join(", "))
    }
}

fn check_webhook(webhook: &Spanned<WebhookConfig>, problems: &mut Vec<Problem>) {
    let w = webhook.get_ref();
    if w.url.is_some() {
        // Points at the table's header, not the value: a diagnostic that
        // quotes the line must not print the secret again.
        problems.push((
            webhook.span(),
            "a webhook URL is a secret and may not be written in the plan".to_owned(),
            Some(
                "put it in an environment variable (url-env) or a chmod 600 file \
                 (url-file), and revoke this one"
                    .to_owned(),
            ),
        ));
    }
    match (&w.url_env, &w.url_file) {
        (Some(_), Some(file)) => problems.push((
            file.span(),
            "a webhook takes its URL from url-env or url-file, not both".to_owned(),
            None,
        )),
        (None, None) if w.url.is_none() => problems.push((
            webhook.span(),
            "a webhook needs url-env or url-file".to_owned(),
            Some("url-env = \"CUTOVER_SLACK_URL\"".to_owned()),
        )),
        _ => {}
    }
    if let Some(var) = &w.url_env {
        let v = var.get_ref();
        let mut chars = v.chars();
        let well_formed = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !well_formed {
            problems.push((
                var.span(),
                format!("{v:?} is not an environment variable name"),
                Some("letters, digits and _, e.g. CUTOVER_SLACK_URL".to_owned()),
            ));
        }
    }
    if let Some(file) = &w.url_file
        && file.get_ref().trim().is_empty()
    {
        problems.push((file.span(), "url-file is empty".to_owned(), None));
    }
    if let Some(events) = &w.events
        && events.get_ref().is_empty()
    {
        problems.push((
            events.span(),
            "an empty events list sends nothing".to_owned(),
            Some("leave events out to receive all, or set enabled = false".to_owned()),
        ));
    }
}

impl WebhookConfig {
    /// Whether this endpoint wants notices of `kind`.
    #[must_use]
    pub fn wants(&self, kind: EventKind) -> bool {
        self.events
            .as_ref()
            .is_none_or(|events| events.get_ref().contains(&kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<TelemetrySection, toml::de::Error> {
        #[derive(Deserialize)]
        struct Plan {
            telemetry: TelemetrySection,
        }
        toml::from_str::<Plan>(text).map(|p| p.telemetry)
    }

    fn tenants() -> Vec<String> {
        ["acme", "globex", "initech"].map(str::to_owned).to_vec()
    }

    #[test]
    fn the_documented_example_parses_and_validates() {
        let text = r#"
[telemetry.cloudwatch]
enabled = true
region = "eu-west-1"
endpoint-url = "http://127.0.0.1:4577"
namespace = "Cutover"
interval-secs = 60
alarms = ["dst-fleet-cpu", "dst-latency"]
alarm-gate = true
[telemetry.status-page]
enabled = true
dir = "status"
title = "Mail migration"
show-mailboxes = false
groups = [ { name = "Partner A", tenants = ["acme", "globex"] } ]
[[telemetry.webhook]]
url-env = "CUTOVER_SLACK_URL"
style = "slack"
events = ["wave", "gate", "halt", "extend", "rollback"]
"#;
        let section = parse(text).unwrap();
        assert_eq!(section.validate(&tenants()), Vec::new());
        let cw = section.cloudwatch_on().unwrap();
        assert!(*cw.alarm_gate.get_ref());
        assert_eq!(cw.alarms.len(), 2);
        let page = section.status_page_on().unwrap();
        assert_eq!(
            page.resolved_dir(Path::new("/plans")),
            PathBuf::from("/plans/status")
        );
        assert_eq!(
            page.components(&tenants()),
            vec![(
                "Partner A".to_owned(),
                vec!["acme".to_owned(), "globex".to_owned()]
            )]
        );
        assert_eq!(section.webhooks_on().count(), 1);
    }

    #[test]
    fn absent_tables_are_off_and_defaults_fill_in() {
        let section = parse("[telemetry]\n").unwrap();
        assert!(section.cloudwatch_on().is_none());
        assert!(section.status_page_on().is_none());
        assert_eq!(section.webhooks_on().count(), 0);

        let section =
            parse("[telemetry.cloudwatch]\n[telemetry.status-page]\ndir = \"s\"\n").unwrap();
        let cw = section.cloudwatch_on().unwrap();
        assert_eq!(cw.namespace.get_ref(), "Cutover");
        assert_eq!(*cw.interval_secs.get_ref(), 60);
        let page = section.status_page_on().unwrap();
        assert_eq!(
            page.components(&["b".to_owned(), "a".to_owned(), "b".to_owned()]),
            vec![
                ("b".to_owned(), vec!["b".to_owned()]),
                ("a".to_owned(), vec!["a".to_owned()])
            ]
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(parse("[telemetry.cloudwatch]\nregoin = \"x\"\n").is_err());
        assert!(parse("[[telemetry.webhook]]\nurl-env = \"X\"\nstyle = \"irc\"\n").is_err());
    }

    #[test]
    fn problems_point_at_the_value_at_fault() {
        let text = r#"[telemetry.cloudwatch]
region = "EU West"
endpoint-url = "ftp://x"
namespace = "AWS/EC2"
interval-secs = 0
alarms = ["a", "a"]
[telemetry.status-page]
dir = ""
groups = [ { name = "P", tenants = ["acme", "nope"] }, { name = "P", tenants = ["acme"] } ]
[[telemetry.webhook]]
url-env = "1BAD"
url-file = "/x"
events = []
[[telemetry.webhook]]
url = "https://hooks.example/secret-token"
"#;
        let section = parse(text).unwrap();
        let problems = section.validate(&tenants());
        let found = |needle: &str| {
            let (span, _, _) = problems
                .iter()
                .find(|(_, m, _)| m.contains(needle))
                .unwrap_or_else(|| panic!("no problem about {needle}: {problems:?}"));
            &text[span.clone()]
        };
        assert_eq!(found("AWS region"), "\"EU West\"");
        assert_eq!(found("endpoint-url"), "\"ftp://x\"");
        assert_eq!(found("reserved"), "\"AWS/EC2\"");
        assert_eq!(found("interval-secs"), "0");
        assert_eq!(found("listed twice"), "\"a\"");
        assert_eq!(found("needs a folder"), "\"\"");
        assert_eq!(found("no tenant nope"), "\"nope\"");
        assert_eq!(found("more than one group"), "\"acme\"");
        assert_eq!(found("group P is listed twice"), "\"P\"");
        assert_eq!(found("not both"), "\"/x\"");
        assert_eq!(found("environment variable name"), "\"1BAD\"");
        assert_eq!(found("sends nothing"), "[]");
        assert_eq!(found("may not be written"), "[[telemetry.webhook]]");
        assert!(problems.iter().all(|(_, m, h)| !m.contains("secret-token")
            && !h.as_deref().unwrap_or("").contains("secret-token")));
    }

    #[test]
    fn a_webhook_without_a_url_source_points_at_its_header() {
        let text = "[[telemetry.webhook]]\nstyle = \"teams\"\n";
        let section = parse(text).unwrap();
        let problems = section.validate(&[]);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].1.contains("needs url-env or url-file"));
        assert_eq!(&text[problems[0].0.clone()], "[[telemetry.webhook]]");
    }

    #[test]
    fn an_alarm_gate_needs_alarms() {
        let section = parse("[telemetry.cloudwatch]\nalarm-gate = true\n").unwrap();
        let problems = section.validate(&[]);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].1.contains("no alarms"));
    }

    #[test]
    fn events_filter_what_a_webhook_receives() {
        let section =
            parse("[[telemetry.webhook]]\nurl-env = \"U\"\nevents = [\"halt\"]\n").unwrap();
        let (_, hook) = section.webhooks_on().next().unwrap();
        assert!(hook.wants(EventKind::Halt));
        assert!(!hook.wants(EventKind::Wave));
        let section = parse("[[telemetry.webhook]]\nurl-env = \"U\"\n").unwrap();
        let (_, hook) = section.webhooks_on().next().unwrap();
        assert!(EventKind::ALL.iter().all(|k| hook.wants(*k)));
    }
}
