//! Kubernetes label selectors in their text form
//! (`app=web,tier!=db,env in (a,b),!canary`), as the API server's
//! `labels.Parse` reads them: parsed once, then matched against any object's
//! labels through a look-up function, so callers keep their own label maps.
//!
//! Supported: `k=v`, `k==v`, `k!=v`, `k in (v1,v2)`, `k notin (v1)`, `k`,
//! `!k`, `k>n`, `k<n`. Keys are qualified names (`[prefix/]name`), values
//! label values; anything else is refused with a message naming the part.

/// One requirement of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
    Gt(String, i64),
    Lt(String, i64),
}

impl Requirement {
    fn key(&self) -> &str {
        match self {
            Requirement::Eq(k, _)
            | Requirement::NotEq(k, _)
            | Requirement::In(k, _)
            | Requirement::NotIn(k, _)
            | Requirement::Exists(k)
            | Requirement::NotExists(k)
            | Requirement::Gt(k, _)
            | Requirement::Lt(k, _) => k,
        }
    }

    fn values(&self) -> &[String] {
        match self {
            Requirement::Eq(_, v) | Requirement::NotEq(_, v) => std::slice::from_ref(v),
            Requirement::In(_, vs) | Requirement::NotIn(_, vs) => vs,
            _ => &[],
        }
    }
}

/// A parsed label selector: every requirement must hold (empty: matches all).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector(Vec<Requirement>);

impl Selector {
    /// Parses the selector syntax; the error says which part is wrong and why.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut requirements = Vec::new();
        for part in split_top_level(text) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let requirement = parse_requirement(part)?;
            if !valid_key(requirement.key()) {
                return Err(format!(
                    "invalid label key {:?} in {part:?}",
                    requirement.key()
                ));
            }
            if let Some(value) = requirement.values().iter().find(|v| !valid_value(v)) {
                return Err(format!("invalid label value {value:?} in {part:?}"));
            }
            requirements.push(requirement);
        }
        Ok(Selector(requirements))
    }

    /// Whether the selector matches everything.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether the labels that `label` looks up satisfy every requirement.
    pub fn matches<'a>(&self, label: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.0.iter().all(|requirement| match requirement {
            Requirement::Eq(k, v) => label(k) == Some(v.as_str()),
            Requirement::NotEq(k, v) => label(k) != Some(v.as_str()),
            Requirement::In(k, vs) => label(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Requirement::NotIn(k, vs) => label(k).is_none_or(|x| vs.iter().all(|v| v != x)),
            Requirement::Exists(k) => label(k).is_some(),
            Requirement::NotExists(k) => label(k).is_none(),
            Requirement::Gt(k, n) => number(label(k)).is_some_and(|x| x > *n),
            Requirement::Lt(k, n) => number(label(k)).is_some_and(|x| x < *n),
        })
    }
}

fn number(value: Option<&str>) -> Option<i64> {
    value.and_then(|x| x.parse().ok())
}

fn parse_requirement(part: &str) -> Result<Requirement, String> {
    let key_value = |k: &str, v: &str| (k.trim().to_owned(), v.trim().to_owned());
    let integer = |v: &str| {
        v.trim()
            .parse::<i64>()
            .map_err(|_| format!("{part:?} compares with {:?}, not an integer", v.trim()))
    };
    Ok(if let Some(key) = part.strip_prefix('!') {
        Requirement::NotExists(key.trim().to_owned())
    } else if let Some((k, v)) = part.split_once("!=") {
        let (k, v) = key_value(k, v);
        Requirement::NotEq(k, v)
    } else if let Some((k, v)) = part.split_once("==") {
        let (k, v) = key_value(k, v);
        Requirement::Eq(k, v)
    } else if let Some((k, v)) = part.split_once('=') {
        let (k, v) = key_value(k, v);
        Requirement::Eq(k, v)
    } else if let Some((k, rest)) = split_word(part, "notin") {
        Requirement::NotIn(k.trim().to_owned(), parse_set(part, rest)?)
    } else if let Some((k, rest)) = split_word(part, "in") {
        Requirement::In(k.trim().to_owned(), parse_set(part, rest)?)
    } else if let Some((k, v)) = part.split_once('>') {
        Requirement::Gt(k.trim().to_owned(), integer(v)?)
    } else if let Some((k, v)) = part.split_once('<') {
        Requirement::Lt(k.trim().to_owned(), integer(v)?)
    } else {
        Requirement::Exists(part.to_owned())
    })
}

/// Splits `key <word> (...)` at the operator word (surrounded by white space,
/// or followed directly by the set's parenthesis).
fn split_word<'a>(part: &'a str, word: &str) -> Option<(&'a str, &'a str)> {
    let mut words = part.splitn(2, char::is_whitespace);
    let key = words.next()?;
    let rest = words.next()?.trim_start();
    let after = rest.strip_prefix(word)?;
    (after.starts_with(char::is_whitespace) || after.starts_with('('))
        .then_some((key, after.trim_start()))
}

/// Splits on commas that are not inside parentheses.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn parse_set(part: &str, rest: &str) -> Result<Vec<String>, String> {
    let rest = rest.trim();
    let inner = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| format!("{part:?} needs a set of values in parentheses"))?;
    let values: Vec<String> = inner
        .split(',')
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect();
    if values.is_empty() {
        return Err(format!("{part:?} has an empty set of values"));
    }
    Ok(values)
}

/// A qualified name: an optional DNS subdomain prefix and `/`, then a name of
/// at most 63 characters of `[A-Za-z0-9._-]`, starting and ending
/// alphanumeric (the API server's label-key rule).
pub fn valid_key(key: &str) -> bool {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && p.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            })
    });
    prefix_ok && !name.is_empty() && valid_value(name)
}

/// A label value: empty, or at most 63 characters of `[A-Za-z0-9._-]`,
/// starting and ending alphanumeric (the API server's label-value rule).
pub fn valid_value(value: &str) -> bool {
    value.is_empty()
        || (value.len() <= 63
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && value.starts_with(|c: char| c.is_ascii_alphanumeric())
            && value.ends_with(|c: char| c.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn labels() -> BTreeMap<&'static str, &'static str> {
        BTreeMap::from([
            ("app", "web"),
            ("tier", "front"),
            ("n", "5"),
            ("example.com/team", "a"),
        ])
    }

    fn matches(selector: &str) -> bool {
        let labels = labels();
        Selector::parse(selector)
            .expect("parses")
            .matches(|k| labels.get(k).copied())
    }

    #[test]
    fn every_operator_matches_as_the_api_server_does() {
        assert!(matches("app=web"));
        assert!(matches("app==web,tier=front"));
        assert!(!matches("app!=web"));
        assert!(matches("missing!=web"), "!= holds for a missing label");
        assert!(matches("app in (web, api)"));
        assert!(!matches("app in (api)"));
        assert!(!matches("app notin (web)"));
        assert!(matches("missing notin (web)"));
        assert!(matches("tier"));
        assert!(!matches("missing"));
        assert!(matches("!missing"));
        assert!(!matches("!app"));
        assert!(matches("n>4,n<6"));
        assert!(!matches("n>5"));
        assert!(matches("example.com/team=a"));
        assert!(matches(""), "empty matches everything");
        assert!(matches("app=web, env notin (prod,staging) ,!canary"));
    }

    #[test]
    fn malformed_selectors_are_refused_with_the_part_named() {
        for bad in [
            "a in b",
            "a in ()",
            "a=b c",
            "-app=web",
            "app=web!",
            "Example.com/x=y",
            "n>five",
            "=web",
            "app in (a,b",
        ] {
            let err = Selector::parse(bad).expect_err(bad);
            assert!(!err.is_empty(), "{bad}");
        }
    }
}
