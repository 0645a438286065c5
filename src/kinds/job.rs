//! Jobs (`batch/v1`), as `kubectl get jobs -o wide` shows them, with their
//! owner and their pods.

use async_graphql::Context;
use k8s_openapi::api::batch::v1 as batch;

use super::{Resource, cron_job::CronJob};
use crate::{
    graphql::resources::{Pod, Served, controlled_pods, related_one},
    k8s::{
        printers::{self, JobColumns},
        resource::Kind,
    },
};

/// The kind `Job`.
pub struct Job;

impl Kind for Job {
    type Object = batch::Job;
    type Columns = JobColumns;
    const KIND: &'static str = "Job";
    fn columns(object: &batch::Job) -> JobColumns {
        printers::job(object)
    }
}

impl Served for Job {}

crate::served_kind! {
    kind Job, object "Job", edge "JobEdge",
    connection "JobConnection", query JobQuery "JobQuery";
    scope namespaced, filter crate::graphql::resources::ResourceFilter;
    root job_connection, job;
    /// A Job, as `kubectl get jobs -o wide` shows it.
    fields {
        /// STATUS: Running, Complete, Failed, Suspended, ...
        status: &str = |c| &c.status;
        /// COMPLETIONS, e.g. "1/1".
        completions: &str = |c| &c.completions;
        /// When it started (RFC 3339).
        start_time: Option<&str> = |c| c.start_time.as_deref();
        /// When it completed (RFC 3339).
        completion_time: Option<&str> = |c| c.completion_time.as_deref();
        /// DURATION once it completed (kubectl's text, e.g. "135m"); null
        /// while it runs (count from `startTime`).
        duration: Option<&str> = |c| c.duration.as_deref();
        /// CONTAINERS.
        container_names: &[String] = |c| &c.container_names;
        /// IMAGES.
        images: &[String] = |c| &c.images;
        /// SELECTOR.
        selector: &str = |c| &c.selector;
    }
    relations {
        /// The controlling object (a CronJob); null when it has none, it is
        /// gone, or its kind is not served.
        async fn owner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Resource>> {
            let Some(owner) = &self.entry.meta.controller else {
                return Ok(None);
            };
            if owner.kind != "CronJob" {
                return Ok(None);
            }
            Ok(related_one::<CronJob>(ctx, &self.cluster, &self.entry.meta.namespace, &owner.name)
                .await?
                .map(Resource::from))
        }

        /// The pods it controls.
        async fn pods(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Pod>> {
            controlled_pods(ctx, self).await
        }
    }
}
