//! CronJobs (`batch/v1`), as `kubectl get cronjobs -o wide` shows them, with
//! the Jobs they own.

use async_graphql::Context;
use k8s_openapi::api::batch::v1 as batch;

use super::job::Job;
use crate::{
    graphql::resources::{Object, Served, related},
    k8s::{
        printers::{self, CronJobColumns},
        resource::Kind,
    },
};

/// The kind `CronJob`.
pub struct CronJob;

impl Kind for CronJob {
    type Object = batch::CronJob;
    type Columns = CronJobColumns;
    const KIND: &'static str = "CronJob";
    fn columns(object: &batch::CronJob) -> CronJobColumns {
        printers::cron_job(object)
    }
}

impl Served for CronJob {}

crate::served_kind! {
    kind CronJob, object "CronJob", edge "CronJobEdge",
    connection "CronJobConnection", query CronJobQuery "CronJobQuery";
    scope namespaced, filter crate::graphql::resources::ResourceFilter;
    root cron_job_connection, cron_job;
    /// A CronJob, as `kubectl get cronjobs -o wide` shows it.
    fields {
        /// SCHEDULE.
        schedule: &str = |c| &c.schedule;
        /// TIMEZONE (`<none>`).
        time_zone: &str = |c| &c.time_zone;
        /// SUSPEND.
        suspend: bool = |c| c.suspend;
        /// ACTIVE: Jobs running.
        active: i32 = |c| c.active;
        /// LAST SCHEDULE (RFC 3339), null before the first.
        last_schedule_time: Option<&str> = |c| c.last_schedule_time.as_deref();
        /// CONTAINERS.
        container_names: &[String] = |c| &c.container_names;
        /// IMAGES.
        images: &[String] = |c| &c.images;
        /// SELECTOR.
        selector: &str = |c| &c.selector;
    }
    relations {
        /// The Jobs it controls.
        async fn jobs(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Object<Job>>> {
            let uid = self.entry.meta.uid.clone();
            related::<Job>(ctx, &self.cluster, Some(&self.entry.meta.namespace), |job| {
                job.meta.controller.as_ref().is_some_and(|owner| {
                    owner.kind == "CronJob" && Some(&owner.uid) == uid.as_ref()
                })
            })
            .await
        }
    }
}
