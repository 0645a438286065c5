//! Test harness: one fresh database and one real gateway per test.
//!
//! `OSP_TEST_DATABASES` (default `sqlite,postgres,mariadb`) picks the backends a
//! local run uses; a server that does not answer (probed once per run) is
//! skipped with one line saying so. With `CI=true` all three are mandatory and
//! an unreachable server fails the test. `OSP_TEST_POSTGRES_URL` and
//! `OSP_TEST_MARIADB_URL` name the servers (defaults: the local `test` databases).

use std::{
    net::{SocketAddr, TcpStream, ToSocketAddrs},
    path::PathBuf,
    sync::OnceLock,
    time::Duration,
};

use osp_gateway::{
    config::{CacheMode, Config, sqlite_url},
    startup::Application,
};
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tokio::{sync::oneshot, task::JoinHandle};

/// The admin every test gateway bootstraps.
pub const ADMIN: &str = "admin";
/// That admin's password.
pub const ADMIN_PASSWORD: &str = "admin-password-1";
/// The token key of every test gateway, so tests can forge tokens.
pub const JWT_SECRET: &str = "Yt4qN8vZ2kWm6Rp0Lx3Hc9Bf5Jd7Gs1T";

/// A database server kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MariaDb,
}

impl Backend {
    fn key(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::MariaDb => "mariadb",
        }
    }

    /// Whether this run uses the backend. SQLite always; a server backend when
    /// `OSP_TEST_DATABASES` names it (default: all) and, outside CI, when its
    /// server answers. Under `CI=true` every backend is mandatory: an
    /// unreachable server then fails the test instead of skipping it.
    pub fn enabled(self) -> bool {
        if self == Backend::Sqlite {
            return true;
        }
        if in_ci() {
            return true;
        }
        let listed = std::env::var("OSP_TEST_DATABASES")
            .map(|list| list.split(',').any(|b| b.trim() == self.key()))
            .unwrap_or(true);
        listed && self.reachable()
    }

    /// Whether the backend's server accepts a TCP connection, probed once per
    /// test run (and quickly), so a missing server costs no connect timeouts.
    fn reachable(self) -> bool {
        static POSTGRES: OnceLock<bool> = OnceLock::new();
        static MARIADB: OnceLock<bool> = OnceLock::new();
        let probe = || {
            let url = self.server_url();
            let reachable = host_port(&url)
                .and_then(|hp| hp.to_socket_addrs().ok())
                .into_iter()
                .flatten()
                .any(|addr| TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_ok());
            if !reachable {
                notice(&format!(
                    "{self:?} at {url} is not reachable: its database tests are skipped \
                     (start the server, or set OSP_TEST_{}_URL; under CI=true they are mandatory)",
                    self.key().to_uppercase()
                ));
            }
            reachable
        };
        match self {
            Backend::Sqlite => true,
            Backend::Postgres => *POSTGRES.get_or_init(probe),
            Backend::MariaDb => *MARIADB.get_or_init(probe),
        }
    }

    fn server_url(self) -> String {
        match self {
            Backend::Sqlite => String::new(),
            Backend::Postgres => std::env::var("OSP_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into()),
            Backend::MariaDb => std::env::var("OSP_TEST_MARIADB_URL")
                .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into()),
        }
    }
}

/// Whether this is a CI run, where nothing may be skipped.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Prints one line past the test harness's output capture, so a skipped part
/// of the suite is visible in a plain `cargo test` run.
pub fn notice(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "note: {line}");
}

/// Whether PyYAML can be run (checked once per run). Outside CI its absence
/// skips the YAML 1.1 read-back with a notice; under CI it is mandatory.
pub fn pyyaml_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        let found = std::process::Command::new("python3")
            .args(["-c", "import yaml"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !found && !in_ci() {
            notice(
                "PyYAML is not installed: the YAML 1.1 read-back checks are skipped \
                 (pip install pyyaml; under CI=true they are mandatory)",
            );
        }
        found || in_ci()
    })
}

/// `host:port` of a database server URL (`scheme://user@host:port/db`).
fn host_port(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split('/').next()?;
    let host_port = authority.rsplit('@').next()?;
    Some(host_port.to_owned())
}

/// A database of its own for one test.
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    name: String,
    file: Option<PathBuf>,
}

impl TestDb {
    /// Creates an empty database on the backend.
    pub async fn create(backend: Backend) -> TestDb {
        let name = format!("osp_test_{}", uuid::Uuid::new_v4().simple());
        match backend {
            Backend::Sqlite => {
                let file = std::env::temp_dir().join(format!("{name}.db"));
                TestDb {
                    backend,
                    url: sqlite_url(&file),
                    name,
                    file: Some(file),
                }
            }
            Backend::Postgres | Backend::MariaDb => {
                let server = backend.server_url();
                let admin = Database::connect(&server).await.unwrap_or_else(|e| {
                    panic!(
                        "{backend:?} test server at {server} is unreachable ({e}); start it, or \
                         leave it out with OSP_TEST_DATABASES=sqlite outside CI"
                    )
                });
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                let (base, _) = server
                    .rsplit_once('/')
                    .expect("server URL names a database");
                TestDb {
                    backend,
                    url: format!("{base}/{name}"),
                    name,
                    file: None,
                }
            }
        }
    }

    /// Removes the database.
    pub async fn drop_database(self) {
        match self.backend {
            Backend::Sqlite => {
                if let Some(file) = &self.file {
                    for suffix in ["", "-wal", "-shm", "-journal"] {
                        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
                    }
                }
            }
            Backend::Postgres | Backend::MariaDb => {
                if let Ok(admin) = Database::connect(&self.backend.server_url()).await {
                    let force = if self.backend == Backend::Postgres {
                        " WITH (FORCE)"
                    } else {
                        ""
                    };
                    let _ = admin
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS {}{force}",
                            self.name
                        ))
                        .await;
                    admin.close().await.ok();
                }
            }
        }
    }
}

/// The configuration every test gateway starts from.
pub fn test_config(db: &TestDb) -> Config {
    let mut config = Config::new(db.url.clone());
    config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    config.admin_password = Some(secrecy::SecretString::from(ADMIN_PASSWORD));
    config.jwt_secret = Some(secrecy::SecretString::from(JWT_SECRET));
    config
}

/// A running gateway.
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

/// An HTTP answer: status and JSON body (`Value::Null` when not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

impl TestApp {
    /// Starts a gateway on `db` with `config`.
    pub async fn start(config: Config) -> TestApp {
        let app = Application::build(config).await.expect("gateway builds");
        let addr = app.local_addr();
        let (stop, stopped) = oneshot::channel();
        let server = tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        TestApp {
            addr,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("client"),
            stop: Some(stop),
            server: Some(server),
        }
    }

    /// Starts a gateway whose clusters are the given simulators, with the
    /// watch cache in `mode`.
    pub async fn with_clusters(
        db: &TestDb,
        clusters: &[(&str, &kube_sim::Simulator)],
        mode: CacheMode,
    ) -> TestApp {
        let mut config = test_config(db);
        config.kubeconfig_paths = vec![write_kubeconfig(clusters)];
        config.cluster_timeout = Duration::from_secs(2);
        config.pod_cache = mode;
        Self::start(config).await
    }

    /// Starts a gateway with the test defaults.
    pub async fn on(db: &TestDb) -> TestApp {
        Self::start(test_config(db)).await
    }

    /// Stops the gateway and waits until it has.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task")
                .expect("server stopped cleanly");
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Sends a request with an optional token and JSON body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        Self::answer(request.send().await.expect("request is answered")).await
    }

    /// A plain GET of `path`, for its status, headers and text as sent.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("answered")
    }

    /// Sends raw bytes as the body.
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Vec<u8>,
    ) -> Answer {
        let mut request = self
            .client
            .request(method, self.url(path))
            .header("content-type", "application/json")
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        Self::answer(request.send().await.expect("request is answered")).await
    }

    async fn answer(response: reqwest::Response) -> Answer {
        let status = response.status();
        let bytes = response.bytes().await.expect("body");
        Answer {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    /// Runs a GraphQL operation.
    pub async fn graphql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let answer = self
            .send(
                Method::POST,
                "/graphql",
                token,
                Some(json!({ "query": query, "variables": variables })),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
        answer.body
    }

    /// Signs in over REST and returns the token.
    pub async fn login(&self, name: &str, password: &str) -> String {
        let answer = self
            .send(
                Method::POST,
                "/osp/api/login",
                None,
                Some(json!({ "name": name, "password": password })),
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "login {name}: {:?}",
            answer.body
        );
        answer.body["data"]["token"]
            .as_str()
            .expect("token in login answer")
            .to_owned()
    }

    /// The bootstrapped admin's token.
    pub async fn admin_token(&self) -> String {
        self.login(ADMIN, ADMIN_PASSWORD).await
    }

    /// Creates a plain user as the admin with a grant on every cluster (what
    /// every user read before grants), returning its token.
    pub async fn user_with_token(&self, admin: &str, name: &str) -> String {
        self.user_with_grants(admin, name, json!([{ "cluster": "*" }]))
            .await
    }

    /// Creates a plain user as the admin with the given grants
    /// (`[{cluster, namespace}]`), returning its token.
    pub async fn user_with_grants(&self, admin: &str, name: &str, grants: Value) -> String {
        let token = self.user_without_grants(admin, name).await;
        self.set_grants(admin, name, grants).await;
        token
    }

    /// Replaces a user's grants as the admin.
    pub async fn set_grants(&self, admin: &str, name: &str, grants: Value) {
        let answer = self
            .graphql(
                Some(admin),
                "mutation($n: String!, $g: [GrantInput!]!) { setGrants(name: $n, grants: $g) { name } }",
                json!({ "n": name, "g": grants }),
            )
            .await;
        assert!(answer["errors"].is_null(), "setGrants {name}: {answer}");
    }

    /// Creates a plain user as the admin (with no grants), returning its token.
    pub async fn user_without_grants(&self, admin: &str, name: &str) -> String {
        let password = format!("{name}-password");
        let answer = self
            .send(
                Method::POST,
                "/osp/api/users",
                Some(admin),
                Some(json!({ "name": name, "email": format!("{name}@example.com"), "password": password })),
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "create {name}: {:?}",
            answer.body
        );
        self.login(name, &password).await
    }
}

/// The real pod captures shared with the project.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pods"))
}

/// A simulator serving every fixture pod.
pub async fn fixture_simulator() -> kube_sim::Simulator {
    kube_sim::Simulator::builder()
        .fixtures_dir(fixtures_dir())
        .build_and_start()
        .await
        .expect("simulator starts")
}

/// Writes a kubeconfig naming the simulators; returns its path.
pub fn write_kubeconfig(clusters: &[(&str, &kube_sim::Simulator)]) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "osp-test-{}.kubeconfig",
        uuid::Uuid::new_v4().simple()
    ));
    kube_sim::Simulator::write_kubeconfig(&path, clusters).expect("kubeconfig written");
    path
}

/// Waits until every cluster's watch cache has synced and is fresh.
pub async fn wait_until_synced(app: &TestApp, token: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let answer = app
            .graphql(
                Some(token),
                "{ clusters { cache { pods { fresh } nodes { fresh } replicaSets { fresh } } } }",
                json!({}),
            )
            .await;
        let fresh = answer["data"]["clusters"]
            .as_array()
            .is_some_and(|clusters| {
                clusters.iter().all(|c| {
                    ["pods", "nodes", "replicaSets"]
                        .iter()
                        .all(|kind| c["cache"][kind]["fresh"] == true)
                })
            });
        if fresh {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "caches never synced: {answer}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The code and message of an envelope or GraphQL error.
pub fn gql_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

/// Defines one test per database backend for each named async fn taking a
/// [`TestDb`]; the database is dropped after a passing test.
#[macro_export]
macro_rules! db_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                use $crate::helpers::{Backend, TestDb};

                async fn run(backend: Backend) {
                    if !backend.enabled() {
                        return;
                    }
                    let db = TestDb::create(backend).await;
                    super::$name(&db).await;
                    db.drop_database().await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() { run(Backend::Sqlite).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() { run(Backend::Postgres).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn mariadb() { run(Backend::MariaDb).await }
            }
        )*
    };
}

/// Compares `printed` with the committed file `name` (at the repository's
/// root), after writing it there when `$update` is `1`. A committed contract
/// (the GraphQL schema, the OpenAPI document) that drifts from the code fails
/// with the command that regenerates it.
pub fn assert_matches_committed(name: &str, printed: &str, update: &str, regenerate: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
    if std::env::var(update).is_ok_and(|v| v == "1") {
        std::fs::write(&path, printed).unwrap_or_else(|e| panic!("write {name}: {e}"));
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == printed,
        "{name} differs from what the code gives; regenerate it with\n  \
         {update}=1 {regenerate}\nand commit the result"
    );
}

/// The claims of a token, read without checking it.
pub fn claims_of(token: &str) -> Value {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let payload = token.split('.').nth(1).expect("a JWT has a payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url"))
        .expect("JSON claims")
}

/// `token` as if issued `secs` seconds earlier, with the same lifetime (so
/// still valid for `secs` less), signed with the test gateways' key.
pub fn issued_earlier(token: &str, secs: i64) -> String {
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    let mut claims = claims_of(token);
    for claim in ["iat", "exp"] {
        let at = claims[claim].as_i64().expect("a time claim");
        claims[claim] = json!(at - secs);
    }
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .expect("signs")
}
