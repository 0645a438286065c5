//! YAML output of Kubernetes objects, behind one function so the library can be
//! swapped.
//!
//! serde-saphyr (the YAML library kube-rs itself uses) quotes every string that a
//! YAML 1.1 reader such as kubectl's would take for a boolean, number, null or
//! timestamp (`"yes"`, `"on"`, `"0777"`, `"2024-01-01"`, `"~"`), so the text reads
//! back as the same object there too.

use serde::Serialize;

use crate::error::AppError;

/// The object as YAML text.
pub fn to_yaml(object: &impl Serialize) -> Result<String, AppError> {
    serde_saphyr::to_string(object)
        .map_err(|e| AppError::internal(anyhow::anyhow!("cannot write YAML: {e}")))
}
