//! Holding under abuse: each bound, tried as an attacker would, over real
//! connections.

use std::time::Duration;

use kube_sim::Simulator;
use osp_gateway::{
    config::Introspection,
    graphql::ws::{MAX_OPERATIONS_PER_SOCKET, MAX_SOCKETS_PER_CLIENT},
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite;

use crate::{
    helpers::{
        ADMIN, ADMIN_PASSWORD, Backend, TestApp, TestDb, test_config, wait_until_synced,
        write_kubeconfig,
    },
    inprocess::Gateway,
    live::{Socket, connect, next, send, ws_request},
};

/// A gateway on SQLite, serving one simulated cluster `sim` from its cache.
async fn gateway(
    tweak: impl FnOnce(&mut osp_gateway::config::Config),
) -> (TestDb, TestApp, Simulator) {
    gateway_of(3, tweak).await
}

/// [`gateway`] over a cluster of `pods` pods.
async fn gateway_of(
    pods: usize,
    tweak: impl FnOnce(&mut osp_gateway::config::Config),
) -> (TestDb, TestApp, Simulator) {
    let sim = Simulator::builder()
        .generated_pods(pods)
        .build_and_start()
        .await
        .expect("simulator starts");
    let db = TestDb::create(Backend::Sqlite).await;
    let mut config = test_config(&db);
    config.kubeconfig_paths = vec![write_kubeconfig(&[("sim", &sim)])];
    config.cluster_timeout = Duration::from_secs(2);
    tweak(&mut config);
    let app = TestApp::start(config).await;
    (db, app, sim)
}

async fn stop(db: TestDb, app: TestApp) {
    app.stop().await;
    db.drop_database().await;
}

/// Opens `/graphql/ws` with the given `Origin` (none when `None`) and sends
/// nothing on it: the socket, or the HTTP status of the refusal.
async fn open(app: &TestApp, origin: Option<&str>) -> Result<Socket, u16> {
    let mut request = ws_request(app);
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("origin", origin.parse().expect("header"));
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
        Err(other) => panic!("unexpected failure: {other}"),
    }
}

/// The HTTP status of opening `/graphql/ws` with the given `Origin`: 101, or
/// that of the refusal.
async fn open_with_origin(app: &TestApp, origin: Option<&str>) -> u16 {
    open(app, origin)
        .await
        .map_or_else(|status| status, |_| 101)
}

#[tokio::test]
async fn a_page_of_another_site_cannot_open_a_graphql_socket() {
    let (db, app, _sim) = gateway(|_| {}).await;
    assert_eq!(
        open_with_origin(&app, Some("https://evil.example")).await,
        403
    );
    assert_eq!(
        open_with_origin(
            &app,
            Some(&format!("http://{}.evil.example", app.addr.ip()))
        )
        .await,
        403
    );
    stop(db, app).await;
}

#[tokio::test]
async fn the_gateways_own_pages_listed_origins_and_non_browsers_may_open_a_socket() {
    let (db, app, _sim) =
        gateway(|config| config.cors_origins = vec!["https://app.example.com".to_owned()]).await;
    let own = format!("http://{}", app.addr);
    assert_eq!(open_with_origin(&app, Some(&own)).await, 101);
    assert_eq!(
        open_with_origin(&app, Some("https://app.example.com")).await,
        101
    );
    assert_eq!(open_with_origin(&app, None).await, 101);
    stop(db, app).await;
}

#[tokio::test]
async fn a_client_address_holds_a_bounded_number_of_sockets() {
    let (db, app, _sim) = gateway(|_| {}).await;
    let mut held = Vec::new();
    // Sockets that have not signed in yet (the 10 s deadline is far).
    for _ in 0..MAX_SOCKETS_PER_CLIENT {
        held.push(open(&app, None).await.expect("within the cap"));
    }
    assert_eq!(open_with_origin(&app, None).await, 429, "one past the cap");
    // A closed socket gives its place back.
    let mut first = held.remove(0);
    first.close(None).await.expect("closed");
    drop(first);
    let mut reopened = false;
    for _ in 0..50 {
        if open_with_origin(&app, None).await == 101 {
            reopened = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(reopened, "a place came free");
    drop(held);
    stop(db, app).await;
}

#[tokio::test]
async fn a_huge_frame_is_refused_from_its_header_before_its_payload_arrives() {
    let (db, app, _sim) = gateway(|_| {}).await;
    let mut tcp = tokio::net::TcpStream::connect(app.addr)
        .await
        .expect("connects");
    let handshake = format!(
        "GET /graphql/ws HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n",
        app.addr
    );
    tcp.write_all(handshake.as_bytes()).await.expect("sent");
    let mut response = Vec::new();
    let mut byte = [0u8; 1];
    while !response.ends_with(b"\r\n\r\n") {
        tcp.read_exact(&mut byte).await.expect("handshake answer");
        response.push(byte[0]);
    }
    assert!(
        response.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&response)
    );
    // A masked text frame announcing 16 MiB, of which only 16 bytes follow.
    let mut frame = vec![0x81, 0x80 | 127];
    frame.extend_from_slice(&(16u64 * 1024 * 1024).to_be_bytes());
    frame.extend_from_slice(&[1, 2, 3, 4]);
    frame.extend_from_slice(&[b'x'; 16]);
    tcp.write_all(&frame).await.expect("sent");
    // The gateway gives up on the connection at once (without the frame cap
    // it would wait for the rest, until the 10 s sign-in deadline).
    let mut rest = Vec::new();
    let ended = tokio::time::timeout(Duration::from_secs(3), tcp.read_to_end(&mut rest)).await;
    assert!(ended.is_ok(), "the connection was still open after 3 s");
    stop(db, app).await;
}

/// A signed-in socket.
async fn signed_in(app: &TestApp) -> Socket {
    let token = app.admin_token().await;
    wait_until_synced(app, &token).await;
    let mut socket = connect(app, json!({ "Authorization": format!("Bearer {token}") })).await;
    assert_eq!(
        next(&mut socket).await.expect("ack")["type"],
        "connection_ack"
    );
    socket
}

fn subscribe(id: &str) -> Value {
    json!({
        "id": id,
        "type": "subscribe",
        "payload": {"query": "subscription { podEvents(cluster: \"sim\") { type } }"},
    })
}

#[tokio::test]
async fn a_second_operation_under_a_running_id_closes_the_socket_with_4409() {
    let (db, app, _sim) = gateway(|_| {}).await;
    let mut socket = signed_in(&app).await;
    send(&mut socket, subscribe("a")).await;
    send(&mut socket, subscribe("a")).await;
    let closed = loop {
        match next(&mut socket).await {
            Ok(_) => continue,
            Err(close) => break close,
        }
    };
    assert_eq!(closed.0, 4409, "{closed:?}");
    assert_eq!(closed.1, "Subscriber for a already exists");
    stop(db, app).await;
}

#[tokio::test]
async fn an_id_may_be_used_again_once_its_operation_completed() {
    let (db, app, _sim) = gateway(|_| {}).await;
    let mut socket = signed_in(&app).await;
    for _ in 0..3 {
        send(
            &mut socket,
            json!({"id": "q", "type": "subscribe", "payload": {"query": "{ __typename }"}}),
        )
        .await;
        assert_eq!(next(&mut socket).await.expect("next")["type"], "next");
        assert_eq!(
            next(&mut socket).await.expect("complete")["type"],
            "complete"
        );
    }
    send(&mut socket, subscribe("s")).await;
    send(&mut socket, json!({"id": "s", "type": "complete"})).await;
    send(&mut socket, subscribe("s")).await;
    send(
        &mut socket,
        json!({"id": "check", "type": "subscribe", "payload": {"query": "{ __typename }"}}),
    )
    .await;
    loop {
        let message = next(&mut socket).await.expect("the socket stays open");
        if message["id"] == "check" && message["type"] == "complete" {
            break;
        }
    }
    stop(db, app).await;
}

#[tokio::test]
async fn a_socket_holds_a_bounded_number_of_operations() {
    let (db, app, _sim) = gateway(|_| {}).await;
    let mut socket = signed_in(&app).await;
    for id in 0..=MAX_OPERATIONS_PER_SOCKET {
        send(&mut socket, subscribe(&id.to_string())).await;
    }
    let closed = loop {
        match next(&mut socket).await {
            Ok(_) => continue,
            Err(close) => break close,
        }
    };
    assert_eq!(closed.0, 4429, "{closed:?}");
    stop(db, app).await;
}

const MISSPELT: &str = "{ userss { name } }";

fn message(answer: &Value) -> String {
    answer["errors"][0]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("an error in {answer}"))
        .to_owned()
}

#[tokio::test]
async fn callers_without_a_valid_token_get_no_field_suggestions() {
    let (db, app, _sim) = gateway(|_| {}).await;
    let anonymous = app.graphql(None, MISSPELT, json!({})).await;
    assert!(!message(&anonymous).contains("Did you mean"), "{anonymous}");
    let forged = app.graphql(Some("not.a.token"), MISSPELT, json!({})).await;
    assert!(!message(&forged).contains("Did you mean"), "{forged}");
    let token = app.admin_token().await;
    let signed_in = app.graphql(Some(&token), MISSPELT, json!({})).await;
    assert!(message(&signed_in).contains("Did you mean"), "{signed_in}");
    stop(db, app).await;
}

const INTROSPECT: &str = "{ __schema { queryType { name } } me { name } }";

/// The query type's name as `token`'s holder introspects it (null when
/// introspection is off for them), after checking that the rest of the
/// same query ran: a refused caller is not mistaken for a refused field.
async fn introspected(app: &TestApp, token: Option<&str>) -> Value {
    let answer = app.graphql(token, INTROSPECT, json!({})).await;
    match token {
        Some(_) => {
            assert!(answer["errors"].is_null(), "{answer}");
            assert_eq!(
                answer["data"]["me"]["name"],
                crate::helpers::ADMIN,
                "{answer}"
            );
        }
        None => assert_eq!(
            answer["errors"][0]["extensions"]["code"], "Unauthorized",
            "only `me` is refused: {answer}"
        ),
    }
    answer["data"]["__schema"]["queryType"]["name"].clone()
}

#[tokio::test]
async fn introspection_can_be_switched_off() {
    let (db, app, _sim) = gateway(|config| config.introspection = Introspection::False).await;
    let token = app.admin_token().await;
    assert!(introspected(&app, Some(&token)).await.is_null());
    assert!(introspected(&app, None).await.is_null());
    let by_name = app
        .graphql(
            Some(&token),
            r#"{ __type(name: "QueryRoot") { name } }"#,
            json!({}),
        )
        .await;
    assert!(by_name["errors"].is_null(), "{by_name}");
    assert!(by_name["data"]["__type"].is_null(), "{by_name}");
    stop(db, app).await;
}

#[tokio::test]
async fn introspection_is_for_signed_in_callers_by_default() {
    let (db, app, _sim) = gateway(|_| {}).await;
    let token = app.admin_token().await;
    assert_eq!(introspected(&app, Some(&token)).await, "QueryRoot");
    assert!(introspected(&app, None).await.is_null());
    stop(db, app).await;
}

#[tokio::test]
async fn public_introspection_answers_anyone() {
    let (db, app, _sim) = gateway(|config| config.introspection = Introspection::Public).await;
    assert_eq!(introspected(&app, None).await, "QueryRoot");
    stop(db, app).await;
}

/// Log output collected in memory.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut log) = self.0.lock() {
            log.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().map(|log| log.clone()).unwrap_or_default())
            .into_owned()
    }
}

// One thread: the gateway's start-up logs on this test's thread, to the
// subscriber set here.
#[tokio::test(flavor = "current_thread")]
async fn a_generated_admin_password_goes_to_a_private_file_never_to_the_log() {
    let file = std::env::temp_dir().join(format!(
        "osp-admin-password-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let kept = file.clone();
    let log = Captured::default();
    let writer = log.clone();
    let subscriber = osp_gateway::logging::subscriber(
        "trace",
        osp_gateway::config::LogFormat::Text,
        false,
        move || writer.clone(),
    );
    let logging = tracing::subscriber::set_default(subscriber);
    let (db, app, _sim) = gateway(move |config| {
        config.admin_password = None;
        config.admin_password_file = kept;
    })
    .await;
    let written = std::fs::read_to_string(&file).expect("the password file was written");
    let password = written.trim_end();
    assert_eq!(password.len(), 24, "a generated password");
    drop(logging);
    let log = log.text();
    assert!(
        log.contains("generated password, written to the file"),
        "the start-up was logged here:\n{log}"
    );
    assert!(
        !log.contains(password),
        "the password is in the log:\n{log}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "readable by the gateway's user only");
    }
    let token = app.login(crate::helpers::ADMIN, password).await;
    assert!(!token.is_empty());
    let _ = std::fs::remove_file(&file);
    stop(db, app).await;
}

#[tokio::test]
async fn two_installations_sharing_a_secret_refuse_each_others_tokens() {
    let (db_a, a, _sim_a) = gateway(|_| {}).await;
    let (db_b, b, _sim_b) = gateway(|_| {}).await;
    let token_of_a = a.admin_token().await;
    let claims = crate::helpers::claims_of(&token_of_a);
    assert_eq!(claims["iss"], claims["aud"]);
    assert!(
        claims["iss"]
            .as_str()
            .is_some_and(|iss| iss.starts_with("osp-gateway:"))
    );
    let at_a = a
        .graphql(Some(&token_of_a), "{ me { name } }", json!({}))
        .await;
    assert_eq!(at_a["data"]["me"]["name"], crate::helpers::ADMIN, "{at_a}");
    let at_b = b
        .graphql(Some(&token_of_a), "{ me { name } }", json!({}))
        .await;
    assert_eq!(crate::helpers::gql_code(&at_b), "Unauthorized", "{at_b}");
    stop(db_a, a).await;
    stop(db_b, b).await;
}

crate::db_tests!(
    two_admins_demoting_each_other_at_once_leave_one_admin,
    concurrent_password_changes_each_bump_the_token_generation,
);

/// The names of the admins, as an admin sees them.
async fn admins(app: &TestApp, token: &str) -> Vec<String> {
    let answer = app
        .graphql(Some(token), "{ users { name role } }", json!({}))
        .await;
    answer["data"]["users"]
        .as_array()
        .unwrap_or_else(|| panic!("users: {answer}"))
        .iter()
        .filter(|user| user["role"] == "ADMIN")
        .map(|user| user["name"].as_str().expect("name").to_owned())
        .collect()
}

async fn create_user(app: &TestApp, admin: &str, name: &str, role: &str) {
    let answer = app
        .send(
            reqwest::Method::POST,
            "/osp/api/users",
            Some(admin),
            Some(json!({"name": name, "email": format!("{name}@example.com"),
                        "password": format!("{name}-password"), "role": role})),
        )
        .await;
    assert_eq!(answer.status, reqwest::StatusCode::OK, "{:?}", answer.body);
}

async fn demote(app: &TestApp, token: &str, name: &str) -> reqwest::StatusCode {
    app.send(
        reqwest::Method::PUT,
        &format!("/osp/api/users/{name}"),
        Some(token),
        Some(json!({"role": "user"})),
    )
    .await
    .status
}

async fn two_admins_demoting_each_other_at_once_leave_one_admin(db: &TestDb) {
    let app = TestApp::on(db).await;
    let mut survivor = (crate::helpers::ADMIN.to_owned(), app.admin_token().await);
    for round in 0..10 {
        let peer = format!("peer{round}");
        create_user(&app, &survivor.1, &peer, "admin").await;
        let peer_token = app.login(&peer, &format!("{peer}-password")).await;
        assert_eq!(admins(&app, &survivor.1).await.len(), 2);
        let (by_survivor, by_peer) = tokio::join!(
            demote(&app, &survivor.1, &peer),
            demote(&app, &peer_token, &survivor.0),
        );
        let ok = [by_survivor, by_peer]
            .iter()
            .filter(|status| status.is_success())
            .count();
        assert_eq!(ok, 1, "round {round}: {by_survivor} and {by_peer}");
        if by_peer.is_success() {
            survivor = (peer, peer_token);
        }
        let left = admins(&app, &survivor.1).await;
        assert_eq!(left, [survivor.0.clone()], "round {round}");
    }
    app.stop().await;
}

async fn concurrent_password_changes_each_bump_the_token_generation(db: &TestDb) {
    let app = TestApp::on(db).await;
    let admin = app.admin_token().await;
    for round in 0..5 {
        let name = format!("racer{round}");
        create_user(&app, &admin, &name, "user").await;
        let own = app.login(&name, &format!("{name}-password")).await;
        let change = |token: String, password: String| {
            let app = &app;
            let path = format!("/osp/api/users/{name}");
            async move {
                app.send(
                    reqwest::Method::PUT,
                    &path,
                    Some(&token),
                    Some(json!({ "password": password })),
                )
                .await
                .status
            }
        };
        let (a, b) = tokio::join!(
            change(admin.clone(), format!("{name}-by-admin")),
            change(own.clone(), format!("{name}-by-self")),
        );
        // The user's own change may find its token revoked by the admin's.
        assert!(a.is_success(), "{a}");
        // Whichever password was written last signs in, with the generation
        // bumped once per change that was written.
        let mut signed_in = None;
        for password in [format!("{name}-by-admin"), format!("{name}-by-self")] {
            let answer = app
                .send(
                    reqwest::Method::POST,
                    "/osp/api/login",
                    None,
                    Some(json!({ "name": name, "password": password })),
                )
                .await;
            if answer.status.is_success() {
                signed_in = answer.body["data"]["token"].as_str().map(str::to_owned);
            }
        }
        let token = signed_in.expect("one of the passwords is current");
        let generation = crate::helpers::claims_of(&token)["gen"]
            .as_i64()
            .expect("gen");
        let written = 1 + i64::from(b.is_success());
        assert_eq!(generation, written, "round {round}: admin {a}, self {b}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_client_sending_headers_slowly_is_cut_off() {
    let (db, app, _sim) = gateway(|config| config.header_timeout = Duration::from_secs(1)).await;
    let mut tcp = tokio::net::TcpStream::connect(app.addr)
        .await
        .expect("connects");
    tcp.write_all(b"GET /healthz HTTP/1.1\r\n")
        .await
        .expect("sent");
    let started = std::time::Instant::now();
    let mut closed = false;
    // One header line every 300 ms, never the blank line that ends them.
    while started.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(300)).await;
        if tcp.write_all(b"X-Slow: yes\r\n").await.is_err() {
            closed = true;
            break;
        }
        let mut buf = [0u8; 512];
        // hyper may answer 408 before closing; a read of 0 bytes is the close.
        if let Ok(Ok(0) | Err(_)) =
            tokio::time::timeout(Duration::from_millis(10), tcp.read(&mut buf)).await
        {
            closed = true;
            break;
        }
    }
    assert!(
        closed,
        "the connection was still open after 5 s of slow headers"
    );
    assert!(started.elapsed() < Duration::from_secs(4));
    stop(db, app).await;
}

#[tokio::test]
async fn connections_past_the_cap_wait_until_one_closes() {
    let (db, app, _sim) = gateway(|config| config.max_connections = 2).await;
    let idle_a = tokio::net::TcpStream::connect(app.addr)
        .await
        .expect("connects");
    let _idle_b = tokio::net::TcpStream::connect(app.addr)
        .await
        .expect("connects");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(800))
        .build()
        .expect("client");
    let waiting = client.get(app.url("/healthz")).send().await;
    assert!(
        waiting.is_err(),
        "a third connection was served: {waiting:?}"
    );
    drop(idle_a);
    assert_healthz_served(&app).await;
    stop(db, app).await;
}

/// Posts a body of `size` bytes to `path` over a raw connection, writing it
/// while reading the answer; the answer's status line, or the I/O error that
/// ended the exchange.
async fn post_big_body(app: &TestApp, path: &str, size: usize) -> Result<String, String> {
    let tcp = tokio::net::TcpStream::connect(app.addr)
        .await
        .expect("connects");
    let (mut reader, mut writer) = tcp.into_split();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Content-Length: {size}\r\n\r\n",
        app.addr
    );
    let writing = tokio::spawn(async move {
        writer.write_all(head.as_bytes()).await?;
        let chunk = vec![b' '; 64 * 1024];
        let mut sent = 0;
        while sent < size {
            let n = chunk.len().min(size - sent);
            writer.write_all(&chunk[..n]).await?;
            sent += n;
        }
        std::io::Result::Ok(writer)
    });
    // Read only once the whole body was sent (or sending failed), as a client
    // that writes before it reads does.
    let writer = writing
        .await
        .expect("joined")
        .map_err(|e| format!("write: {e}"))?;
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.windows(2).any(|w| w == b"\r\n") {
        match tokio::time::timeout(Duration::from_secs(10), reader.read(&mut buf)).await {
            Ok(Ok(0)) => return Err("closed before an answer".to_owned()),
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
            Ok(Err(e)) => return Err(format!("read: {e}")),
            Err(_) => return Err("no answer in 10 s".to_owned()),
        }
    }
    drop(writer);
    let text = String::from_utf8_lossy(&answer).into_owned();
    Ok(text.lines().next().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn a_client_sending_a_body_over_the_limit_can_read_the_413() {
    let (db, app, _sim) = gateway(|_| {}).await;
    for path in ["/osp/api/login", "/graphql"] {
        let status = post_big_body(&app, path, 4 * 1024 * 1024).await;
        assert_eq!(
            status.as_deref(),
            Ok("HTTP/1.1 413 Payload Too Large"),
            "{path}"
        );
    }
    stop(db, app).await;
}

/// Asserts that a new connection's `/healthz` is answered within 5 s.
async fn assert_healthz_served(app: &TestApp) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let served = client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("served");
    assert!(served.status().is_success());
}

#[tokio::test]
async fn an_upgraded_websocket_leaves_the_connection_count() {
    let (db, app, _sim) = gateway(|config| config.max_connections = 1).await;
    let _socket = open(&app, None).await.expect("the one connection upgrades");
    assert_healthz_served(&app).await;
    stop(db, app).await;
}

crate::db_tests!(sign_in_attempts_on_one_gateway_count_on_another_on_a_shared_database);

/// Waits, when the clock minute is about to end, until the next one begins:
/// counts shared through the database hold per clock minute.
async fn away_from_a_minute_boundary() {
    let into_minute = chrono::Utc::now().timestamp().rem_euclid(60);
    if into_minute >= 45 {
        tokio::time::sleep(Duration::from_secs(61 - into_minute as u64)).await;
    }
}

/// A wrong sign-in of `name` on `app`: its GraphQL error code.
async fn wrong_sign_in(app: &TestApp, name: &str) -> String {
    let answer = app
        .graphql(
            None,
            "mutation($n: String!) { login(name: $n, password: \"wrong-password\") { token } }",
            json!({"n": name}),
        )
        .await;
    crate::helpers::gql_code(&answer).to_owned()
}

/// Replicas on PostgreSQL or MariaDB share one count per name and per address;
/// on SQLite (one process) each gateway counts its own.
async fn sign_in_attempts_on_one_gateway_count_on_another_on_a_shared_database(db: &TestDb) {
    let start = |per_name, per_address| {
        let mut config = test_config(db);
        config.login_limit_per_name = per_name;
        config.login_limit_per_address = per_address;
        TestApp::start(config)
    };
    let shared = db.backend != Backend::Sqlite;
    let (one, two) = (start(3, 0).await, start(3, 0).await);
    away_from_a_minute_boundary().await;

    for app in [&one, &two, &one] {
        assert_eq!(wrong_sign_in(app, "Alice").await, "Unauthorized");
    }
    let fourth = wrong_sign_in(&two, "ALICE").await;

    if shared {
        assert_eq!(fourth, "TooManyRequests", "the name's fourth attempt");
        assert_eq!(wrong_sign_in(&one, "bob").await, "Unauthorized");
        // A count of an earlier minute starts again at one.
        let store = sea_orm::Database::connect(&db.url).await.expect("connect");
        sea_orm::ConnectionTrait::execute_unprepared(
            &store,
            "UPDATE login_attempts SET window_start = window_start - 1",
        )
        .await
        .expect("age the counts");
        store.close().await.ok();
        assert_eq!(wrong_sign_in(&two, "alice").await, "Unauthorized");
    } else {
        assert_eq!(fourth, "Unauthorized", "SQLite counts per process");
    }
    one.stop().await;
    two.stop().await;

    let (one, two) = (start(0, 2).await, start(0, 2).await);
    away_from_a_minute_boundary().await;
    assert_eq!(wrong_sign_in(&one, "carol").await, "Unauthorized");
    assert_eq!(wrong_sign_in(&two, "dave").await, "Unauthorized");
    let third = wrong_sign_in(&one, "erin").await;
    assert_eq!(
        third,
        if shared {
            "TooManyRequests"
        } else {
            "Unauthorized"
        },
        "the address's third attempt"
    );
    one.stop().await;
    two.stop().await;
}

/// A gateway answering at most 256 KiB, over a cluster of 400 pods.
async fn capped_gateway() -> (TestDb, TestApp, Simulator, String) {
    let (db, app, sim) = gateway_of(400, |config| config.max_response_bytes = 256 * 1024).await;
    let token = app.admin_token().await;
    wait_until_synced(&app, &token).await;
    (db, app, sim, token)
}

fn is_too_large_field(answer: &Value, field: &str) -> bool {
    answer["errors"].as_array().is_some_and(|errors| {
        errors.iter().any(|error| {
            error["extensions"]["code"] == "ResponseTooLarge" && error["path"] == json!([field])
        })
    })
}

#[tokio::test]
async fn lists_cost_their_size_and_are_refused_before_they_are_built() {
    let (db, app, _sim, token) = capped_gateway().await;

    let names = app
        .graphql(
            Some(&token),
            r#"{ pods(cluster: "sim") { name } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        names["data"]["pods"].as_array().map(Vec::len),
        Some(400),
        "{names}"
    );

    // Each pod's object is a few KiB: 400 of them are over the cap. The field
    // is refused (its path named) before a single object is parsed.
    let objects = app
        .graphql(
            Some(&token),
            r#"{ all: pods(cluster: "sim") { json } }"#,
            json!({}),
        )
        .await;
    assert!(is_too_large_field(&objects, "all"), "{objects}");
    let message = objects["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("OSP_MAX_RESPONSE_BYTES"), "{message}");

    // Small lists, repeated under a dozen aliases, add up.
    let aliases: String = (0..12)
        .map(|i| {
            format!(r#"a{i}: pods(cluster: "sim") {{ name namespace status ready restarts }} "#)
        })
        .collect();
    let repeated = app
        .graphql(Some(&token), &format!("{{ {aliases} }}"), json!({}))
        .await;
    assert!(
        (0..12).any(|i| is_too_large_field(&repeated, &format!("a{i}"))),
        "{repeated}"
    );

    let pod = &names["data"]["pods"][0]["name"];
    let one = app
        .graphql(
            Some(&token),
            r#"query($n: String!) { pods(cluster: "sim", name: $n) { json yaml } }"#,
            json!({"n": pod}),
        )
        .await;
    assert!(one["errors"].is_null(), "one pod's object fits: {one}");
    stop(db, app).await;
}

#[tokio::test]
async fn a_rest_list_over_the_cap_answers_an_envelope_saying_so() {
    // 1,500 pods' summaries are well over 256 KiB.
    let (db, app, _sim) = gateway_of(1500, |config| config.max_response_bytes = 256 * 1024).await;
    let token = app.admin_token().await;
    wait_until_synced(&app, &token).await;
    let rest = app
        .send(
            reqwest::Method::GET,
            "/osp/api/pods/sim",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(
        rest.status,
        reqwest::StatusCode::BAD_REQUEST,
        "{:?}",
        rest.body
    );
    assert_eq!(rest.body["code"], "ResponseTooLarge", "{:?}", rest.body);
    assert!(rest.body["data"].is_null());
    // One pod of them fits.
    let names = app
        .graphql(
            Some(&token),
            r#"{ pods(cluster: "sim") { name } }"#,
            json!({}),
        )
        .await;
    let name = names["data"]["pods"][0]["name"].as_str().expect("a pod");
    let one = app
        .send(
            reqwest::Method::GET,
            &format!("/osp/api/pods/sim?name={name}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(one.status, reqwest::StatusCode::OK, "{:?}", one.body);
    stop(db, app).await;
}

#[tokio::test]
async fn any_graphql_answer_over_the_cap_is_replaced_by_an_error() {
    let (db, app, _sim, token) = capped_gateway().await;
    // Introspection is not priced by size; the answer as sent is still capped.
    let schema = "__schema { types { name description fields { name description \
                  args { name description } type { name kind } } } }";
    let aliases: String = (0..12).map(|i| format!("s{i}: {schema} ")).collect();

    for (accept, status) in [
        (
            "application/graphql-response+json",
            reqwest::StatusCode::BAD_REQUEST,
        ),
        ("application/json", reqwest::StatusCode::OK),
    ] {
        let answer = app
            .client
            .post(app.url("/graphql"))
            .bearer_auth(&token)
            .header("accept", accept)
            .json(&json!({ "query": format!("{{ {aliases} }}") }))
            .send()
            .await
            .expect("answered");

        assert_eq!(answer.status(), status, "{accept}");
        let body: Value = answer.json().await.expect("json");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "ResponseTooLarge",
            "{body}"
        );
        assert!(body.get("data").is_none(), "{body}");
    }
    stop(db, app).await;
}

/// Posts `body` to `/graphql` without reuse, on a connection that reads the
/// answer's first bytes and then nothing more (with a small receive buffer,
/// so the gateway cannot hand it the rest).
async fn stalled_graphql(app: &TestApp, token: &str, body: &str) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("receive buffer");
    let mut stream = socket.connect(app.addr).await.expect("connects");
    let request = format!(
        "POST /graphql HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nCache-Control: no-cache\r\n\
         Content-Length: {}\r\n\r\n{body}",
        app.addr,
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("request sent");
    let mut head = [0u8; 64];
    let read = stream.read(&mut head).await.expect("answer begins");
    assert!(
        head[..read].starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&head[..read])
    );
    stream
}

#[tokio::test]
async fn heavy_answers_keep_their_turn_until_they_are_read() {
    // The objects of 400 pods under ten aliases: some 10 MiB, heavy (over a
    // quarter of the default cap) and within it; more than the kernel's
    // socket buffers take from a reader that does not read.
    let (db, app, _sim) = gateway_of(400, |config| {
        // A turn is waited for 5 s at most, well within the request time
        // even on a loaded machine.
        config.request_timeout = Duration::from_secs(10);
    })
    .await;
    let token = app.admin_token().await;
    wait_until_synced(&app, &token).await;
    let aliases: String = (0..10)
        .map(|i| format!(r#"a{i}: pods(cluster: "sim") {{ json }} "#))
        .collect();
    let body = json!({ "query": format!("{{ {aliases} }}") }).to_string();
    let heavy = || async {
        let response = app
            .client
            .post(app.url("/graphql"))
            .bearer_auth(&token)
            .header("cache-control", "no-cache")
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .expect("answered");
        let text = response.text().await.expect("body");
        let answer: Value = serde_json::from_str(&text).expect("JSON");
        (
            text.len(),
            answer["errors"][0]["extensions"]["code"].clone(),
        )
    };
    let (size, code) = heavy().await;
    assert!(code.is_null(), "{code}");
    assert!(size > 8 * 1024 * 1024, "heavy: {size} bytes");

    // Two answers nobody reads hold the user's two turns: a third heavy
    // operation waits for one, and is refused when the wait (half the request
    // time) ends. (Were the turns given back once the answers were built, it
    // would be served.)
    let stalled = [
        stalled_graphql(&app, &token, &body).await,
        stalled_graphql(&app, &token, &body).await,
    ];
    let (_, code) = heavy().await;
    assert_eq!(code, "TooManyRequests");
    drop(stalled);
    let (_, code) = heavy().await;
    assert!(
        code.is_null(),
        "turns come back when the readers go: {code}"
    );
    stop(db, app).await;
}

/// `podConnection` over the whole 400-pod cluster with `cursor` under
/// `aliases` aliases per edge.
fn cursor_aliases(aliases: usize) -> String {
    let cursors: String = (0..aliases).map(|i| format!("c{i}: cursor ")).collect();
    format!(r#"{{ podConnection(clusters: ["sim"], first: 400) {{ edges {{ {cursors} }} }} }}"#)
}

#[tokio::test]
async fn cluster_lists_are_bounded_and_unreadable_names_fold_into_one_error() {
    let (db, app, _sim) = gateway(|_| {}).await;
    let admin = app.admin_token().await;
    let nobody = app.user_without_grants(&admin, "nobody").await;
    let query = "query($c: [String!]) { podConnection(clusters: $c) { clusters { name state } } }";

    // One cluster is configured: two names are more than it could mean.
    for token in [&admin, &nobody] {
        let answer = app
            .graphql(Some(token), query, json!({ "c": ["sim", "other"] }))
            .await;
        assert_eq!(
            answer["errors"][0]["extensions"]["code"],
            "InvalidParameter"
        );
        assert!(message(&answer).contains("at most 1"), "{answer}");
        assert!(answer["data"].is_null(), "nothing built: {answer}");
    }
    // A list of thousands is refused the same way, whoever sends it.
    let many: Vec<String> = (0..5000).map(|i| format!("c{i}")).collect();
    let answer = app
        .graphql(Some(&nobody), query, json!({ "c": many }))
        .await;
    assert_eq!(
        answer["errors"].as_array().map(Vec::len),
        Some(1),
        "{answer}"
    );
    assert_eq!(
        answer["errors"][0]["extensions"]["code"],
        "InvalidParameter"
    );

    let forbidden = app
        .graphql(Some(&nobody), query, json!({ "c": ["sim"] }))
        .await;
    assert_eq!(forbidden["errors"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        forbidden["errors"][0]["extensions"]["clusters"],
        json!(["sim"])
    );
    assert_eq!(
        forbidden["data"]["podConnection"]["clusters"],
        json!([{ "name": "sim", "state": "FORBIDDEN" }])
    );
    stop(db, app).await;
}

#[tokio::test]
async fn every_cursor_of_a_page_is_priced_before_the_page_is_built() {
    let (db, app, _sim, token) = capped_gateway().await;
    let one = app
        .graphql(Some(&token), &cursor_aliases(1), json!({}))
        .await;
    assert!(one["errors"].is_null(), "one cursor per edge fits: {one}");

    // 98 cursors on 400 edges are megabytes: refused by their estimate.
    let many = app
        .graphql(Some(&token), &cursor_aliases(98), json!({}))
        .await;
    assert!(is_too_large_field(&many, "podConnection"), "{many}");
    stop(db, app).await;
}

#[tokio::test]
async fn websocket_answers_are_priced_and_measured_as_http_answers_are() {
    let (db, app, _sim, token) = capped_gateway().await;
    let mut socket = connect(&app, json!({ "Authorization": format!("Bearer {token}") })).await;
    assert_eq!(
        next(&mut socket).await.expect("ack")["type"],
        "connection_ack"
    );
    let run = |id: &str, query: String| json!({ "id": id, "type": "subscribe", "payload": { "query": query } });

    send(&mut socket, run("cursors", cursor_aliases(98))).await;
    let answer = next(&mut socket).await.expect("an answer");
    assert_eq!(answer["type"], "next", "{answer}");
    assert!(
        is_too_large_field(&answer["payload"], "podConnection"),
        "{answer}"
    );
    assert_eq!(
        next(&mut socket).await.expect("complete")["type"],
        "complete"
    );

    // What no estimate covers is measured before it is sent.
    let schema = "__schema { types { name description fields { name description \
                  args { name description } type { name kind } } } }";
    let aliases: String = (0..12).map(|i| format!("s{i}: {schema} ")).collect();
    send(&mut socket, run("schema", format!("{{ {aliases} }}"))).await;
    let answer = next(&mut socket).await.expect("an answer");
    let text = answer.to_string();
    assert!(text.len() < 4096, "{} bytes sent", text.len());
    assert_eq!(
        answer["payload"]["errors"][0]["extensions"]["code"], "ResponseTooLarge",
        "{answer}"
    );
    stop(db, app).await;
}

#[tokio::test]
async fn an_answer_carries_a_bounded_number_of_errors() {
    let (db, app, _sim) = gateway(|_| {}).await;
    let token = app.admin_token().await;
    let aliases: String = (0..150)
        .map(|i| format!(r#"p{i}: pod(cluster: "nowhere", namespace: "a", name: "b") {{ name }} "#))
        .collect();
    let answer = app
        .graphql(Some(&token), &format!("{{ {aliases} }}"), json!({}))
        .await;
    let errors = answer["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), osp_gateway::graphql::MAX_ERRORS, "{answer}");
    let last = errors.last().expect("a last error");
    assert_eq!(last["message"], "51 more errors left out of this answer");
    assert_eq!(last["extensions"]["code"], "ClusterNotFound");
    stop(db, app).await;
}

/// A client address of its own for each `i` (the in-process gateway takes the
/// address as a real connection gives it; nothing is sent anywhere).
fn client(i: u32) -> Option<std::net::IpAddr> {
    Some(std::net::IpAddr::V4(std::net::Ipv4Addr::from(
        0x0a00_0000 + i,
    )))
}

#[tokio::test]
async fn one_client_spending_a_names_attempts_does_not_lock_out_another() {
    let gateway = Gateway::new().await;
    let limit = osp_gateway::config::DEFAULT_LOGIN_LIMIT_PER_NAME;
    for attempt in 0..limit {
        assert_eq!(
            gateway
                .sign_in_from(client(1), ADMIN, "wrong-password")
                .await,
            Err("Unauthorized".to_owned()),
            "attempt {attempt}"
        );
    }
    assert_eq!(
        gateway.sign_in_from(client(1), ADMIN, ADMIN_PASSWORD).await,
        Err("TooManyRequests".to_owned()),
        "the client that spent the attempts waits"
    );
    assert!(
        gateway
            .sign_in_from(client(2), ADMIN, ADMIN_PASSWORD)
            .await
            .is_ok(),
        "another client signs in"
    );
}

#[tokio::test]
async fn a_name_failing_from_many_clients_slows_down_but_signs_in() {
    let gateway = Gateway::with(|config| config.login_limit_per_name = 2).await;
    for i in 0..8 {
        assert_eq!(
            gateway
                .sign_in_from(client(i), ADMIN, "wrong-password")
                .await,
            Err("Unauthorized".to_owned()),
            "client {i}"
        );
    }
    let started = std::time::Instant::now();
    let signed_in = gateway
        .sign_in_from(client(100), ADMIN, ADMIN_PASSWORD)
        .await;
    let took = started.elapsed();
    assert!(signed_in.is_ok(), "{signed_in:?}");
    assert!(
        took >= Duration::from_millis(1_000),
        "slowed down: {took:?}"
    );
    assert!(
        took < osp_gateway::ratelimit::MAX_SLOWDOWN + Duration::from_secs(2),
        "by a bounded wait: {took:?}"
    );
}

crate::db_tests!(sign_in_limits_count_each_address_apart_and_slow_failing_names);

/// Both ways of counting (in the database on PostgreSQL and MariaDB, in memory
/// on SQLite) count a name's attempts per address, and slow a name failing
/// everywhere without refusing it.
async fn sign_in_limits_count_each_address_apart_and_slow_failing_names(db: &TestDb) {
    use osp_gateway::ratelimit::{LoginLimiter, MAX_SLOWDOWN};
    let store = osp_gateway::db::connect(&db.url).await.expect("connects");
    let limiter = LoginLimiter::on_database(&store, 2, 0).await;
    away_from_a_minute_boundary().await;

    for _ in 0..2 {
        limiter
            .check("Admin", client(1))
            .await
            .expect("within the limit");
    }
    let refused = limiter.check("admin", client(1)).await.expect_err("third");
    assert_eq!(
        refused.code(),
        osp_gateway::error::ErrorCode::TooManyRequests
    );
    limiter
        .check("admin", client(2))
        .await
        .expect("another address has its own attempts");

    for _ in 0..5 {
        limiter.failed("ADMIN").await;
    }
    let started = std::time::Instant::now();
    limiter
        .check("admin", client(3))
        .await
        .expect("a failing name is slowed, not refused");
    let took = started.elapsed();
    // Five failures, three past the limit: 600 ms.
    assert!(took >= Duration::from_millis(500), "{took:?}");
    assert!(
        took <= MAX_SLOWDOWN + Duration::from_millis(500),
        "{took:?}"
    );
    store.close().await.ok();
}
