//! Label and field selectors (`labelSelector=`, `fieldSelector=`) as the API
//! server parses and applies them.

use serde_json::Value;

use crate::model::ResourceKind;

/// A parsed label selector (the syntax is `label_selector`'s); all
/// requirements must match.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct LabelSelector(label_selector::Selector);

impl LabelSelector {
    /// Parses the selector syntax (`a=b,c!=d,e in (f,g),h notin (i),j,!k`).
    pub(crate) fn parse(s: &str) -> Result<Self, String> {
        label_selector::Selector::parse(s)
            .map(Self)
            .map_err(|e| format!("unable to parse requirement: {e}"))
    }

    /// Whether the selector is empty (matches everything).
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `obj`'s `metadata.labels` satisfy every requirement.
    pub(crate) fn matches(&self, obj: &Value) -> bool {
        let labels = obj.pointer("/metadata/labels").and_then(Value::as_object);
        self.0
            .matches(|k| labels.and_then(|l| l.get(k)).and_then(Value::as_str))
    }
}

/// A parsed field selector; all terms must match.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct FieldSelector(Vec<(String, bool, String)>);

/// Field paths each kind supports in field selectors, with their JSON pointers.
fn field_pointer(kind: ResourceKind, field: &str) -> Option<&'static str> {
    let common = match field {
        "metadata.name" => Some("/metadata/name"),
        "metadata.namespace" => Some("/metadata/namespace"),
        _ => None,
    };
    if common.is_some() {
        return common;
    }
    match (kind, field) {
        (ResourceKind::Pod, "spec.nodeName") => Some("/spec/nodeName"),
        (ResourceKind::Pod, "spec.restartPolicy") => Some("/spec/restartPolicy"),
        (ResourceKind::Pod, "spec.schedulerName") => Some("/spec/schedulerName"),
        (ResourceKind::Pod, "spec.serviceAccountName") => Some("/spec/serviceAccountName"),
        (ResourceKind::Pod, "status.phase") => Some("/status/phase"),
        (ResourceKind::Pod, "status.podIP") => Some("/status/podIP"),
        (ResourceKind::Pod, "status.nominatedNodeName") => Some("/status/nominatedNodeName"),
        (ResourceKind::Node, "spec.unschedulable") => Some("/spec/unschedulable"),
        (ResourceKind::Namespace, "status.phase") => Some("/status/phase"),
        (ResourceKind::ReplicaSet, "status.replicas") => Some("/status/replicas"),
        (ResourceKind::Job, "status.successful") => Some("/status/successful"),
        (ResourceKind::Service, "spec.clusterIP") => Some("/spec/clusterIP"),
        (ResourceKind::Service, "spec.type") => Some("/spec/type"),
        (ResourceKind::Event, field) => event_field_pointer(field),
        _ => None,
    }
}

/// The field selectors the API server supports on core Events.
fn event_field_pointer(field: &str) -> Option<&'static str> {
    Some(match field {
        "involvedObject.kind" => "/involvedObject/kind",
        "involvedObject.namespace" => "/involvedObject/namespace",
        "involvedObject.name" => "/involvedObject/name",
        "involvedObject.uid" => "/involvedObject/uid",
        "involvedObject.apiVersion" => "/involvedObject/apiVersion",
        "involvedObject.resourceVersion" => "/involvedObject/resourceVersion",
        "involvedObject.fieldPath" => "/involvedObject/fieldPath",
        "reason" => "/reason",
        "reportingComponent" => "/reportingComponent",
        "source" => "/source/component",
        "type" => "/type",
        _ => return None,
    })
}

impl FieldSelector {
    /// Parses `a=b,c==d,e!=f`, rejecting fields the kind does not support
    /// (with the API server's message).
    pub(crate) fn parse(s: &str, kind: ResourceKind) -> Result<Self, String> {
        let mut terms = Vec::new();
        for part in s.split(',') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (field, negate, value) = if let Some((k, v)) = part.split_once("!=") {
                (k, true, v)
            } else if let Some((k, v)) = part.split_once("==") {
                (k, false, v)
            } else if let Some((k, v)) = part.split_once('=') {
                (k, false, v)
            } else {
                return Err(format!(
                    "invalid selector: '{part}'; can't understand '{part}'"
                ));
            };
            let field = field.trim();
            if field_pointer(kind, field).is_none() {
                return Err(format!(r#"field label not supported: {field}"#));
            }
            terms.push((field.to_string(), negate, value.trim().to_string()));
        }
        Ok(Self(terms))
    }

    /// Whether the selector is empty (matches everything).
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `obj` satisfies every term (absent fields read as `""`).
    pub(crate) fn matches(&self, obj: &Value, kind: ResourceKind) -> bool {
        self.0.iter().all(|(field, negate, want)| {
            let got = field_pointer(kind, field)
                .and_then(|p| obj.pointer(p))
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                })
                .unwrap_or_default();
            (got == *want) != *negate
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn label_selector_forms() {
        let pod = json!({"metadata": {"labels": {"app": "web", "tier": "front", "n": "5"}}});
        let m = |s: &str| LabelSelector::parse(s).expect("parses").matches(&pod);
        assert!(m("app=web"));
        assert!(m("app==web,tier=front"));
        assert!(!m("app!=web"));
        assert!(m("app in (web, api)"));
        assert!(!m("app notin (web)"));
        assert!(m("tier"));
        assert!(m("!missing"));
        assert!(!m("!app"));
        assert!(m("n>4,n<6"));
        assert!(m(""));
        assert!(LabelSelector::parse("a in b").is_err());
    }

    #[test]
    fn field_selector_forms() {
        let pod =
            json!({"metadata": {"name": "p", "namespace": "ns"}, "status": {"phase": "Running"}});
        let m = |s: &str| {
            FieldSelector::parse(s, ResourceKind::Pod)
                .expect("parses")
                .matches(&pod, ResourceKind::Pod)
        };
        assert!(m("metadata.name=p"));
        assert!(m("status.phase!=Pending,metadata.namespace==ns"));
        assert!(m("spec.nodeName="));
        assert!(!m("spec.nodeName!="));
        assert!(FieldSelector::parse("spec.bogus=1", ResourceKind::Pod).is_err());
    }

    #[test]
    fn event_field_selectors() {
        let ev = json!({"metadata": {"name": "e", "namespace": "ns"},
            "involvedObject": {"kind": "Pod", "name": "p", "namespace": "ns", "uid": "u"},
            "type": "Warning", "reason": "BackOff", "source": {"component": "kubelet"}});
        let m = |s: &str| {
            FieldSelector::parse(s, ResourceKind::Event)
                .expect("parses")
                .matches(&ev, ResourceKind::Event)
        };
        assert!(m("involvedObject.kind=Pod,involvedObject.name=p"));
        assert!(m("involvedObject.namespace=ns,involvedObject.uid=u"));
        assert!(m("type=Warning,reason=BackOff,source=kubelet"));
        assert!(!m("type=Normal"));
        assert!(FieldSelector::parse("involvedObject.kind=Pod", ResourceKind::Pod).is_err());
    }
}
