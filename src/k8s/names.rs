//! Kubernetes name rules, checked before anything is sent to a cluster.

use crate::error::AppError;

/// Longest DNS-1123 label (namespaces).
pub const MAX_LABEL_LEN: usize = 63;
/// Longest DNS-1123 subdomain (pod names).
pub const MAX_SUBDOMAIN_LEN: usize = 253;

fn is_label(s: &str) -> bool {
    let bytes = s.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_LABEL_LEN
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

/// A namespace must be a DNS-1123 label: lower-case letters, digits and '-',
/// starting and ending with a letter or digit, at most 63 characters.
pub fn validate_namespace(field: &str, namespace: &str) -> Result<(), AppError> {
    if is_label(namespace) {
        Ok(())
    } else {
        Err(AppError::invalid(
            field,
            "must be a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters)",
        ))
    }
}

/// A namespace name, checked once where it enters the gateway (a DNS-1123
/// label, see [`validate_namespace`]): reads and their authorisation
/// ([`crate::auth::Viewer::authorize_read`]) take this, never a bare string,
/// so no path can skip the check.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Namespace(String);

impl Namespace {
    /// `text` as a namespace, or `InvalidParameter` naming `field`.
    pub fn parse(field: &str, text: impl Into<String>) -> Result<Self, AppError> {
        let text = text.into();
        validate_namespace(field, &text)?;
        Ok(Namespace(text))
    }

    /// [`Namespace::parse`] of an optional argument.
    pub fn parse_optional(field: &str, text: Option<String>) -> Result<Option<Self>, AppError> {
        text.map(|text| Namespace::parse(field, text)).transpose()
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Namespace {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Namespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A pod name must be a DNS-1123 subdomain: labels joined by '.', at most 253
/// characters.
pub fn validate_pod_name(field: &str, name: &str) -> Result<(), AppError> {
    if name.len() <= MAX_SUBDOMAIN_LEN && name.split('.').all(is_label) {
        Ok(())
    } else {
        Err(AppError::invalid(
            field,
            "must be a DNS-1123 subdomain (lower-case letters, digits, '-' and '.', at most 253 characters)",
        ))
    }
}

/// A name filter is a substring of a pod name, so it may only hold the
/// characters pod names have.
pub fn validate_name_filter(field: &str, filter: &str) -> Result<(), AppError> {
    if filter.len() <= MAX_SUBDOMAIN_LEN
        && filter
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
    {
        Ok(())
    } else {
        Err(AppError::invalid(
            field,
            "may contain only lower-case letters, digits, '-' and '.' (at most 253 characters)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_namespace_is_only_made_from_a_valid_name() {
        assert_eq!(
            Namespace::parse("namespace", "team-a")
                .map(|ns| ns.to_string())
                .ok(),
            Some("team-a".to_owned())
        );
        let refused = Namespace::parse("filter.namespace", "Team A").expect_err("invalid");
        assert!(
            refused.to_string().contains("filter.namespace"),
            "{refused}"
        );
        assert_eq!(
            Namespace::parse_optional("namespace", None).ok(),
            Some(None)
        );
    }

    #[test]
    fn namespaces_are_dns_labels() {
        for ok in ["default", "kube-system", "a", "a1", &"n".repeat(63)] {
            assert!(validate_namespace("namespace", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Default",
            "-a",
            "a-",
            "a.b",
            "a b",
            "..",
            "a/b",
            "a%2Fb",
            &"n".repeat(64),
        ] {
            assert!(validate_namespace("namespace", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pod_names_are_dns_subdomains() {
        for ok in [
            "nginx-6f876d7d7d-hvl99",
            "etcd-master-0.lab.example.com",
            "a",
        ] {
            assert!(validate_pod_name("name", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "..",
            "a..b",
            ".a",
            "a.",
            "A",
            "a_b",
            "a/b",
            "a b",
            &"n".repeat(254),
        ] {
            assert!(validate_pod_name("name", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn name_filters_hold_only_name_characters() {
        assert!(validate_name_filter("name", "ngin").is_ok());
        assert!(validate_name_filter("name", "").is_ok());
        for bad in ["a/b", "a b", "%", "A"] {
            assert!(validate_name_filter("name", bad).is_err(), "{bad}");
        }
    }
}
