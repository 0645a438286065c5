//! The `oidc_sign_ins` table: sign-ins sent to the OpenID Provider and not
//! back yet.

use sea_orm::entity::prelude::*;

/// One sign-in under way; used once, by the callback that brings its `state`
/// back, and never after `expires_at`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oidc_sign_ins")]
pub struct Model {
    /// The `state` sent to the provider (random, URL-safe).
    #[sea_orm(primary_key, auto_increment = false)]
    pub state: String,
    /// The `nonce` the ID token must carry.
    pub nonce: String,
    /// The PKCE verifier of the gateway's code exchange with the provider.
    pub pkce_verifier: String,
    /// The browser's challenge: `BASE64URL(SHA-256(verifier))` of the
    /// verifier that must redeem the sign-in code.
    pub challenge: String,
    /// Where the browser goes back to (a checked path or allowed origin URL).
    pub redirect: String,
    /// When the sign-in stops being accepted (UTC).
    pub expires_at: DateTime,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
