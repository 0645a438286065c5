//! CronJob columns: SCHEDULE, TIMEZONE, SUSPEND, ACTIVE, LAST SCHEDULE and the wide
//! CONTAINERS, IMAGES, SELECTOR.

use k8s_openapi::api::batch::v1::CronJob;

use super::{containers, selector, time_text};

/// kubectl's cells for one CronJob.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CronJobColumns {
    /// SCHEDULE: `spec.schedule`.
    pub schedule: String,
    /// TIMEZONE: `spec.timeZone`, `<none>` when unset.
    pub time_zone: String,
    /// SUSPEND: `spec.suspend` (absent is false, the API server's default; kubectl
    /// would print `<unset>`, which it never sees on a served object).
    pub suspend: bool,
    /// ACTIVE: the number of running Jobs.
    pub active: i32,
    /// LAST SCHEDULE as a time (RFC 3339); null where kubectl prints `<none>`.
    pub last_schedule_time: Option<String>,
    /// CONTAINERS of the Job template, split on `,`.
    pub container_names: Vec<String>,
    /// IMAGES of the Job template, split on `,`.
    pub images: Vec<String>,
    /// SELECTOR of the Job template (`<none>` when empty).
    pub selector: String,
}

/// Port of upstream `printCronJob`.
pub fn cron_job(o: &CronJob) -> CronJobColumns {
    let spec = &o.spec;
    let status = o.status.as_ref();
    let job_spec = spec.job_template.spec.as_ref();
    let (container_names, images) = containers(job_spec.map(|s| &s.template));
    let active = status.and_then(|s| s.active.as_ref()).map_or(0, Vec::len);
    CronJobColumns {
        schedule: spec.schedule.clone(),
        time_zone: spec
            .time_zone
            .clone()
            .unwrap_or_else(|| "<none>".to_string()),
        suspend: spec.suspend.unwrap_or(false),
        active: i32::try_from(active).unwrap_or(i32::MAX),
        last_schedule_time: time_text(status.and_then(|s| s.last_schedule_time.as_ref())),
        container_names,
        images,
        selector: selector(job_spec.and_then(|s| s.selector.as_ref())),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{from_json, strings};
    use super::*;
    use serde_json::{Value, json};

    fn cron_job_of(spec: Value, status: Value) -> CronJob {
        from_json(json!({
            "metadata": {"name": "cronjob1", "creationTimestamp": "2024-06-10T12:00:00Z"},
            "spec": spec,
            "status": status
        }))
    }

    fn cronjob1_spec() -> Value {
        json!({
            "schedule": "0/5 * * * ?",
            "suspend": false,
            "jobTemplate": {"spec": {
                "completions": 2,
                "template": {"spec": {"containers": [
                    {"name": "fake-job-container1", "image": "fake-job-image1"},
                    {"name": "fake-job-container2", "image": "fake-job-image2"}]}},
                "selector": {"matchLabels": {"a": "b"}}
            }}
        })
    }

    fn last_scheduled() -> Value {
        json!({"lastScheduleTime": "2024-06-10T12:00:01Z"})
    }

    #[test]
    fn print_cron_job_basic() {
        let c = cron_job(&cron_job_of(cronjob1_spec(), last_scheduled()));
        assert_eq!(c.schedule, "0/5 * * * ?");
        assert_eq!(c.time_zone, "<none>");
        assert!(!c.suspend);
        assert_eq!(c.active, 0);
        assert_eq!(
            c.last_schedule_time.as_deref(),
            Some("2024-06-10T12:00:01Z")
        );
    }

    #[test]
    fn print_cron_job_with_time_zone() {
        let mut spec = cronjob1_spec();
        spec["timeZone"] = json!("LOCAL");
        let c = cron_job(&cron_job_of(spec, last_scheduled()));
        assert_eq!(
            (
                c.schedule.as_str(),
                c.time_zone.as_str(),
                c.suspend,
                c.active
            ),
            ("0/5 * * * ?", "LOCAL", false, 0)
        );
    }

    #[test]
    fn print_cron_job_wide() {
        assert_eq!(
            cron_job(&cron_job_of(cronjob1_spec(), last_scheduled())),
            CronJobColumns {
                schedule: "0/5 * * * ?".to_string(),
                time_zone: "<none>".to_string(),
                suspend: false,
                active: 0,
                last_schedule_time: Some("2024-06-10T12:00:01Z".to_string()),
                container_names: strings(&["fake-job-container1", "fake-job-container2"]),
                images: strings(&["fake-job-image1", "fake-job-image2"]),
                selector: "a=b".to_string(),
            }
        );
    }

    #[test]
    fn print_cron_job_with_last_schedule_and_age() {
        let c = cron_job(&cron_job_of(
            json!({"schedule": "0/5 * * * ?", "suspend": false, "jobTemplate": {}}),
            json!({"lastScheduleTime": "2024-06-10T11:59:30Z"}),
        ));
        assert_eq!(
            c.last_schedule_time.as_deref(),
            Some("2024-06-10T11:59:30Z")
        );
        assert_eq!(
            (c.time_zone.as_str(), c.suspend, c.active),
            ("<none>", false, 0)
        );
        assert_eq!(c.selector, "<none>");
        assert!(c.container_names.is_empty());
    }

    #[test]
    fn print_cron_job_without_last_schedule() {
        let c = cron_job(&cron_job_of(
            json!({"schedule": "0/5 * * * ?", "suspend": false, "jobTemplate": {}}),
            json!({}),
        ));
        assert_eq!(c.last_schedule_time, None);
        assert_eq!(
            (c.time_zone.as_str(), c.suspend, c.active),
            ("<none>", false, 0)
        );
    }

    #[test]
    fn print_cron_job_list() {
        let c = cron_job(&cron_job_of(
            json!({"schedule": "4/5 1 1 1 ?", "suspend": false,
                "jobTemplate": {"spec": {"completions": 2, "template": {},
                    "selector": {"matchLabels": {"a": "b"}}}}}),
            json!({"lastScheduleTime": "2024-06-10T11:40:00Z"}),
        ));
        assert_eq!(
            (
                c.schedule.as_str(),
                c.time_zone.as_str(),
                c.suspend,
                c.active
            ),
            ("4/5 1 1 1 ?", "<none>", false, 0)
        );
        assert_eq!(
            c.last_schedule_time.as_deref(),
            Some("2024-06-10T11:40:00Z")
        );
    }

    #[test]
    fn active_counts_running_jobs_and_suspend_is_read() {
        let mut spec = cronjob1_spec();
        spec["suspend"] = json!(true);
        let c = cron_job(&cron_job_of(
            spec,
            json!({"active": [{"kind": "Job", "name": "a"}, {"kind": "Job", "name": "b"}]}),
        ));
        assert!(c.suspend);
        assert_eq!(c.active, 2);
    }
}
