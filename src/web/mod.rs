//! What the gateway serves to browsers: the GraphiQL playground on `GET /graphql`,
//! built from assets embedded in the binary so it works without any network
//! access beyond the gateway itself.

mod oidc;
mod playground;

pub use oidc::router as oidc_router;

pub use playground::{ASSET_PREFIX, Asset, assets, page, router};
