//! Helpers shared by the printers' unit tests.

use serde::de::DeserializeOwned;
use serde_json::Value;

/// Builds a typed object from its JSON form, as the API server would send it.
pub(super) fn from_json<T: DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("the test object is a valid Kubernetes object")
}

/// Owned strings from string slices, for comparing split cells.
pub(super) fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_string()).collect()
}

/// The two-container pod template upstream's workload tests share.
pub(super) fn two_containers(prefix: &str) -> serde_json::Value {
    serde_json::json!({"spec": {"containers": [
        {"name": format!("fake-{prefix}container1"), "image": format!("fake-{prefix}image1")},
        {"name": format!("fake-{prefix}container2"), "image": format!("fake-{prefix}image2")}
    ]}})
}
