//! Keeping secrets out of `json` and `yaml` answers (`OSP_REDACT`).
//!
//! Pod specs often carry secrets as literal env values, and the
//! `kubectl.kubernetes.io/last-applied-configuration` annotation repeats the
//! whole spec. [`Redaction::apply`] replaces every literal `env[].value` of
//! every container list (`containers`, `initContainers`,
//! `ephemeralContainers`) anywhere in an object (a Pod's spec, a workload's
//! pod template, a CronJob's job template) by [`REDACTED`], removes the
//! last-applied annotation from every `metadata`, and replaces the values of
//! the annotations named in `OSP_REDACT_ANNOTATIONS`. `valueFrom` references
//! stay: they name a secret, not its value. Summaries (kubectl's columns)
//! never read what is redacted, so they are the same either way.

use serde_json::Value;

/// What a redacted value reads.
pub const REDACTED: &str = "(redacted)";

/// The annotation kubectl keeps the last applied object in.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The container lists of a pod spec.
const CONTAINER_LISTS: [&str; 3] = ["containers", "initContainers", "ephemeralContainers"];

/// What is hidden from viewers who may not see objects as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Redaction {
    /// Annotations whose values are replaced (besides the last-applied one,
    /// which is removed).
    annotations: Vec<String>,
}

impl Redaction {
    /// Redacts env values, the last-applied annotation and `annotations`.
    pub fn new(annotations: impl IntoIterator<Item = String>) -> Self {
        Redaction {
            annotations: annotations
                .into_iter()
                .map(|a| a.trim().to_owned())
                .filter(|a| !a.is_empty())
                .collect(),
        }
    }

    /// Redacts `object` in place, wherever in it a pod spec or metadata is.
    pub fn apply(&self, object: &mut Value) {
        match object {
            Value::Object(map) => {
                for list in CONTAINER_LISTS {
                    let containers = map.get_mut(list).and_then(Value::as_array_mut);
                    for container in containers.into_iter().flatten() {
                        let env = container.get_mut("env").and_then(Value::as_array_mut);
                        for variable in env.into_iter().flatten() {
                            if let Some(value) = variable.get_mut("value") {
                                *value = Value::from(REDACTED);
                            }
                        }
                    }
                }
                let annotations = map
                    .get_mut("metadata")
                    .and_then(|meta| meta.get_mut("annotations"))
                    .and_then(Value::as_object_mut);
                if let Some(annotations) = annotations {
                    annotations.remove(LAST_APPLIED);
                    for key in &self.annotations {
                        if let Some(value) = annotations.get_mut(key) {
                            *value = Value::from(REDACTED);
                        }
                    }
                }
                for child in map.values_mut() {
                    self.apply(child);
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.apply(item);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pod_spec() -> Value {
        json!({
            "containers": [{ "name": "app", "env": [
                { "name": "PASSWORD", "value": "hunter2" },
                { "name": "TOKEN", "valueFrom": { "secretKeyRef": { "name": "s", "key": "t" } } },
                { "name": "EMPTY", "value": "" }
            ] }],
            "initContainers": [{ "name": "init", "env": [{ "name": "K", "value": "v" }] }],
            "ephemeralContainers": [{ "name": "debug", "env": [{ "name": "K", "value": "v" }] }]
        })
    }

    #[test]
    fn env_values_of_every_container_list_are_redacted_and_references_stay() {
        let mut pod = json!({ "kind": "Pod", "metadata": { "name": "p" }, "spec": pod_spec() });
        Redaction::default().apply(&mut pod);
        let env = &pod["spec"]["containers"][0]["env"];
        assert_eq!(env[0], json!({ "name": "PASSWORD", "value": REDACTED }));
        assert_eq!(
            env[1],
            json!({ "name": "TOKEN", "valueFrom": { "secretKeyRef": { "name": "s", "key": "t" } } })
        );
        assert_eq!(env[2]["value"], REDACTED);
        assert_eq!(
            pod["spec"]["initContainers"][0]["env"][0]["value"],
            REDACTED
        );
        assert_eq!(
            pod["spec"]["ephemeralContainers"][0]["env"][0]["value"],
            REDACTED
        );
        assert_eq!(pod["metadata"], json!({ "name": "p" }));
    }

    #[test]
    fn templates_of_workloads_and_cron_jobs_are_redacted_too() {
        let mut cron = json!({
            "kind": "CronJob",
            "metadata": { "annotations": { LAST_APPLIED: "{\"spec\":{}}", "team": "a" } },
            "spec": { "jobTemplate": { "spec": { "template": {
                "metadata": { "annotations": { LAST_APPLIED: "{}", "vault.example/token": "s3cr3t" } },
                "spec": pod_spec()
            } } } }
        });
        Redaction::new(["vault.example/token".to_owned(), " ".to_owned()]).apply(&mut cron);
        assert_eq!(cron["metadata"]["annotations"], json!({ "team": "a" }));
        let template = &cron["spec"]["jobTemplate"]["spec"]["template"];
        assert_eq!(
            template["metadata"]["annotations"],
            json!({ "vault.example/token": REDACTED })
        );
        assert_eq!(
            template["spec"]["containers"][0]["env"][0]["value"],
            REDACTED
        );
    }

    #[test]
    fn objects_without_secrets_are_left_as_they_are() {
        let node = json!({ "kind": "Node", "metadata": { "name": "n", "labels": { "a": "b" } },
                           "status": { "addresses": [{ "type": "InternalIP", "address": "10.0.0.1" }] } });
        let mut redacted = node.clone();
        Redaction::new(["a".to_owned()]).apply(&mut redacted);
        assert_eq!(redacted, node);
    }
}
