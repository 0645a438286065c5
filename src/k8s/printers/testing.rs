//! Helpers shared by the printers' unit tests.

use serde::de::DeserializeOwned;
use serde_json::Value;

/// Builds a typed object from its JSON form, as the API server would send it.
pub(super) fn from_json<T: DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("the test object is a valid Kubernetes object")
}
