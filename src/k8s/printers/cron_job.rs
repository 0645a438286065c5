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
