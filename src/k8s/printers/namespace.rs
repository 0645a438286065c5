//! Namespace columns: STATUS.

use k8s_openapi::api::core::v1::Namespace;

/// kubectl's cells for one Namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamespaceColumns {
    /// STATUS: `status.phase` (`Active`, `Terminating`), empty when unset.
    pub status: String,
}

/// Port of upstream `printNamespace`.
pub fn namespace(o: &Namespace) -> NamespaceColumns {
    NamespaceColumns {
        status: o
            .status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::from_json;
    use super::*;
    use serde_json::json;

    #[test]
    fn print_namespace_with_status_and_age() {
        let ns: Namespace = from_json(json!({
            "metadata": {"name": "namespace1", "creationTimestamp": "2024-06-10T12:00:01Z"},
            "status": {"phase": "FooStatus"}
        }));
        assert_eq!(namespace(&ns).status, "FooStatus");
    }

    #[test]
    fn print_namespace_without_status_or_age() {
        let ns: Namespace = from_json(json!({"metadata": {"name": "namespace2"}}));
        assert_eq!(
            namespace(&ns),
            NamespaceColumns {
                status: String::new()
            }
        );
    }
}
