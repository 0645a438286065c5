//! Who may see what: grants on clusters and namespaces, through GraphQL, REST
//! and the live subscription alike.

use std::time::Duration;

use kube_sim::Simulator;
use migration::{Migrator, MigratorTrait};
use osp_gateway::config::CacheMode;
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};

use crate::helpers::{
    Backend, TestApp, TestDb, fixture_simulator, gql_code, test_config, wait_until_synced,
    write_kubeconfig,
};

/// The fixture namespace granted in these tests (three pods).
const GRANTED: &str = "argocd";
/// Another fixture namespace.
const OTHER: &str = "default";

struct Setup {
    db: TestDb,
    app: TestApp,
    admin: String,
}

impl Setup {
    async fn new(clusters: &[(&str, &Simulator)]) -> Setup {
        Self::rechecking(clusters, Duration::from_millis(200)).await
    }

    /// A setup whose WebSocket connections check their tokens every `every`.
    async fn rechecking(clusters: &[(&str, &Simulator)], every: Duration) -> Setup {
        let db = TestDb::create(Backend::Sqlite).await;
        let mut config = test_config(&db);
        config.kubeconfig_paths = vec![write_kubeconfig(clusters)];
        config.cluster_timeout = Duration::from_secs(2);
        config.pod_cache = CacheMode::On;
        config.ws_recheck = every;
        let app = TestApp::start(config).await;
        let admin = app.admin_token().await;
        wait_until_synced(&app, &admin).await;
        Setup { db, app, admin }
    }

    async fn user(&self, name: &str, grants: Value) -> String {
        self.app.user_with_grants(&self.admin, name, grants).await
    }

    async fn pod_names(&self, token: &str, cluster: &str) -> Vec<String> {
        let answer = self
            .app
            .graphql(
                Some(token),
                "query($c: String!) { pods(cluster: $c) { namespace name } }",
                json!({ "c": cluster }),
            )
            .await;
        assert!(answer["errors"].is_null(), "{answer}");
        names(&answer["data"]["pods"])
    }

    async fn rest(&self, token: &str, path: &str) -> (StatusCode, Value, Option<String>) {
        let response = self
            .app
            .client
            .get(self.app.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("answered");
        let status = response.status();
        let etag = response
            .headers()
            .get("etag")
            .map(|v| v.to_str().unwrap_or_default().to_owned());
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body, etag)
    }

    async fn finish(self) {
        self.app.stop().await;
        self.db.drop_database().await;
    }
}

fn names(pods: &Value) -> Vec<String> {
    pods.as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            format!(
                "{}/{}",
                p["namespace"].as_str().unwrap_or(""),
                p["name"].as_str().unwrap_or("")
            )
        })
        .collect()
}

fn in_namespace(all: &[String], namespace: &str) -> Vec<String> {
    all.iter()
        .filter(|p| p.starts_with(&format!("{namespace}/")))
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_namespace_grant_shows_exactly_that_namespace_in_graphql_and_rest() {
    let sim = fixture_simulator().await;
    let setup = Setup::new(&[("sim", &sim)]).await;
    let dev = setup
        .user("dev", json!([{ "cluster": "sim", "namespace": GRANTED }]))
        .await;

    let all = setup.pod_names(&setup.admin, "sim").await;
    let expected = in_namespace(&all, GRANTED);
    assert_eq!(expected.len(), 3);
    assert_eq!(setup.pod_names(&dev, "sim").await, expected);

    let (status, body, _) = setup.rest(&dev, "/osp/api/pods/sim").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(names(&body["data"]), expected);
    setup.finish().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn ungranted_namespaces_and_their_pods_are_forbidden_whether_or_not_they_exist() {
    let sim = fixture_simulator().await;
    let setup = Setup::new(&[("sim", &sim)]).await;
    let dev = setup
        .user("dev", json!([{ "cluster": "sim", "namespace": GRANTED }]))
        .await;
    let existing = in_namespace(&setup.pod_names(&setup.admin, "sim").await, OTHER)
        .remove(0)
        .split_once('/')
        .map(|(_, name)| name.to_owned())
        .expect("a pod");

    for path in [
        format!("/osp/api/pods/sim?namespace={OTHER}"),
        format!("/osp/api/pods/sim/{OTHER}/{existing}"),
        format!("/osp/api/pods/sim/{OTHER}/no-such-pod"),
        "/osp/api/pods/sim?namespace=no-such-namespace".to_owned(),
    ] {
        let (status, body, _) = setup.rest(&dev, &path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        assert_eq!(body["code"], "Forbidden", "{path}");
    }
    for (query, variables) in [
        (
            "query($ns: String) { pods(cluster: \"sim\", namespace: $ns) { name } }",
            json!({ "ns": OTHER }),
        ),
        (
            "query($n: String!) { pod(cluster: \"sim\", namespace: \"default\", name: $n) { name } }",
            json!({ "n": existing }),
        ),
        (
            "{ podsVersion(cluster: \"sim\", namespace: \"default\") }",
            json!({}),
        ),
    ] {
        let answer = setup.app.graphql(Some(&dev), query, variables).await;
        assert_eq!(gql_code(&answer), "Forbidden", "{query}: {answer}");
    }
    // A pod of the granted namespace reads as usual.
    let granted = in_namespace(&setup.pod_names(&setup.admin, "sim").await, GRANTED).remove(0);
    let (status, body, _) = setup
        .rest(&dev, &format!("/osp/api/pods/sim/{granted}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    setup.finish().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn an_ungranted_cluster_is_forbidden_whether_or_not_it_exists() {
    let east = fixture_simulator().await;
    let west = fixture_simulator().await;
    let setup = Setup::new(&[("east", &east), ("west", &west)]).await;
    let dev = setup.user("dev", json!([{ "cluster": "east" }])).await;

    assert_eq!(
        setup.pod_names(&dev, "east").await,
        setup.pod_names(&setup.admin, "east").await
    );
    for cluster in ["west", "no-such-cluster"] {
        let (status, body, _) = setup.rest(&dev, &format!("/osp/api/pods/{cluster}")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{cluster}: {body}");
    }
    // Admins learn that a cluster does not exist; nobody else does.
    let (status, _, _) = setup
        .rest(&setup.admin, "/osp/api/pods/no-such-cluster")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let clusters = setup
        .app
        .graphql(Some(&dev), "{ clusters { name server } }", json!({}))
        .await;
    assert_eq!(
        clusters["data"]["clusters"],
        json!([{ "name": "east", "server": null }])
    );
    let admin_view = setup
        .app
        .graphql(
            Some(&setup.admin),
            "{ clusters { name server } }",
            json!({}),
        )
        .await;
    assert_eq!(
        admin_view["data"]["clusters"].as_array().map(Vec::len),
        Some(2)
    );
    assert!(admin_view["data"]["clusters"][0]["server"].is_string());
    setup.finish().await;
    east.shutdown().await;
    west.shutdown().await;
}

#[tokio::test]
async fn no_grants_read_nothing_and_the_any_cluster_grant_reads_everything() {
    let sim = fixture_simulator().await;
    let setup = Setup::new(&[("sim", &sim)]).await;
    let nobody = setup.app.user_without_grants(&setup.admin, "nobody").await;
    let everyone = setup.user("everyone", json!([{ "cluster": "*" }])).await;

    let (status, _, _) = setup.rest(&nobody, "/osp/api/pods/sim").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let clusters = setup
        .app
        .graphql(Some(&nobody), "{ clusters { name } }", json!({}))
        .await;
    assert_eq!(clusters["data"]["clusters"], json!([]));

    assert_eq!(
        setup.pod_names(&everyone, "sim").await,
        setup.pod_names(&setup.admin, "sim").await
    );
    setup.finish().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn viewers_with_different_grants_never_share_a_body_or_etag_and_equal_grants_do() {
    let sim = fixture_simulator().await;
    let setup = Setup::new(&[("sim", &sim)]).await;
    let a = setup
        .user("a", json!([{ "cluster": "sim", "namespace": GRANTED }]))
        .await;
    let b = setup
        .user("b", json!([{ "cluster": "sim", "namespace": OTHER }]))
        .await;
    let twin = setup
        .user("twin", json!([{ "cluster": "sim", "namespace": GRANTED }]))
        .await;

    let (_, body_a, etag_a) = setup.rest(&a, "/osp/api/pods/sim").await;
    let (_, body_b, etag_b) = setup.rest(&b, "/osp/api/pods/sim").await;
    let (_, body_twin, etag_twin) = setup.rest(&twin, "/osp/api/pods/sim").await;
    assert!(etag_a.is_some());
    assert_ne!(etag_a, etag_b);
    assert_ne!(body_a, body_b);
    assert_eq!(etag_a, etag_twin);
    assert_eq!(body_a, body_twin);

    // b's ETag is no key to a's answer.
    let response = setup
        .app
        .client
        .get(setup.app.url("/osp/api/pods/sim"))
        .bearer_auth(&a)
        .header("if-none-match", etag_b.as_deref().unwrap_or_default())
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::OK);
    setup.finish().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_grant_change_takes_effect_on_the_next_request() {
    let sim = fixture_simulator().await;
    let setup = Setup::new(&[("sim", &sim)]).await;
    let dev = setup
        .user("dev", json!([{ "cluster": "sim", "namespace": GRANTED }]))
        .await;
    assert_eq!(
        setup.rest(&dev, "/osp/api/pods/sim").await.0,
        StatusCode::OK
    );
    setup.app.set_grants(&setup.admin, "dev", json!([])).await;
    assert_eq!(
        setup.rest(&dev, "/osp/api/pods/sim").await.0,
        StatusCode::FORBIDDEN
    );
    setup.finish().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn me_shows_the_signed_in_users_grants_and_only_admins_see_others() {
    let sim = fixture_simulator().await;
    let setup = Setup::new(&[("sim", &sim)]).await;
    let dev = setup
        .user(
            "dev",
            json!([{ "cluster": "sim", "namespace": GRANTED }, { "cluster": "*" }]),
        )
        .await;
    let me = setup
        .app
        .graphql(
            Some(&dev),
            "{ me { name grants { cluster namespace } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        me["data"]["me"]["grants"],
        json!([{ "cluster": "*", "namespace": null }, { "cluster": "sim", "namespace": GRANTED }])
    );
    let others = setup
        .app
        .graphql(
            Some(&dev),
            "{ users { name grants { cluster } } }",
            json!({}),
        )
        .await;
    assert_eq!(gql_code(&others), "Forbidden", "{others}");
    let as_admin = setup
        .app
        .graphql(
            Some(&setup.admin),
            "{ users(name: \"dev\") { grants { cluster } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        as_admin["data"]["users"][0]["grants"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    setup.finish().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn only_admins_set_grants_and_bad_names_are_refused() {
    let sim = fixture_simulator().await;
    let setup = Setup::new(&[("sim", &sim)]).await;
    let dev = setup.user("dev", json!([{ "cluster": "*" }])).await;
    let set = "mutation($g: [GrantInput!]!) { setGrants(name: \"dev\", grants: $g) { name } }";

    let by_user = setup
        .app
        .graphql(Some(&dev), set, json!({ "g": [{ "cluster": "*" }] }))
        .await;
    assert_eq!(gql_code(&by_user), "Forbidden");
    for bad in [
        json!([{ "cluster": "sim", "namespace": "Not_A_Label" }]),
        json!([{ "cluster": "has space" }]),
        json!([{ "cluster": "" }]),
    ] {
        let answer = setup
            .app
            .graphql(Some(&setup.admin), set, json!({ "g": bad }))
            .await;
        assert_eq!(gql_code(&answer), "InvalidParameter", "{bad}: {answer}");
    }
    // A grant may precede its cluster.
    let ahead = setup
        .app
        .graphql(
            Some(&setup.admin),
            set,
            json!({ "g": [{ "cluster": "next-year" }] }),
        )
        .await;
    assert!(ahead["errors"].is_null(), "{ahead}");
    let unknown = setup
        .app
        .graphql(
            Some(&setup.admin),
            "mutation { setGrants(name: \"ghost\", grants: []) { name } }",
            json!({}),
        )
        .await;
    assert_eq!(gql_code(&unknown), "UserNotFound");
    setup.finish().await;
    sim.shutdown().await;
}

/// A graphql-transport-ws subscription to podEvents of "sim".
async fn subscribe(app: &TestApp, token: &str) -> crate::live::Socket {
    let mut socket =
        crate::live::connect(app, json!({ "Authorization": format!("Bearer {token}") })).await;
    assert_eq!(
        crate::live::next(&mut socket).await.expect("ack")["type"],
        "connection_ack"
    );
    crate::live::send(
        &mut socket,
        json!({
            "id": "1",
            "type": "subscribe",
            "payload": { "query": "subscription { podEvents(cluster: \"sim\") { type pod { namespace name } } }" }
        }),
    )
    .await;
    socket
}

fn live_pod(namespace: &str, name: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": { "name": name, "namespace": namespace, "uid": format!("uid-{namespace}-{name}"),
                      "creationTimestamp": "2026-01-01T00:00:00Z" },
        "spec": { "containers": [{ "name": "app", "image": "app:1" }] },
        "status": { "phase": "Pending" }
    })
}

#[tokio::test]
async fn subscriptions_carry_only_granted_namespaces_and_end_when_the_grant_is_revoked() {
    let sim = fixture_simulator().await;
    // The periodic check is far off: a change on this replica must not wait for it.
    let setup = Setup::rechecking(&[("sim", &sim)], Duration::from_secs(120)).await;
    let dev = setup
        .user("dev", json!([{ "cluster": "sim", "namespace": GRANTED }]))
        .await;
    let mut socket = subscribe(&setup.app, &dev).await;
    // Let the subscription start before the changes happen.
    tokio::time::sleep(Duration::from_millis(300)).await;

    sim.upsert_pod(live_pod(OTHER, "not-for-dev"));
    sim.upsert_pod(live_pod(GRANTED, "for-dev"));
    let event = crate::live::next(&mut socket).await.expect("an event");
    assert_eq!(
        event["payload"]["data"]["podEvents"]["pod"],
        json!({ "namespace": GRANTED, "name": "for-dev" }),
        "{event}"
    );

    setup.app.set_grants(&setup.admin, "dev", json!([])).await;
    let ended = tokio::time::timeout(Duration::from_secs(3), crate::live::next(&mut socket))
        .await
        .expect("ended at once, not at the next periodic check")
        .expect("an error");
    assert_eq!(ended["type"], "next", "{ended}");
    assert_eq!(
        ended["payload"]["errors"][0]["extensions"]["code"], "Forbidden",
        "{ended}"
    );
    let complete = crate::live::next(&mut socket).await.expect("complete");
    assert_eq!(complete["type"], "complete", "{complete}");
    setup.finish().await;
    sim.shutdown().await;
}

crate::db_tests!(upgrade_gives_existing_users_every_cluster);

/// Users that exist when grants arrive keep reading everything (users made
/// afterwards start with none: see the tests above).
async fn upgrade_gives_existing_users_every_cluster(db: &TestDb) {
    let conn = Database::connect(&db.url).await.expect("connects");
    // The schema as the previous release left it: users and settings only.
    Migrator::up(&conn, Some(2)).await.expect("old migrations");
    let backend = conn.get_database_backend();
    conn.execute_raw(Statement::from_string(
        backend,
        "INSERT INTO users (name, name_key, email, password_hash, role, token_generation, \
         create_time, update_time) VALUES ('old', 'old', 'old@example.com', 'x', 'user', 0, \
         '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
    ))
    .await
    .expect("old user");
    Migrator::up(&conn, None).await.expect("new migrations");
    let rows = conn
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT g.cluster, g.namespace FROM grants g JOIN users u ON u.id = g.user_id \
             WHERE u.name = 'old'",
        ))
        .await
        .expect("grants");
    assert_eq!(rows.len(), 1);
    let cluster: String = rows[0].try_get("", "cluster").expect("cluster");
    let namespace: Option<String> = rows[0].try_get("", "namespace").expect("namespace");
    assert_eq!((cluster.as_str(), namespace), ("*", None));
    conn.close().await.ok();
}

crate::db_tests!(grants_are_stored_and_replaced);

async fn grants_are_stored_and_replaced(db: &TestDb) {
    let app = TestApp::on(db).await;
    let admin = app.admin_token().await;
    let dev = app
        .user_with_grants(
            &admin,
            "dev",
            json!([{ "cluster": "east", "namespace": "a" }, { "cluster": "west" }]),
        )
        .await;
    app.set_grants(
        &admin,
        "dev",
        json!([{ "cluster": "east", "namespace": "b" }]),
    )
    .await;
    let me = app
        .graphql(
            Some(&dev),
            "{ me { grants { cluster namespace } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        me["data"]["me"]["grants"],
        json!([{ "cluster": "east", "namespace": "b" }])
    );
    let answer = app
        .send(Method::GET, "/osp/api/users?name=dev", Some(&dev), None)
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    app.stop().await;
}

/// What a namespace viewer sees of the caches, and what an admin sees.
const CACHE_FIGURES: &str = "{ clusters { cache { version \
    pods { synced fresh count lastEventTime } nodes { count lastEventTime } \
    replicaSets { count lastEventTime } } } }";
/// Every version a viewer can see of one cluster's pods.
const VERSIONS: &str = "{ podsVersion(cluster: \"sim\") \
    podList(cluster: \"sim\") { version } \
    podConnection(clusters: [\"sim\"], first: 0) { clusters { version } } }";
/// A list with its version, kept between identical requests.
const KEPT_LIST: &str = "{ podList(cluster: \"sim\") { version items { namespace name } } }";

impl Setup {
    /// `query` as `token`, without errors; its data.
    async fn data(&self, token: &str, query: &str) -> Value {
        let answer = self.app.graphql(Some(token), query, json!({})).await;
        assert!(answer["errors"].is_null(), "{query}: {answer}");
        answer["data"].clone()
    }

    /// `query` as `token`, executed afresh (never a kept answer); its data.
    async fn fresh(&self, token: &str, query: &str) -> Value {
        let answer = self
            .app
            .client
            .post(self.app.url("/graphql"))
            .bearer_auth(token)
            .header("cache-control", "no-cache")
            .json(&json!({ "query": query }))
            .send()
            .await
            .expect("answered");
        let body: Value = answer.json().await.expect("json");
        assert!(body["errors"].is_null(), "{query}: {body}");
        body["data"].clone()
    }

    /// `podsVersion` of "sim" as `token`, asked afresh.
    async fn pods_version(&self, token: &str) -> Value {
        let data = self.fresh(token, "{ podsVersion(cluster: \"sim\") }").await;
        assert!(data["podsVersion"].is_string(), "{data}");
        data["podsVersion"].clone()
    }

    /// Changes (or adds) a pod of `namespace` and waits until the cache has
    /// it: the admin's version, the whole cluster's, moves.
    async fn change_pod(&self, sim: &Simulator, namespace: &str, name: &str) {
        let before = self.pods_version(&self.admin).await;
        let mut pod = live_pod(namespace, name);
        pod["metadata"]["labels"] = json!({ "touched": uuid::Uuid::new_v4().simple().to_string() });
        sim.upsert_pod(pod);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while self.pods_version(&self.admin).await == before {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the change never reached the cache"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A GET of `path` as `token` with `If-None-Match: etag`; its status and ETag.
    async fn conditional(&self, token: &str, path: &str, etag: &str) -> (StatusCode, String) {
        let response = self
            .app
            .client
            .get(self.app.url(path))
            .bearer_auth(token)
            .header("if-none-match", etag)
            .send()
            .await
            .expect("answered");
        let tag = response.headers()["etag"]
            .to_str()
            .expect("etag")
            .to_owned();
        (response.status(), tag)
    }
}

async fn reused_answers(app: &TestApp) -> f64 {
    crate::ops::sample(
        &crate::ops::metrics_text(app).await,
        "osp_graphql_reused_answers_total",
    )
    .unwrap_or(0.0)
}

#[tokio::test]
async fn a_namespace_viewer_sees_cache_figures_of_that_namespace_only() {
    let sim = fixture_simulator().await;
    let setup = Setup::new(&[("sim", &sim)]).await;
    let dev = setup
        .user("dev", json!([{ "cluster": "sim", "namespace": GRANTED }]))
        .await;
    let everyone = setup.user("everyone", json!([{ "cluster": "sim" }])).await;
    let of_admin = setup.data(&setup.admin, CACHE_FIGURES).await;
    let all = setup.pod_names(&setup.admin, "sim").await;

    let of_dev = setup.data(&dev, CACHE_FIGURES).await;
    let cache = &of_dev["clusters"][0]["cache"];
    assert_eq!(cache["pods"]["count"], 3, "{of_dev}");
    assert_eq!(cache["pods"]["fresh"], true);
    assert!(cache["pods"]["lastEventTime"].is_string(), "{of_dev}");
    assert_eq!(cache["nodes"], Value::Null, "nodes are in no namespace");
    let replica_sets =
        |figures: &Value| figures["clusters"][0]["cache"]["replicaSets"]["count"].as_u64();
    assert!(
        replica_sets(&of_dev) < replica_sets(&of_admin),
        "{of_dev} {of_admin}"
    );
    assert_eq!(
        of_admin["clusters"][0]["cache"]["pods"]["count"],
        all.len(),
        "{of_admin}"
    );
    assert!(of_admin["clusters"][0]["cache"]["nodes"]["count"].is_number());
    // A whole-cluster grant sees what admins see.
    assert_eq!(setup.data(&everyone, CACHE_FIGURES).await, of_admin);

    setup.change_pod(&sim, OTHER, "elsewhere").await;
    assert_eq!(
        setup.data(&dev, CACHE_FIGURES).await,
        of_dev,
        "a change elsewhere changes nothing the viewer sees"
    );
    let admin_after = setup.data(&setup.admin, CACHE_FIGURES).await;
    let admin_cache = &admin_after["clusters"][0]["cache"];
    assert_eq!(admin_cache["pods"]["count"], all.len() + 1);
    assert_ne!(
        admin_cache["version"],
        of_admin["clusters"][0]["cache"]["version"]
    );

    setup.change_pod(&sim, GRANTED, "mine").await;
    let changed = setup.data(&dev, CACHE_FIGURES).await;
    let cache_now = &changed["clusters"][0]["cache"];
    assert_eq!(cache_now["pods"]["count"], 4, "{changed}");
    assert_ne!(cache_now["version"], cache["version"]);
    assert_ne!(
        cache_now["pods"]["lastEventTime"],
        cache["pods"]["lastEventTime"]
    );
    setup.finish().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_namespace_viewers_versions_etags_and_kept_answers_ignore_other_namespaces() {
    let sim = fixture_simulator().await;
    let setup = Setup::new(&[("sim", &sim)]).await;
    let dev = setup
        .user("dev", json!([{ "cluster": "sim", "namespace": GRANTED }]))
        .await;
    // The cluster's version is then ahead of the namespace's.
    setup.change_pod(&sim, OTHER, "earlier").await;
    let versions = setup.fresh(&dev, VERSIONS).await;
    let version = versions["podsVersion"].clone();
    assert!(version.is_string(), "{versions}");
    assert_eq!(versions["podList"]["version"], version);
    assert_eq!(versions["podConnection"]["clusters"][0]["version"], version);
    let admin_versions = setup.fresh(&setup.admin, VERSIONS).await;
    let (status, _, etag) = setup.rest(&dev, "/osp/api/pods/sim").await;
    assert_eq!(status, StatusCode::OK);
    let etag = etag.expect("an ETag");
    let kept = setup.data(&dev, KEPT_LIST).await;

    setup.change_pod(&sim, OTHER, "elsewhere").await;
    assert_eq!(setup.fresh(&dev, VERSIONS).await, versions);
    assert_eq!(
        setup.conditional(&dev, "/osp/api/pods/sim", &etag).await,
        (StatusCode::NOT_MODIFIED, etag.clone())
    );
    let before = reused_answers(&setup.app).await;
    assert_eq!(setup.data(&dev, KEPT_LIST).await, kept);
    assert_eq!(
        reused_answers(&setup.app).await,
        before + 1.0,
        "the kept answer is still valid"
    );
    // Admins see the whole cluster move.
    let admin_after = setup.fresh(&setup.admin, VERSIONS).await;
    assert_ne!(admin_after["podsVersion"], admin_versions["podsVersion"]);
    assert_ne!(
        admin_after["podList"]["version"],
        admin_versions["podList"]["version"]
    );
    assert_ne!(
        admin_after["podConnection"],
        admin_versions["podConnection"]
    );

    setup.change_pod(&sim, GRANTED, "mine").await;
    let moved = setup.fresh(&dev, VERSIONS).await;
    assert_ne!(moved["podsVersion"], version, "{moved}");
    assert_eq!(moved["podList"]["version"], moved["podsVersion"]);
    assert_eq!(
        moved["podConnection"]["clusters"][0]["version"],
        moved["podsVersion"]
    );
    let (status, new_etag) = setup.conditional(&dev, "/osp/api/pods/sim", &etag).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(new_etag, etag);
    let before = reused_answers(&setup.app).await;
    let renewed = setup.data(&dev, KEPT_LIST).await;
    assert_ne!(renewed, kept);
    assert_eq!(reused_answers(&setup.app).await, before);
    setup.finish().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_namespace_viewer_resumes_from_their_version_with_exactly_their_later_changes() {
    let sim = fixture_simulator().await;
    let setup = Setup::new(&[("sim", &sim)]).await;
    let dev = setup
        .user("dev", json!([{ "cluster": "sim", "namespace": GRANTED }]))
        .await;
    setup.change_pod(&sim, OTHER, "earlier").await;
    let listed = setup.data(&dev, KEPT_LIST).await;
    let since = listed["podList"]["version"]
        .as_str()
        .expect("a version")
        .to_owned();
    setup.change_pod(&sim, OTHER, "before").await;
    setup.change_pod(&sim, GRANTED, "first").await;
    setup.change_pod(&sim, OTHER, "between").await;
    setup.change_pod(&sim, GRANTED, "second").await;
    setup.change_pod(&sim, OTHER, "after").await;

    let mut socket = crate::live::connect(
        &setup.app,
        json!({ "Authorization": format!("Bearer {dev}") }),
    )
    .await;
    assert_eq!(
        crate::live::next(&mut socket).await.expect("ack")["type"],
        "connection_ack"
    );
    let follow = "subscription($since: String) { podEvents(cluster: \"sim\", since: $since) { \
        type version pod { namespace name } } }";
    for (id, since) in [("1", since.as_str()), ("2", "not-a-version")] {
        crate::live::send(
            &mut socket,
            json!({ "id": id, "type": "subscribe",
                    "payload": { "query": follow, "variables": { "since": since } } }),
        )
        .await;
    }
    let mut replayed = Vec::new();
    let mut resync = None;
    while replayed.len() < 2 || resync.is_none() {
        let message = crate::live::next(&mut socket).await.expect("an event");
        let event = message["payload"]["data"]["podEvents"].clone();
        match message["id"].as_str() {
            Some("1") => replayed.push(event),
            Some("2") => resync = Some(event),
            _ => panic!("unexpected {message}"),
        }
    }
    let pods: Vec<&Value> = replayed.iter().map(|e| &e["pod"]).collect();
    assert_eq!(
        pods,
        [
            &json!({ "namespace": GRANTED, "name": "first" }),
            &json!({ "namespace": GRANTED, "name": "second" })
        ]
    );
    // The last event's version is the viewer's version now, and so is a
    // RESYNC's: neither counts the change made elsewhere since.
    let now = setup.pods_version(&dev).await;
    assert_eq!(replayed[1]["version"], now);
    let resync = resync.expect("a resync");
    assert_eq!(resync["type"], "RESYNC", "{resync}");
    assert_eq!(resync["version"], now);
    // Nothing else arrives: the last change was elsewhere.
    let more =
        tokio::time::timeout(Duration::from_millis(500), crate::live::next(&mut socket)).await;
    assert!(more.is_err(), "{more:?}");
    setup.finish().await;
    sim.shutdown().await;
}
