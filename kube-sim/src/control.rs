//! Test controls: injectable faults and per-kind request counters.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// A misbehaviour the simulator can be told to show.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Fault {
    /// Behave normally.
    #[default]
    None,
    /// Delay every matching request by this long, then answer normally.
    Latency(Duration),
    /// Answer with this HTTP status and a Kubernetes `Status` body (e.g. 500,
    /// 503, 429 with `Retry-After: 1`, 401, 403).
    Status(u16),
    /// Close the connection without sending any response.
    DropConnection,
    /// Never answer (the connection stays open until the client gives up or
    /// the simulator shuts down).
    Hang,
}

/// A fault with an optional scope: requests whose path starts with
/// `path_prefix`, only watch requests or only the others, and/or only the next
/// `times` matching requests.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FaultRule {
    /// What to do.
    pub fault: Fault,
    /// Only requests whose path starts with this (e.g. `/api/v1/nodes`).
    pub path_prefix: Option<String>,
    /// Only watch requests (`Some(true)`, `?watch=true`) or only the others
    /// (`Some(false)`): lists and watches share a path.
    pub watch: Option<bool>,
    /// Only this many matching requests, then the rule is removed.
    pub times: Option<u32>,
}

impl FaultRule {
    /// A rule applying `fault` to every request, forever.
    pub fn new(fault: Fault) -> Self {
        Self {
            fault,
            path_prefix: None,
            watch: None,
            times: None,
        }
    }

    /// Restricts the rule to paths starting with `prefix`.
    pub fn path_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.path_prefix = Some(prefix.into());
        self
    }

    /// Restricts the rule to watch requests (`true`) or to every other
    /// request (`false`), e.g. to fail a client's re-watch but not its list.
    pub fn watches(mut self, watch: bool) -> Self {
        self.watch = Some(watch);
        self
    }

    /// Restricts the rule to the next `n` matching requests.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    pub(crate) fn matches(&self, path: &str, watching: bool) -> bool {
        self.path_prefix
            .as_deref()
            .is_none_or(|p| path.starts_with(p))
            && self.watch.is_none_or(|w| w == watching)
    }
}

impl From<Fault> for FaultRule {
    fn from(fault: Fault) -> Self {
        Self::new(fault)
    }
}

/// Picks (and uses up) the first rule matching `path` (a watch request when
/// `watching`).
pub(crate) fn take_fault(rules: &mut Vec<FaultRule>, path: &str, watching: bool) -> Fault {
    let Some(i) = rules.iter().position(|r| r.matches(path, watching)) else {
        return Fault::None;
    };
    let fault = rules[i].fault.clone();
    if let Some(n) = rules[i].times.as_mut() {
        *n = n.saturating_sub(1);
        if *n == 0 {
            rules.remove(i);
        }
    }
    fault
}

/// A snapshot of request counts by kind of request.
///
/// Names are `"<verb> <resource>"`: `list pods`, `get pod`, `watch pods`,
/// `list nodes`, `get node`, `watch nodes`, `list replicasets`,
/// `get replicaset`, `watch replicasets`, `list deployments`,
/// `get deployment`, `list namespaces`, `get namespace`, and so on for every
/// served kind (`list statefulsets`, `get daemonset`, `watch jobs`,
/// `list cronjobs`, `get service`, `watch events`, ...), plus `discovery`
/// (`/version`, `/api`, `/apis`, ...), `health` (`/healthz`, `/livez`,
/// `/readyz`) and `other` (anything else). Every request that arrives is
/// counted, including ones then failed by a fault or by authentication. A
/// client that resumes a watch from its resourceVersion adds to `watch <resource>`
/// only; one that lists again adds to `list <resource>` (once per page).
/// Requests to `GET /_sim/counters`, which serves these counts as JSON
/// (`{"counters": {"list pods": 2, ...}, "total": 2}`), are not counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters(pub(crate) BTreeMap<String, u64>);

impl Counters {
    /// The count for one name (0 if none).
    pub fn get(&self, name: &str) -> u64 {
        self.0.get(name).copied().unwrap_or(0)
    }

    /// All requests counted.
    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }

    /// Every non-zero count, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.0.iter().map(|(k, v)| (k.as_str(), *v))
    }
}

impl fmt::Display for Counters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (k, v) in self.iter() {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            write!(f, "{k}: {v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_scope_and_expire() {
        let mut rules = vec![
            FaultRule::new(Fault::Status(500))
                .path_prefix("/api/v1/nodes")
                .times(2),
        ];
        assert_eq!(take_fault(&mut rules, "/api/v1/pods", false), Fault::None);
        assert_eq!(
            take_fault(&mut rules, "/api/v1/nodes", false),
            Fault::Status(500)
        );
        assert_eq!(
            take_fault(&mut rules, "/api/v1/nodes/x", true),
            Fault::Status(500)
        );
        assert_eq!(take_fault(&mut rules, "/api/v1/nodes", false), Fault::None);
        assert!(rules.is_empty());
    }

    #[test]
    fn rules_can_tell_watches_from_lists() {
        let mut rules = vec![
            FaultRule::new(Fault::Status(503))
                .path_prefix("/api/v1/pods")
                .watches(true),
        ];
        assert_eq!(take_fault(&mut rules, "/api/v1/pods", false), Fault::None);
        assert_eq!(
            take_fault(&mut rules, "/api/v1/pods", true),
            Fault::Status(503)
        );
        let mut rules = vec![FaultRule::new(Fault::Status(500)).watches(false)];
        assert_eq!(take_fault(&mut rules, "/api/v1/pods", true), Fault::None);
        assert_eq!(
            take_fault(&mut rules, "/api/v1/pods", false),
            Fault::Status(500)
        );
    }
}
