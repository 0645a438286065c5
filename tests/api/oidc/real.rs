//! Sign-in through a real, certified OpenID Provider: the npm package
//! oidc-provider (panva), pinned in `tests/oidc/package-lock.json`, installed
//! by the first test that needs it (`npm ci`) and started once per test run
//! on 127.0.0.1. Without Node.js these tests are skipped with one line
//! outside CI; under `CI=true` they are mandatory.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::{Mutex, OnceLock},
};

use serde_json::{Value, json};

use super::{Browser, CALLBACK, fragment};
use crate::{
    helpers::{in_ci, notice},
    inprocess::{Gateway, code},
};

/// The running provider: its issuer, and the process (kept so its stdin
/// stays open; it exits when the test process does).
struct Provider {
    issuer: String,
    _process: Mutex<Child>,
}

fn directory() -> String {
    format!("{}/tests/oidc", env!("CARGO_MANIFEST_DIR"))
}

fn start() -> Result<Provider, String> {
    let dir = directory();
    if !std::path::Path::new(&format!("{dir}/node_modules/oidc-provider")).exists() {
        let installed = Command::new("npm")
            .args(["ci", "--silent", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .map_err(|e| format!("npm cannot be run: {e}"))?;
        if !installed.success() {
            return Err(format!("npm ci in tests/oidc failed: {installed}"));
        }
    }
    let mut process = Command::new("node")
        .arg(format!("{dir}/provider.mjs"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("node cannot be run: {e}"))?;
    let stdout = process.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| format!("the provider said nothing: {e}"))?;
    let issuer = line
        .trim()
        .strip_prefix("listening ")
        .ok_or_else(|| format!("the provider did not start: {line:?}"))?
        .to_owned();
    Ok(Provider {
        issuer,
        _process: Mutex::new(process),
    })
}

/// The provider's issuer; `None` (after one notice) when Node.js is missing
/// outside CI.
fn issuer() -> Option<&'static str> {
    static PROVIDER: OnceLock<Result<Provider, String>> = OnceLock::new();
    match PROVIDER.get_or_init(start) {
        Ok(provider) => Some(&provider.issuer),
        Err(reason) if !in_ci() => {
            static TOLD: OnceLock<()> = OnceLock::new();
            TOLD.get_or_init(|| {
                notice(&format!(
                    "the test OpenID Provider cannot start ({reason}): its sign-in tests are \
                     skipped (install Node.js 20; under CI=true they are mandatory)"
                ))
            });
            None
        }
        Err(reason) => panic!("the test OpenID Provider cannot start: {reason}"),
    }
}

async fn gateway(issuer: &str, tweak: impl FnOnce(&mut osp_gateway::config::Config)) -> Gateway {
    let issuer = issuer.to_owned();
    let gateway = Gateway::with(|config| {
        config.oidc_issuer = Some(issuer);
        config.oidc_client_id = Some("osp-gateway".to_owned());
        config.oidc_client_secret = Some(secrecy::SecretString::from("osp-gateway-secret"));
        config.oidc_redirect_url = Some(CALLBACK.to_owned());
        config.login_limit_per_address = 0;
        tweak(config);
    })
    .await;
    gateway.wait_for_provider().await;
    gateway
}

/// Adds (or replaces) an account at the provider.
async fn account(issuer: &str, sub: &str, name: &str, groups: &[&str]) {
    let answer = reqwest::Client::new()
        .post(format!("{issuer}/_test/accounts"))
        .json(&json!({ "sub": sub, "preferred_username": name,
                       "email": format!("{name}@example.com"), "groups": groups }))
        .send()
        .await
        .expect("the provider answers");
    assert_eq!(answer.status(), 204);
}

/// Signs `login_hint` in through the provider: the token, or the fragment's
/// error.
async fn sign_in(gateway: &Gateway, hint: &str) -> Result<String, String> {
    let (back, verifier) = gateway
        .sign_in_through(&mut Browser::new(), "/graphql", |url| {
            format!("{url}&login_hint={hint}")
        })
        .await;
    let answer = fragment(&back);
    let Some(code_) = answer.get("osp_code") else {
        return Err(answer["osp_error"].clone());
    };
    let redeemed = gateway.redeem(code_, &verifier).await;
    redeemed["data"]["redeemSignInCode"]["token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| code(&redeemed).to_owned())
}

async fn me(gateway: &Gateway, token: &str) -> Value {
    let answer = gateway
        .graphql(
            Some(token),
            "{ me { name email source role groups grants { cluster namespace } \
               effectiveGrants { cluster namespace } } viewerScope }",
            json!({}),
        )
        .await;
    answer["data"].clone()
}

#[tokio::test]
async fn a_person_signs_in_through_a_real_provider_and_reads_with_their_groups_grants() {
    let Some(issuer) = issuer() else { return };
    let gateway = gateway(issuer, |_| {}).await;
    let admin = gateway.admin_token().await;
    let alice = sign_in(&gateway, "alice").await.expect("alice signs in");
    assert_eq!(
        me(&gateway, &alice).await["me"],
        json!({ "name": "alice", "email": "alice@example.com", "source": "OIDC",
                "role": "USER", "groups": ["dev"], "grants": [], "effectiveGrants": [] })
    );
    let scope_before = me(&gateway, &alice).await["viewerScope"].clone();

    // A grant to her group applies to the token she holds, at once.
    let set = gateway
        .graphql(
            Some(&admin),
            "mutation { setGroupGrants(group: \"dev\", grants: [{ cluster: \"east\", namespace: \"team-a\" }]) \
               { group grants { cluster namespace reveal } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        set["data"]["setGroupGrants"],
        json!({ "group": "dev", "grants": [{ "cluster": "east", "namespace": "team-a", "reveal": false }] })
    );
    let now = me(&gateway, &alice).await;
    assert_eq!(now["me"]["grants"], json!([]), "her own grants stay hers");
    assert_eq!(
        now["me"]["effectiveGrants"],
        json!([{ "cluster": "east", "namespace": "team-a" }])
    );
    assert_ne!(
        now["viewerScope"], scope_before,
        "answers are keyed by effective grants"
    );

    let listed = gateway
        .graphql(
            Some(&admin),
            "{ groupGrants { group grants { cluster } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        listed["data"]["groupGrants"],
        json!([{ "group": "dev", "grants": [{ "cluster": "east" }] }])
    );
    // Only admins see or set group grants.
    for attempt in [
        "{ groupGrants { group } }",
        "mutation { setGroupGrants(group: \"dev\", grants: [{ cluster: \"*\" }]) { group } }",
    ] {
        let answer = gateway.graphql(Some(&alice), attempt, json!({})).await;
        assert_eq!(code(&answer), "Forbidden", "{attempt}: {answer}");
    }
    let events = gateway
        .graphql(
            Some(&admin),
            "{ auditEvents(action: \"group_grants_set\") { edges { node { actor target outcome detail } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        events["data"]["auditEvents"]["edges"],
        json!([
            { "node": { "actor": "alice", "target": "dev", "outcome": "Forbidden", "detail": "*/*" } },
            { "node": { "actor": "admin", "target": "dev", "outcome": "Success", "detail": "east/team-a" } },
        ])
    );
    let logins = gateway.login_events(&admin).await;
    assert!(
        logins.iter().any(|event| *event
            == json!({ "actor": "alice", "target": "alice", "outcome": "Success", "detail": "method=oidc" })),
        "{logins:?}"
    );
}

#[tokio::test]
async fn admin_groups_make_admins_at_each_sign_in_and_stop_doing_so() {
    let Some(issuer) = issuer() else { return };
    let sub = format!("erin-{}", uuid::Uuid::new_v4().simple());
    account(issuer, &sub, "erin", &["ops", "osp-admins"]).await;
    let gateway = gateway(issuer, |config| {
        config.oidc_admin_groups = vec!["osp-admins".to_owned()];
    })
    .await;
    let first = sign_in(&gateway, &sub).await.expect("erin signs in");
    assert_eq!(me(&gateway, &first).await["me"]["role"], "ADMIN");

    // She leaves the group: her next sign-in ends it, for her old token too.
    account(issuer, &sub, "erin", &["ops"]).await;
    let second = sign_in(&gateway, &sub).await.expect("erin signs in again");
    assert_eq!(me(&gateway, &second).await["me"]["role"], "USER");
    assert_eq!(me(&gateway, &first).await["me"]["role"], "USER");
    let users = gateway
        .graphql(Some(&first), "{ users { name } }", json!({}))
        .await;
    assert!(users["errors"].is_null(), "users may list users");
    let audit = gateway
        .graphql(
            Some(&first),
            "{ auditEvents { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&audit), "Forbidden", "{audit}");
    // The role the groups took away is in the trail (the first sign-in
    // created her an admin: user_created).
    let admin = gateway.admin_token().await;
    let changes = gateway
        .graphql(
            Some(&admin),
            "{ auditEvents(action: \"user_updated\") { edges { node { actor target detail } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        changes["data"]["auditEvents"]["edges"],
        json!([
            { "node": { "actor": "erin", "target": "erin",
                        "detail": "fields: role (user through OSP_OIDC_ADMIN_GROUPS)" } },
        ])
    );
}

#[tokio::test]
async fn sign_out_ends_every_token_and_names_the_providers_end_session() {
    let Some(issuer) = issuer() else { return };
    let gateway = gateway(issuer, |_| {}).await;
    let first = sign_in(&gateway, "carol").await.expect("carol signs in");
    let second = sign_in(&gateway, "carol")
        .await
        .expect("carol signs in again");
    let out = gateway
        .graphql(
            Some(&second),
            "mutation { signOut { endSessionUrl } }",
            json!({}),
        )
        .await;
    let url = out["data"]["signOut"]["endSessionUrl"]
        .as_str()
        .unwrap_or_else(|| panic!("{out}"));
    assert!(url.starts_with(&format!("{issuer}/")), "{url}");
    assert!(url.contains("client_id=osp-gateway"), "{url}");
    for token in [&first, &second] {
        let answer = gateway
            .graphql(Some(token), "{ me { name } }", json!({}))
            .await;
        assert_eq!(code(&answer), "Unauthorized", "{answer}");
    }
    // A local user's sign-out has no provider session to end.
    let admin = gateway.admin_token().await;
    let out = gateway
        .graphql(
            Some(&admin),
            "mutation { signOut { endSessionUrl } }",
            json!({}),
        )
        .await;
    assert_eq!(out["data"]["signOut"], json!({ "endSessionUrl": null }));
    let again = gateway
        .graphql(Some(&admin), "{ me { name } }", json!({}))
        .await;
    assert_eq!(code(&again), "Unauthorized");
    let fresh = gateway.admin_token().await;
    let events = gateway
        .graphql(
            Some(&fresh),
            "{ auditEvents(action: \"sign_out\") { edges { node { actor target outcome } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        events["data"]["auditEvents"]["edges"],
        json!([
            { "node": { "actor": "admin", "target": "admin", "outcome": "Success" } },
            { "node": { "actor": "carol", "target": "carol", "outcome": "Success" } },
        ])
    );
}

#[tokio::test]
async fn the_providers_admin_is_not_the_gateways_admin() {
    let Some(issuer) = issuer() else { return };
    let gateway = gateway(issuer, |_| {}).await;
    assert_eq!(
        sign_in(&gateway, "mallory-sub").await,
        Err("UserAlreadyExists".to_owned())
    );
}
