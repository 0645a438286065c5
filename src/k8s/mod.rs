//! Kubernetes access: the configured clusters and the reads the gateway makes.
//!
//! Knows nothing of HTTP or GraphQL. Every call towards a cluster carries a
//! timeout, and every failure becomes an [`AppError`](crate::error::AppError)
//! that names the cluster but never repeats what the cluster sent.

pub mod cache;
pub mod clusters;
pub mod compact;
pub mod entry;
pub mod events;
pub mod keyset;
pub mod logs;
pub mod names;
pub mod order;
pub mod pods;
pub mod printers;
pub mod redact;
pub mod resource;
pub mod summary;
pub mod yaml;

pub use clusters::{Cluster, ClusterRegistry};
