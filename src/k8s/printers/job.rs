//! Job columns: STATUS, COMPLETIONS, DURATION and the wide CONTAINERS, IMAGES,
//! SELECTOR.

use k8s_openapi::api::batch::v1::{Job, JobCondition};

use super::{chrono_time, containers, human_duration, selector, time_text};

/// kubectl's cells for one Job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobColumns {
    /// STATUS: `Complete`, `Failed`, `Terminating`, `Suspended`, `FailureTarget`,
    /// `SuccessCriteriaMet` or `Running`, the first that holds in that order.
    pub status: String,
    /// COMPLETIONS: `1/3`, or `0/1 of 4` for a work queue with parallelism 4.
    pub completions: String,
    /// `status.startTime` (RFC 3339).
    pub start_time: Option<String>,
    /// `status.completionTime` (RFC 3339).
    pub completion_time: Option<String>,
    /// DURATION once the Job has both a start and a completion time (`135m`); null
    /// while it runs (kubectl then prints the time since `start_time`).
    pub duration: Option<String>,
    /// CONTAINERS, split on `,`.
    pub container_names: Vec<String>,
    /// IMAGES, split on `,`.
    pub images: Vec<String>,
    /// SELECTOR (`<none>` when empty).
    pub selector: String,
}

/// Port of upstream `printJob`.
pub fn job(o: &Job) -> JobColumns {
    let spec = o.spec.as_ref();
    let status = o.status.as_ref();
    let succeeded = status.and_then(|s| s.succeeded).unwrap_or(0);
    let completions = match spec.and_then(|s| s.completions) {
        Some(completions) => format!("{succeeded}/{completions}"),
        None => match spec.and_then(|s| s.parallelism).unwrap_or(0) {
            parallelism if parallelism > 1 => format!("{succeeded}/1 of {parallelism}"),
            _ => format!("{succeeded}/1"),
        },
    };
    let start = status.and_then(|s| s.start_time.as_ref());
    let completion = status.and_then(|s| s.completion_time.as_ref());
    let duration = match (chrono_time(start), chrono_time(completion)) {
        (Some(start), Some(completion)) => Some(human_duration(completion - start)),
        _ => None,
    };
    let conditions: &[JobCondition] = status.and_then(|s| s.conditions.as_deref()).unwrap_or(&[]);
    let status = if has_job_condition(conditions, "Complete") {
        "Complete"
    } else if has_job_condition(conditions, "Failed") {
        "Failed"
    } else if o.metadata.deletion_timestamp.is_some() {
        "Terminating"
    } else if has_job_condition(conditions, "Suspended") {
        "Suspended"
    } else if has_job_condition(conditions, "FailureTarget") {
        "FailureTarget"
    } else if has_job_condition(conditions, "SuccessCriteriaMet") {
        "SuccessCriteriaMet"
    } else {
        "Running"
    };
    let (container_names, images) = containers(spec.map(|s| &s.template));
    JobColumns {
        status: status.to_string(),
        completions,
        start_time: time_text(start),
        completion_time: time_text(completion),
        duration,
        container_names,
        images,
        selector: selector(spec.and_then(|s| s.selector.as_ref())),
    }
}

/// Upstream `hasJobCondition`: the first condition of that type decides.
fn has_job_condition(conditions: &[JobCondition], type_: &str) -> bool {
    conditions
        .iter()
        .find(|c| c.type_ == type_)
        .is_some_and(|c| c.status == "True")
}
