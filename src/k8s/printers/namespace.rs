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
