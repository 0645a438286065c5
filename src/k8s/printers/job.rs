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

#[cfg(test)]
mod tests {
    use super::super::testing::{from_json, strings};
    use super::*;
    use serde_json::{Value, json};

    fn job_of(spec: Value, status: Value) -> Job {
        from_json(json!({
            "metadata": {"name": "job", "creationTimestamp": "2024-06-10T12:00:00Z"},
            "spec": spec,
            "status": status
        }))
    }

    fn with_condition(type_: &str) -> Job {
        job_of(
            json!({"template": {}}),
            json!({"succeeded": 0, "conditions": [{"type": type_, "status": "True"}]}),
        )
    }

    fn job1_spec(label_value: &str) -> Value {
        json!({
            "completions": 2,
            "template": {"spec": {"containers": [
                {"name": "fake-job-container1", "image": "fake-job-image1"},
                {"name": "fake-job-container2", "image": "fake-job-image2"}]}},
            "selector": {"matchLabels": {"job-label": label_value}}
        })
    }

    #[test]
    fn print_job_no_generate_options() {
        let c = job(&job_of(
            job1_spec("job-lable-value"),
            json!({"succeeded": 1}),
        ));
        assert_eq!(
            (c.status.as_str(), c.completions.as_str(), c.duration),
            ("Running", "1/2", None)
        );
    }

    #[test]
    fn print_job_wide() {
        let c = job(&job_of(
            job1_spec("job-label-value"),
            json!({"succeeded": 1}),
        ));
        assert_eq!(
            c,
            JobColumns {
                status: "Running".to_string(),
                completions: "1/2".to_string(),
                start_time: None,
                completion_time: None,
                duration: None,
                container_names: strings(&["fake-job-container1", "fake-job-container2"]),
                images: strings(&["fake-job-image1", "fake-job-image2"]),
                selector: "job-label=job-label-value".to_string(),
            }
        );
    }

    #[test]
    fn print_job_ten_year_age() {
        let c = job(&job_of(json!({"template": {}}), json!({"succeeded": 0})));
        assert_eq!(
            (c.status.as_str(), c.completions.as_str(), c.duration),
            ("Running", "0/1", None)
        );
    }

    #[test]
    fn print_job_with_duration() {
        let c = job(&job_of(
            json!({"template": {}}),
            json!({"succeeded": 0,
                "startTime": "2024-06-10T12:01:00Z", "completionTime": "2024-06-10T12:31:00Z"}),
        ));
        assert_eq!(
            (c.status.as_str(), c.completions.as_str()),
            ("Running", "0/1")
        );
        assert_eq!(c.duration.as_deref(), Some("30m"));
        assert_eq!(c.start_time.as_deref(), Some("2024-06-10T12:01:00Z"));
        assert_eq!(c.completion_time.as_deref(), Some("2024-06-10T12:31:00Z"));
    }

    #[test]
    fn print_job_running_gives_its_start_time_instead_of_a_duration() {
        // Upstream job4: kubectl prints the time since startTime ("20m").
        let c = job(&job_of(
            json!({"template": {}}),
            json!({"succeeded": 0, "startTime": "2024-06-10T11:40:00Z"}),
        ));
        assert_eq!(
            (c.status.as_str(), c.completions.as_str()),
            ("Running", "0/1")
        );
        assert_eq!(c.duration, None);
        assert_eq!(c.start_time.as_deref(), Some("2024-06-10T11:40:00Z"));
        assert_eq!(c.completion_time, None);
    }

    #[test]
    fn print_job_complete() {
        let c = job(&with_condition("Complete"));
        assert_eq!(
            (c.status.as_str(), c.completions.as_str()),
            ("Complete", "0/1")
        );
    }

    #[test]
    fn print_job_failed() {
        let c = job(&with_condition("Failed"));
        assert_eq!(
            (c.status.as_str(), c.completions.as_str()),
            ("Failed", "0/1")
        );
    }

    #[test]
    fn print_job_suspended() {
        assert_eq!(job(&with_condition("Suspended")).status, "Suspended");
    }

    #[test]
    fn print_job_failure_target() {
        assert_eq!(
            job(&with_condition("FailureTarget")).status,
            "FailureTarget"
        );
    }

    #[test]
    fn print_job_terminating() {
        let mut j = job_of(json!({"template": {}}), json!({}));
        j.metadata.deletion_timestamp = Some(from_json(json!("2024-06-10T12:00:02Z")));
        let c = job(&j);
        assert_eq!(
            (c.status.as_str(), c.completions.as_str()),
            ("Terminating", "0/1")
        );
    }

    #[test]
    fn print_job_success_criteria_met() {
        assert_eq!(
            job(&with_condition("SuccessCriteriaMet")).status,
            "SuccessCriteriaMet"
        );
    }

    #[test]
    fn print_job_list() {
        let c = job(&job_of(
            job1_spec("job-lable-value"),
            json!({"succeeded": 2, "startTime": "2024-06-10T11:40:00Z"}),
        ));
        assert_eq!(
            (c.status.as_str(), c.completions.as_str()),
            ("Running", "2/2")
        );
        assert_eq!(c.start_time.as_deref(), Some("2024-06-10T11:40:00Z"));
    }

    #[test]
    fn work_queue_job_shows_its_parallelism() {
        let c = job(&job_of(
            json!({"template": {}, "parallelism": 4}),
            json!({"succeeded": 1}),
        ));
        assert_eq!(c.completions, "1/1 of 4");
        let c = job(&job_of(
            json!({"template": {}, "parallelism": 1}),
            json!({}),
        ));
        assert_eq!(c.completions, "0/1");
    }

    #[test]
    fn complete_wins_over_terminating_and_false_conditions_do_not_count() {
        let mut j = job_of(
            json!({"template": {}}),
            json!({"conditions": [
                {"type": "Suspended", "status": "False"},
                {"type": "Complete", "status": "True"}]}),
        );
        j.metadata.deletion_timestamp = Some(from_json(json!("2024-06-10T12:00:02Z")));
        assert_eq!(job(&j).status, "Complete");
        j.metadata.deletion_timestamp = None;
        j.status = Some(from_json(json!({"conditions": [
            {"type": "Suspended", "status": "False"}]})));
        assert_eq!(job(&j).status, "Running");
    }
}
