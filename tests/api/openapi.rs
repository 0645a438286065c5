//! The OpenAPI document of `/osp/api`: served without a token, valid JSON,
//! listing every route the REST layer serves with its answers and components.

use std::collections::BTreeSet;

use osp_gateway::error::ErrorCode;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{Backend, TestApp, TestDb};

/// Every route of the REST layer (DESIGN.md), plus the document itself.
const ROUTES: [(&str, &str); 8] = [
    ("get", "/osp/api/openapi.json"),
    ("get", "/osp/api/pods/{cluster}"),
    ("get", "/osp/api/pods/{cluster}/{namespace}/{name}"),
    ("get", "/osp/api/pods/{cluster}/{namespace}/{name}/logs"),
    ("get", "/osp/api/users"),
    ("post", "/osp/api/login"),
    ("post", "/osp/api/users"),
    ("put", "/osp/api/users/{name}"),
];

fn documented_routes(document: &Value) -> BTreeSet<(String, String)> {
    let paths = document["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("path item")
                .keys()
                .map(move |method| (method.clone(), path.clone()))
        })
        .collect()
}

#[tokio::test]
async fn the_openapi_document_lists_every_route_with_its_answers_and_components() {
    let db = TestDb::create(Backend::Sqlite).await;
    let app = TestApp::on(&db).await;

    let response = app.get("/osp/api/openapi.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    let document: Value = response.json().await.expect("valid JSON");

    assert_eq!(document["openapi"], "3.1.0");
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(documented_routes(&document), expected);

    let components = &document["components"];
    assert_eq!(
        components["securitySchemes"]["bearer"],
        serde_json::json!({
            "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
            "description": "A token from `POST /osp/api/login`."
        })
    );
    let codes: BTreeSet<&str> =
        components["schemas"]["ErrorEnvelope"]["properties"]["code"]["enum"]
            .as_array()
            .expect("error codes")
            .iter()
            .map(|c| c.as_str().expect("code"))
            .collect();
    let every_error: BTreeSet<&str> = ErrorCode::ALL
        .iter()
        .copied()
        .filter(|c| *c != ErrorCode::Success)
        .map(ErrorCode::as_str)
        .collect();
    assert_eq!(codes, every_error);
    for schema in [
        "CreateUserRequest",
        "UpdateUserRequest",
        "LoginRequest",
        "UserRecord",
        "PodSummary",
        "ContainerSummary",
        "Envelope_Vec_UserRecord",
        "Envelope_Vec_PodSummary",
        "Envelope_LoginData",
        "Envelope_PodDocument",
        "Envelope_NoData",
    ] {
        assert!(components["schemas"][schema].is_object(), "{schema}");
    }

    for (method, path) in ROUTES {
        let operation = &document["paths"][path][method];
        let responses = operation["responses"].as_object().expect("responses");
        assert!(responses.contains_key("200"), "{method} {path}");
        assert!(responses.contains_key("500"), "{method} {path}");
        let public = path.ends_with("/login") || path.ends_with("/openapi.json");
        // Public routes opt out of the document-wide bearer requirement.
        assert_eq!(
            operation["security"] == serde_json::json!([{}]),
            public,
            "{method} {path}"
        );
        assert_eq!(
            responses.contains_key("401"),
            !path.ends_with("/openapi.json")
        );
    }
    assert_eq!(document["security"], serde_json::json!([{"bearer": []}]));

    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn every_documented_route_is_served_and_nothing_else_is() {
    let db = TestDb::create(Backend::Sqlite).await;
    let app = TestApp::on(&db).await;
    let document = app
        .send(Method::GET, "/osp/api/openapi.json", None, None)
        .await
        .body;

    for (method, path) in documented_routes(&document) {
        let concrete = path
            .replace("{cluster}", "sim")
            .replace("{namespace}", "default")
            .replace("{name}", "someone");
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
        let answer = app.send(method.clone(), &concrete, None, None).await;
        assert!(
            !["NotFound", "MethodNotAllowed"].contains(&answer.body["code"].as_str().unwrap_or("")),
            "{method} {concrete}: {:?}",
            answer.body
        );
    }
    let unknown = app
        .send(Method::GET, "/osp/api/nodes/sim", None, None)
        .await;
    assert_eq!(unknown.body["code"], "NotFound");
    let wrong_method = app.send(Method::DELETE, "/osp/api/login", None, None).await;
    assert_eq!(wrong_method.body["code"], "MethodNotAllowed");

    app.stop().await;
    db.drop_database().await;
}

/// The REST contract is pinned like the GraphQL one: `openapi.json` in the
/// repository is the document the gateway serves, so a change to a REST route,
/// body or answer shows in review.
/// Regenerate with: `OSP_UPDATE_OPENAPI=1 cargo test --test api openapi_file`.
#[tokio::test]
async fn openapi_file_matches_the_served_document() {
    let db = TestDb::create(Backend::Sqlite).await;
    let app = TestApp::on(&db).await;
    let served: Value = app
        .get("/osp/api/openapi.json")
        .await
        .json()
        .await
        .expect("valid JSON");
    let printed = serde_json::to_string_pretty(&served).expect("printable") + "\n";
    crate::helpers::assert_matches_committed(
        "openapi.json",
        &printed,
        "OSP_UPDATE_OPENAPI",
        "cargo test --test api openapi_file",
    );
}
