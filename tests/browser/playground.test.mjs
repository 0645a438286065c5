// Drives the GraphiQL playground in headless Chromium against a real gateway.
//
// Starts the Kubernetes API simulator and the gateway binary on 127.0.0.1
// (port 0) with a fresh SQLite database and a known admin password, opens
// /graphql, signs in through the page's form, runs a `users` query and a
// `podEvents` subscription (over /graphql/ws) and checks the result pane. Every
// request that is not to 127.0.0.1 is blocked and recorded: the playground must
// work air-gapped. A second page signs in through a real OpenID Provider
// (tests/oidc: oidc-provider on 127.0.0.1) with the playground's "Sign in with
// SSO" button and runs a query as the person it signed in.
//
// Environment: OSP_GATEWAY_BIN and KUBE_SIM_BIN (default: target/debug/ of this
// repository), CHROMIUM (default: /usr/bin/chromium). Writes a screenshot to
// tests/browser/artifacts/playground.png. Prints `browser: N passed, M failed`
// and exits non-zero on any failure.

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { SERVING, startProcess } from '../support/processes.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
const gatewayBin = process.env.OSP_GATEWAY_BIN || join(repo, 'target', 'debug', 'osp-gateway');
const simBin = process.env.KUBE_SIM_BIN || join(repo, 'target', 'debug', 'kube-sim');
const chromiumBin = process.env.CHROMIUM || '/usr/bin/chromium';
const artifacts = join(here, 'artifacts');
const ADMIN = 'admin';
const ADMIN_PASSWORD = 'browser-test-password';
const TIMEOUT_MS = 30_000;

const results = [];
async function check(name, body) {
  try {
    await body();
    results.push({ name, ok: true });
    console.log(`ok   ${name}`);
  } catch (err) {
    results.push({ name, ok: false });
    console.log(`FAIL ${name}\n     ${String(err && err.stack || err).split('\n').join('\n     ')}`);
  }
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

/** Starts the Kubernetes API simulator; resolves once its kubeconfig is written. */
function startSimulator(work) {
  return startProcess(simBin, [
    '--generated', '3', '--listen', '127.0.0.1:0',
    '--kubeconfig', join(work, 'sim.kubeconfig'), '--context', 'sim',
  ], { PATH: process.env.PATH, NO_COLOR: '1' }, /kubeconfig written/, TIMEOUT_MS);
}

/** A free port of 127.0.0.1 (the gateway's callback URL must name it up front). */
function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * Starts the test OpenID Provider (tests/oidc); resolves with its issuer. Its
 * stdin stays open: it exits when that closes.
 */
function startProvider() {
  const child = spawn(process.execPath, [join(repo, 'tests', 'oidc', 'provider.mjs')], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const issuer = new Promise((resolveIssuer, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the provider did not start: ${out}`)), TIMEOUT_MS);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const found = /listening (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (found) {
        clearTimeout(timer);
        resolveIssuer(found[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`the provider exited with ${code}: ${out}`)));
  });
  return { child, issuer };
}

/** Starts the gateway on `port` and resolves with its base URL once it logs it. */
function startGateway(work, port, issuer) {
  const { child, started, log } = startProcess(gatewayBin, [], {
    PATH: process.env.PATH,
    HOME: work,
    OSP_LISTEN: `127.0.0.1:${port}`,
    OSP_OIDC_ISSUER: issuer,
    OSP_OIDC_CLIENT_ID: 'osp-gateway',
    OSP_OIDC_CLIENT_SECRET: 'osp-gateway-secret',
    OSP_OIDC_REDIRECT_URL: `http://127.0.0.1:${port}/osp/auth/oidc/callback`,
    DATABASE_URL: `sqlite://${join(work, 'osp.db')}?mode=rwc`,
    OSP_ADMIN_NAME: ADMIN,
    OSP_ADMIN_PASSWORD: ADMIN_PASSWORD,
    OSP_KUBECONFIG: join(work, 'sim.kubeconfig'),
    OSP_LOG: 'info',
    NO_COLOR: '1',
  }, SERVING, TIMEOUT_MS);
  return { child, url: started.then((found) => found[1]), log };
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'osp-browser-'));
  mkdirSync(artifacts, { recursive: true });
  const sim = startSimulator(work);
  const provider = startProvider();
  let gateway;
  let context;
  let logPod; // a running pod of one container, from the default tab
  try {
    await sim.started;
    gateway = startGateway(work, await freePort(), await provider.issuer);
    const base = await gateway.url;
    const local = (raw) => {
      const url = new URL(raw);
      return ['data:', 'blob:', 'about:'].includes(url.protocol) || url.hostname === '127.0.0.1';
    };
    const offHost = new Set();
    const consoleErrors = [];

    context = await chromium.launchPersistentContext(join(work, 'profile'), {
      executablePath: chromiumBin,
      headless: true,
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ],
      viewport: { width: 1400, height: 800 },
    });
    // The air gap: anything not addressed to the gateway's host is refused.
    await context.route(() => true, (route) => {
      const url = route.request().url();
      if (local(url)) return route.continue();
      offHost.add(url);
      return route.abort('blockedbyclient');
    });
    await context.routeWebSocket((url) => !local(url.href), (ws) => {
      offHost.add(ws.url());
      return ws.close();
    });
    context.on('request', (request) => { if (!local(request.url())) offHost.add(request.url()); });

    const page = context.pages()[0] || (await context.newPage());
    page.setDefaultTimeout(TIMEOUT_MS);
    page.on('console', (msg) => { if (msg.type() === 'error') consoleErrors.push(msg.text()); });
    page.on('pageerror', (err) => consoleErrors.push(String(err)));

    await check('the playground loads from the gateway alone', async () => {
      const response = await page.goto(`${base}/graphql`);
      assert(response && response.ok(), `GET /graphql answered ${response && response.status()}`);
      assert(/default-src 'none'/.test(response.headers()['content-security-policy'] || ''),
        'the page has a Content-Security-Policy');
      await page.locator('.graphiql-container').waitFor();
      await page.locator('.graphiql-query-editor .CodeMirror').waitFor();
    });

    await check('signing in through the page fills the Authorization header', async () => {
      await page.fill('#osp-login-name', ADMIN);
      await page.fill('#osp-login-password', ADMIN_PASSWORD);
      await page.click('#osp-login button[type=submit]');
      await page.locator('#osp-login-status', { hasText: `Signed in as ${ADMIN}` }).waitFor();
      // The visible editor of the tools pane is the headers editor.
      const headers = await page.locator('.graphiql-editor-tool .CodeMirror')
        .filter({ visible: true }).evaluate((el) => el.CodeMirror.getValue());
      const parsed = JSON.parse(headers);
      assert(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/.test(parsed.Authorization || ''),
        `header editor holds a bearer token: ${headers}`);
    });

    await check('the default tab shows who is signed in, the newest pods and Deployments with their pods and events', async () => {
      await page.click('.graphiql-execute-button');
      const result = page.locator('.graphiql-response .CodeMirror');
      await result.filter({ hasText: '"totalCount"' }).waitFor();
      const text = await page.evaluate(() =>
        document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue());
      const body = JSON.parse(text);
      assert(!body.errors, `no errors: ${text}`);
      assert(body.data.me.name === ADMIN, `me: ${text}`);
      assert(body.data.podConnection.edges.length > 0, `pods listed: ${text}`);
      const deployments = body.data.deploymentConnection.edges;
      assert(deployments.length > 0, `Deployments listed: ${text}`);
      assert(deployments.some((e) => e.node.pods.length > 0), `a Deployment's pods: ${text}`);
      assert(deployments.every((e) => Array.isArray(e.node.events)), `Deployments' events: ${text}`);
      // A running pod of one container, for the log tab below.
      logPod = body.data.podConnection.edges.map((e) => e.node)
        .find((n) => n.status === 'Running' && n.ready === '1/1');
    });

    await check('a users query shows the admin in the result pane', async () => {
      await page.evaluate(() => {
        document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror
          .setValue('query Users {\n  users { name email role }\n}\n');
      });
      // GraphiQL picks the operation name up from the editor after a debounce;
      // executing before then would send the default tab's name (`Start`).
      await page.waitForTimeout(1000);
      await page.click('.graphiql-execute-button');
      const result = page.locator('.graphiql-response .CodeMirror');
      await result.filter({ hasText: '"role": "ADMIN"' }).waitFor();
      const text = await page.evaluate(() =>
        document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue());
      const body = JSON.parse(text);
      assert(!body.errors, `no errors: ${text}`);
      assert(body.data.users.some((u) => u.name === ADMIN && u.role === 'ADMIN'),
        `the admin is listed: ${text}`);
      await page.screenshot({ path: join(artifacts, 'playground.png') });
    });

    await check('a podEvents subscription streams over /graphql/ws', async () => {
      // A version from no cache of this gateway: the first event is RESYNC.
      await page.evaluate(() => {
        document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror
          .setValue('subscription Events {\n  podEvents(cluster: "sim", since: "0.0") { type version }\n}\n');
      });
      // GraphiQL picks the operation name up from the editor after a debounce.
      await page.waitForTimeout(1000);
      await page.click('.graphiql-execute-button');
      const result = page.locator('.graphiql-response .CodeMirror');
      await result.filter({ hasText: '"type": "RESYNC"' }).waitFor({ timeout: 15_000 }).catch(async (err) => {
        const text = await page.evaluate(() =>
          document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue());
        await page.screenshot({ path: join(artifacts, 'subscription-failed.png') });
        throw new Error(`${err.message}\nresult pane: ${text}`);
      });
      await page.screenshot({ path: join(artifacts, 'subscription.png') });
      await page.click('.graphiql-execute-button'); // stop the subscription
    });

    await check('the saved log tab follows a pod\'s log over /graphql/ws', async () => {
      assert(logPod, 'a running pod of one container was listed');
      await page.locator('.graphiql-tab').nth(1).locator('.graphiql-tab-button').click();
      await page.locator('.graphiql-editor-tools button', { hasText: 'Variables' }).click();
      await page.locator('.graphiql-editor-tool .CodeMirror').filter({ visible: true })
        .evaluate((el, variables) => el.CodeMirror.setValue(variables), JSON.stringify({
          cluster: logPod.cluster, namespace: logPod.namespace, name: logPod.name }));
      await page.waitForTimeout(1000);
      await page.click('.graphiql-execute-button');
      const result = page.locator('.graphiql-response .CodeMirror');
      await result.filter({ hasText: '"podLogLines"' }).waitFor({ timeout: 15_000 }).catch(async (err) => {
        const text = await page.evaluate(() =>
          document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue());
        await page.screenshot({ path: join(artifacts, 'log-tab-failed.png') });
        throw new Error(`${err.message}\nresult pane: ${text}`);
      });
      const text = await page.evaluate(() =>
        document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue());
      assert(!/"errors"/.test(text) && /"text"/.test(text), `a log line: ${text}`);
      await page.screenshot({ path: join(artifacts, 'log-tab.png') });
      await page.click('.graphiql-execute-button'); // stop the follow
    });

    await check('"Sign in with SSO" signs in through the identity provider and queries as that person', async () => {
      const sso = await context.newPage();
      sso.setDefaultTimeout(TIMEOUT_MS);
      sso.on('console', (msg) => { if (msg.type() === 'error') consoleErrors.push(msg.text()); });
      sso.on('pageerror', (err) => consoleErrors.push(String(err)));
      await sso.goto(`${base}/graphql`);
      const button = sso.locator('#osp-sso');
      await button.waitFor({ state: 'visible' });
      await button.click();
      // The provider's own sign-in page.
      await sso.locator('#login').waitFor();
      assert(sso.url().startsWith(await provider.issuer), `at the provider: ${sso.url()}`);
      await sso.fill('#login', 'alice');
      await sso.click('#sign-in');
      await sso.locator('#osp-login-status', { hasText: 'Signed in as alice' }).waitFor();
      assert(!sso.url().includes('osp_code'), `the code left the address bar: ${sso.url()}`);
      await sso.locator('.graphiql-query-editor .CodeMirror').waitFor();
      await sso.evaluate(() => {
        document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror
          .setValue('query Me {\n  me { name source groups }\n}\n');
      });
      await sso.waitForTimeout(1000);
      await sso.click('.graphiql-execute-button');
      await sso.locator('.graphiql-response .CodeMirror').filter({ hasText: '"source"' }).waitFor();
      const text = await sso.evaluate(() =>
        document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue());
      const body = JSON.parse(text);
      assert(!body.errors, `no errors: ${text}`);
      assert(body.data.me.name === 'alice' && body.data.me.source === 'OIDC',
        `signed in as alice through the provider: ${text}`);
      await sso.screenshot({ path: join(artifacts, 'sso.png') });
      await sso.close();
    });

    await check('the page logged no errors (scripts, CSP)', async () => {
      assert(consoleErrors.length === 0, `console errors:\n${consoleErrors.join('\n')}`);
    });
    await check('no request left 127.0.0.1', async () => {
      assert(offHost.size === 0, `requests off the host: ${[...offHost].join(', ')}`);
      // Control: an off-host request (from a page without the playground's
      // CSP, which would stop it first) is refused and noticed.
      const probe = 'http://192.0.2.1/air-gap-probe';
      const other = await context.newPage();
      const outcome = await other.goto(probe).then(() => 'reached', () => 'blocked');
      await other.close();
      assert(outcome === 'blocked' && offHost.has(probe), `the probe was ${outcome}`);
      offHost.delete(probe);
    });

  } catch (err) {
    results.push({ name: 'setup', ok: false });
    console.log(`FAIL setup\n     ${err && err.stack || err}`);
  } finally {
    if (context) await context.close().catch(() => {});
    if (gateway) gateway.child.kill('SIGTERM');
    provider.child.kill('SIGTERM');
    sim.child.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  }
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  console.log(`browser: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main();
