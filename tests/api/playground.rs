//! The GraphiQL playground works air-gapped: the page loads only files the
//! gateway serves from its binary, with the right types and cache headers.

use reqwest::{StatusCode, header};

use crate::helpers::{Backend, TestApp, TestDb};

/// The `src`/`href` URLs the page refers to.
fn referenced_urls(html: &str) -> Vec<String> {
    html.split(['"', '\''])
        .filter(|part| part.starts_with('/') || part.contains("://"))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn the_playground_page_loads_only_embedded_assets_from_the_gateway() {
    let db = TestDb::create(Backend::Sqlite).await;
    let app = TestApp::on(&db).await;

    let page = app.get("/graphql").await;
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(
        page.headers()[header::CONTENT_TYPE]
            .to_str()
            .expect("ascii")
            .starts_with("text/html")
    );
    let html = page.text().await.expect("html");

    let urls = referenced_urls(&html);
    assert_eq!(urls.len(), 6, "4 scripts and 2 style sheets: {urls:?}");
    for url in urls {
        assert!(url.starts_with("/graphql/assets/"), "{url} is not local");
        let asset = app.get(&url).await;
        assert_eq!(asset.status(), StatusCode::OK, "{url}");
        let content_type = asset.headers()[header::CONTENT_TYPE]
            .to_str()
            .expect("ascii");
        let expected = if url.contains(".js?") {
            "text/javascript"
        } else {
            "text/css"
        };
        assert!(content_type.starts_with(expected), "{url}: {content_type}");
        assert_eq!(
            asset.headers()[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable",
            "{url}"
        );
        let etag = asset.headers()[header::ETAG].clone();
        assert!(!asset.bytes().await.expect("body").is_empty(), "{url}");

        let again = app
            .client
            .get(app.url(&url))
            .header(header::IF_NONE_MATCH, etag)
            .send()
            .await
            .expect("answered");
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{url}");
    }

    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn unversioned_or_unknown_assets_are_not_cached_for_good() {
    let db = TestDb::create(Backend::Sqlite).await;
    let app = TestApp::on(&db).await;

    let unversioned = app.get("/graphql/assets/graphiql.min.js?v=stale").await;
    assert_eq!(unversioned.status(), StatusCode::OK);
    assert_eq!(unversioned.headers()[header::CACHE_CONTROL], "no-cache");

    let license = app.get("/graphql/assets/LICENSE.graphiql").await;
    assert_eq!(license.status(), StatusCode::OK);
    assert!(license.text().await.expect("text").contains("MIT"));

    for missing in ["/graphql/assets/nope.js", "/graphql/assets/..%2FCargo.toml"] {
        let answer = app.get(missing).await;
        assert_eq!(answer.status(), StatusCode::NOT_FOUND, "{missing}");
    }

    app.stop().await;
    db.drop_database().await;
}
