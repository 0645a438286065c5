//! The GraphiQL playground: its page and the embedded files it loads.
//!
//! GraphiQL's prebuilt bundle, React and ReactDOM are vendored in
//! `assets/graphiql/` (see `update.sh` there) and the page's own markup, style
//! and bootstrap script in `assets/playground/`; all are compiled into the
//! binary. The page refers only to URLs under [`ASSET_PREFIX`], each carrying a
//! hash of the file's content (`?v=`), so a versioned URL can be cached for
//! good, and it loads no inline script, so a strict Content-Security-Policy
//! applies.

use std::sync::Arc;

use axum::{
    Router,
    extract::{Path, RawQuery, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};

/// Where the playground's files are served.
pub const ASSET_PREFIX: &str = "/graphql/assets/";

/// What the page may load and where it may connect: only the gateway itself.
/// Styles may be inline because GraphiQL sets some from JavaScript; the form may
/// never be submitted natively (that would put a password in a URL).
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
    connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Versioned asset URLs never change content, so browsers may keep them a year.
const CACHE_FOREVER: &str = "public, max-age=31536000, immutable";

/// One embedded file.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    /// File name under [`ASSET_PREFIX`].
    pub name: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its bytes.
    pub body: &'static [u8],
}

macro_rules! asset {
    ($dir:literal, $name:literal, $content_type:expr) => {
        Asset {
            name: $name,
            content_type: $content_type,
            body: include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/assets/",
                $dir,
                "/",
                $name
            )),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

/// Every file the playground serves.
pub fn assets() -> [Asset; 9] {
    [
        asset!("graphiql", "graphiql.min.js", JS),
        asset!("graphiql", "graphiql.min.css", CSS),
        asset!("graphiql", "react.production.min.js", JS),
        asset!("graphiql", "react-dom.production.min.js", JS),
        asset!("graphiql", "LICENSE.graphiql", TEXT),
        asset!("graphiql", "LICENSE.react", TEXT),
        asset!("graphiql", "LICENSE.react-dom", TEXT),
        asset!("playground", "playground.js", JS),
        asset!("playground", "playground.css", CSS),
    ]
}

const PAGE_TEMPLATE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/playground/index.html"
));

/// The page and the files, with their content hashes, prepared once.
struct Playground {
    page: String,
    files: Vec<(Asset, String)>,
}

impl Playground {
    fn new() -> Self {
        let files: Vec<(Asset, String)> = assets()
            .into_iter()
            .map(|asset| (asset, content_hash(asset.body)))
            .collect();
        let page = files
            .iter()
            .fold(PAGE_TEMPLATE.to_owned(), |page, (asset, hash)| {
                page.replace(
                    &format!("{{{{{}}}}}", asset.name),
                    &format!("{ASSET_PREFIX}{}?v={hash}", asset.name),
                )
            });
        Playground { page, files }
    }
}

/// FNV-1a: a stable fingerprint of a file for cache busting (not security).
fn content_hash(bytes: &[u8]) -> String {
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// `GET /graphql/assets/{file}` (the page itself is answered by the GraphQL
/// GET handler, through [`page`], when the request carries no operation).
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/graphql/assets/{file}", get(file))
        .with_state(playground())
}

/// The page and files, prepared on first use.
fn playground() -> Arc<Playground> {
    static PLAYGROUND: std::sync::LazyLock<Arc<Playground>> =
        std::sync::LazyLock::new(|| Arc::new(Playground::new()));
    PLAYGROUND.clone()
}

/// The playground's page.
pub fn page() -> Response {
    let playground = playground();
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        playground.page.clone(),
    )
        .into_response()
}

async fn file(
    State(playground): State<Arc<Playground>>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let Some((asset, hash)) = playground.files.iter().find(|(a, _)| a.name == name) else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, TEXT)],
            "no such file\n",
        )
            .into_response();
    };
    let etag = format!("\"{hash}\"");
    let versioned = query
        .as_deref()
        .is_some_and(|q| q.split('&').any(|pair| pair == format!("v={hash}")));
    let cache = if versioned { CACHE_FOREVER } else { "no-cache" };
    let common = [
        (header::ETAG, etag.clone()),
        (header::CACHE_CONTROL, cache.to_owned()),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
    ];
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        });
    if fresh {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    (
        common,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        )],
        asset.body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_refers_to_every_script_and_style_by_a_versioned_local_url() {
        let playground = Playground::new();
        assert!(!playground.page.contains("{{"), "unfilled placeholder");
        for (asset, hash) in &playground.files {
            if asset.name.starts_with("LICENSE") {
                continue;
            }
            let url = format!("{ASSET_PREFIX}{}?v={hash}", asset.name);
            assert!(playground.page.contains(&url), "page lacks {url}");
        }
        assert!(!playground.page.contains("http://"));
        assert!(!playground.page.contains("https://"));
        assert!(!playground.page.contains("<script>"), "no inline script");
    }

    #[test]
    fn content_hashes_differ_when_content_does() {
        assert_eq!(content_hash(b"abc"), content_hash(b"abc"));
        assert_ne!(content_hash(b"abc"), content_hash(b"abd"));
        assert_eq!(content_hash(b"").len(), 16);
    }
}
