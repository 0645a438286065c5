// A real OpenID Provider (panva/oidc-provider) for the gateway's tests.
//
//   node tests/oidc/provider.mjs
//
// Listens on 127.0.0.1 (port from OIDC_PORT, default 0 = random), prints
// exactly one line to stdout once it accepts connections:
//
//   listening http://127.0.0.1:PORT
//
// and the issuer is exactly that URL. It exits when stdin closes (so a test
// process that dies takes it along) and on SIGTERM / SIGINT. Everything else
// it has to say goes to stderr. See README.md for the whole interface.

import { generateKeyPair, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { promisify } from 'node:util';

// oidc-provider prints its notices with console.info (stdout). stdout is the
// tests' channel and carries the `listening` line only.
console.log = console.error;
console.info = console.error;
console.debug = console.error;

// Gone with the test process: on SIGTERM / SIGINT and when stdin closes.
const exit = (code) => process.exit(code);
process.on('SIGTERM', () => exit(0));
process.on('SIGINT', () => exit(0));
process.stdin.on('end', () => exit(0));
process.stdin.on('close', () => exit(0));
process.stdin.on('error', () => exit(0));
process.stdin.resume();

// The signing key is generated (off the main thread) while oidc-provider loads.
const signingKey = signingKeyPair();
const { default: Provider, interactionPolicy } = await import('oidc-provider');

const HOST = '127.0.0.1';
const PORT = parsePort(process.env.OIDC_PORT);
const CLIENT_ID = process.env.OIDC_CLIENT_ID || 'osp-gateway';
const CLIENT_SECRET = process.env.OIDC_CLIENT_SECRET || 'osp-gateway-secret';

const SCOPES = ['openid', 'profile', 'email', 'groups'];
const CLAIMS = {
  openid: ['sub'],
  profile: ['preferred_username', 'name'],
  email: ['email', 'email_verified'],
  groups: ['groups'],
};

// The client's redirect URIs: the gateway's callback on any loopback port,
// and nothing else. Post-logout: anything on http://127.0.0.1:<port>/.
const CALLBACK = /^http:\/\/127\.0\.0\.1:([1-9][0-9]{0,4})\/osp\/auth\/oidc\/callback$/;
const POST_LOGOUT = /^http:\/\/127\.0\.0\.1:([1-9][0-9]{0,4})\/[^\s#\\]*$/;

function parsePort(value) {
  if (value === undefined || value === '') return 0;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`OIDC_PORT must be a port number (0-65535), got ${JSON.stringify(value)}`);
    process.exit(2);
  }
  return port;
}

function loopbackUri(pattern, value) {
  if (typeof value !== 'string') return false;
  const match = pattern.exec(value);
  return !!match && Number(match[1]) <= 65535 && URL.canParse(value);
}

// ---------------------------------------------------------------- accounts

const accounts = new Map(); // sub -> account

function putAccount({ sub, preferred_username, name, email, groups }) {
  accounts.set(sub, {
    sub,
    preferred_username: preferred_username ?? sub,
    name: name ?? preferred_username ?? sub,
    email,
    groups: [...(groups ?? [])],
  });
}

putAccount({ sub: 'alice-sub', preferred_username: 'alice', name: 'Alice', email: 'alice@example.com', groups: ['dev'] });
putAccount({ sub: 'bob-sub', preferred_username: 'bob', name: 'Bob', email: 'bob@example.com', groups: ['ops', 'osp-admins'] });
putAccount({ sub: 'carol-sub', preferred_username: 'carol', name: 'Carol', email: 'carol@example.com', groups: [] });
// Claims the username of the gateway's local `admin` user.
putAccount({ sub: 'mallory-sub', preferred_username: 'admin', name: 'Mallory', email: 'mallory@example.com', groups: [] });

// An account by its sub, or else by its preferred_username.
function lookupAccount(name) {
  if (typeof name !== 'string' || name === '') return undefined;
  if (accounts.has(name)) return accounts.get(name);
  for (const account of accounts.values()) {
    if (account.preferred_username === name) return account;
  }
  return undefined;
}

async function findAccount(_ctx, sub) {
  if (!accounts.has(sub)) return undefined;
  return {
    accountId: sub,
    // Read at the time of use, so /_test/accounts changes show up in the
    // next token without signing out.
    async claims() {
      const account = accounts.get(sub);
      if (!account) return { sub };
      const claims = {
        sub,
        preferred_username: account.preferred_username,
        name: account.name,
        groups: [...account.groups],
      };
      if (account.email !== undefined) {
        claims.email = account.email;
        claims.email_verified = true;
      }
      return claims;
    },
  };
}

// ------------------------------------------------------------ storage

// A plain in-memory store (the built-in one warns and evicts past 1000 entries).
const store = new Map();
const now = () => Math.floor(Date.now() / 1000);

function storeGet(key) {
  const entry = store.get(key);
  if (!entry) return undefined;
  if (entry.exp !== undefined && entry.exp <= now()) {
    store.delete(key);
    return undefined;
  }
  return entry.value;
}

function storeSet(key, value, expiresIn) {
  store.set(key, { value, exp: expiresIn ? now() + expiresIn : undefined });
}

const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

class Adapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    if (this.model === 'Session') storeSet(`sessionUid:${payload.uid}`, id, expiresIn);
    if (payload.userCode) storeSet(`userCode:${payload.userCode}`, id, expiresIn);
    if (GRANTABLE.has(this.model) && payload.grantId) {
      // The grant's token list lives as long as its longest-lived token.
      const grantKey = `grant:${payload.grantId}`;
      const entry = store.get(grantKey);
      const exp = Math.max(entry?.exp ?? 0, now() + expiresIn);
      store.set(grantKey, { value: [...(entry?.value ?? []), key], exp });
    }
    storeSet(key, payload, expiresIn);
  }

  async find(id) {
    return storeGet(this.key(id));
  }

  async findByUid(uid) {
    const id = storeGet(`sessionUid:${uid}`);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = storeGet(`userCode:${userCode}`);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const payload = storeGet(this.key(id));
    if (payload) payload.consumed = now();
  }

  async destroy(id) {
    store.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    const grantKey = `grant:${grantId}`;
    for (const key of storeGet(grantKey) ?? []) store.delete(key);
    store.delete(grantKey);
  }
}

// ------------------------------------------------------------ pages

const escape = (value) => String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title, body) {
  return `<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>${escape(title)}</title></head>
<body>
${body}
</body>
</html>
`;
}

function loginPage(uid, error) {
  return page('Sign in - OSP test OpenID Provider', `<h1>Sign in</h1>
${error ? `<p id="error">${escape(error)}</p>\n` : ''}<form method="post" action="/interaction/${escape(uid)}" autocomplete="off">
<label for="login">Username</label>
<input name="login" id="login" autofocus>
<button type="submit" id="sign-in">Sign in</button>
</form>`);
}

// ------------------------------------------------------------ provider

// A login_hint naming another account than the signed-in one asks for login
// again, instead of silently continuing as the signed-in account.
const policy = interactionPolicy.base();
policy.get('login').checks.add(new interactionPolicy.Check(
  'login_hint_other_account',
  'login_hint names another account than the signed-in one',
  'login_required',
  (ctx) => {
    const { session, params } = ctx.oidc;
    const hinted = lookupAccount(params.login_hint);
    return !!(hinted && session.accountId && hinted.sub !== session.accountId);
  },
));

function providerConfiguration(jwk) {
  return {
    adapter: Adapter,
    clients: [{
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      client_name: 'OSP Gateway (tests)',
      // Registered placeholders; Client.prototype overrides below decide.
      redirect_uris: ['http://127.0.0.1/osp/auth/oidc/callback'],
      post_logout_redirect_uris: ['http://127.0.0.1/'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    }],
    jwks: { keys: [jwk] },
    scopes: SCOPES,
    claims: CLAIMS,
    findAccount,
    responseTypes: ['code'],
    clientAuthMethods: ['client_secret_basic'],
    pkce: { methods: ['S256'], required: () => true },
    // Scope claims (preferred_username, email, groups) go into the ID token
    // from the token endpoint too, not only into userinfo.
    conformIdTokenClaims: false,
    allowOmittingSingleRegisteredRedirectUri: false,
    clientBasedCORS: () => false,
    cookies: {
      names: {
        session: 'oidc_test_session',
        interaction: 'oidc_test_interaction',
        resume: 'oidc_test_interaction_resume',
      },
      // Plain http: never `secure`; SameSite=None would need it.
      long: { signed: true, httpOnly: true, sameSite: 'lax' },
      short: { signed: true, httpOnly: true, sameSite: 'lax' },
      keys: ['osp-gateway-oidc-test-cookie-key-1', 'osp-gateway-oidc-test-cookie-key-0'],
    },
    interactions: {
      policy,
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        // The form with logout=yes already filled in; a browser submits it
        // on its own, an HTTP client can post its fields.
        async logoutSource(ctx, form) {
          const filled = form.replace('</form>', '<input type="hidden" name="logout" value="yes"/></form>');
          ctx.body = page('Sign out - OSP test OpenID Provider', `<h1>Signing out</h1>
${filled}
<button type="submit" form="op.logoutForm" id="logout-yes">Sign out</button>
<script>document.forms[0].submit()</script>`);
        },
        async postLogoutSuccessSource(ctx) {
          ctx.body = page('Signed out - OSP test OpenID Provider', '<h1 id="signed-out">Signed out</h1>');
        },
      },
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page('Error - OSP test OpenID Provider', `<h1>Error</h1>
<p id="error">${escape(out.error)}</p>
<p id="error-description">${escape(out.error_description ?? '')}</p>`);
    },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: 86400,
      Interaction: 3600,
      Session: 86400,
      Grant: 86400,
    },
  };
}

function restrictRedirects(provider) {
  const { prototype } = provider.Client;
  const redirectUriAllowed = prototype.redirectUriAllowed;
  const postLogoutRedirectUriAllowed = prototype.postLogoutRedirectUriAllowed;
  prototype.redirectUriAllowed = function allowed(value) {
    if (this.clientId !== CLIENT_ID) return redirectUriAllowed.call(this, value);
    return loopbackUri(CALLBACK, value);
  };
  prototype.postLogoutRedirectUriAllowed = function allowed(value) {
    if (this.clientId !== CLIENT_ID) return postLogoutRedirectUriAllowed.call(this, value);
    return loopbackUri(POST_LOGOUT, value);
  };
}

function logEvents(provider) {
  const report = (event) => (...args) => {
    const err = args.find((arg) => arg instanceof Error);
    const detail = err
      ? `${err.name}: ${err.message}${err.error_description ? ` (${err.error_description})` : ''}${err.error_detail ? ` [${err.error_detail}]` : ''}`
      : '';
    console.error(`oidc-provider ${event} ${detail}`);
  };
  for (const event of ['server_error', 'authorization.error', 'grant.error', 'end_session.error', 'userinfo.error', 'jwks.error', 'discovery.error']) {
    provider.on(event, report(event));
  }
}

// ------------------------------------------------------------ interactions

async function readBody(req, limit = 64 * 1024) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw Object.assign(new Error('request body too large'), { status: 413 });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res, status, body, type = 'text/html; charset=utf-8') {
  res.statusCode = status;
  res.setHeader('Cache-Control', 'no-store');
  if (body === undefined) {
    res.end();
    return;
  }
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

// Signs `account` in (when `login`) and grants whatever was asked for:
// consent never needs a page of its own.
async function finishInteraction(provider, req, res, details, account, login) {
  const { params, prompt } = details;
  if (login && details.session?.accountId && details.session.accountId !== account.sub) {
    // Another account is signed in. oidc-provider would sign it out through
    // a self-submitting (JavaScript) form; end that session here instead, so
    // the switch works for HTTP clients without JavaScript too.
    const previous = details.session.uid ? await provider.Session.findByUid(details.session.uid) : undefined;
    if (previous) await previous.destroy();
    details.session = undefined;
    details.grantId = undefined;
    await details.persist();
  }
  let grant = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
  if (grant && grant.accountId !== account.sub) grant = undefined;
  grant ??= new provider.Grant({ accountId: account.sub, clientId: params.client_id });

  const scopes = String(params.scope ?? '').split(' ').filter((scope) => SCOPES.includes(scope));
  if (scopes.length) grant.addOIDCScope(scopes.join(' '));
  if (params.claims) {
    try {
      const { id_token: idToken, userinfo } = JSON.parse(params.claims);
      const names = [...Object.keys(idToken ?? {}), ...Object.keys(userinfo ?? {})];
      if (names.length) grant.addOIDCClaims(names);
    } catch {
      // The provider has already validated it; nothing to add.
    }
  }
  const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = prompt.details ?? {};
  if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
  if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
  for (const [indicator, scope] of Object.entries(missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scope.join(' '));
  }
  const grantId = await grant.save();

  const result = { consent: { grantId } };
  if (login) result.login = { accountId: account.sub };
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: !login });
}

async function interaction(provider, req, res, uid) {
  if (req.method !== 'GET' && req.method !== 'POST') {
    res.setHeader('Allow', 'GET, POST');
    send(res, 405, page('Method not allowed', '<p id="error">method not allowed</p>'));
    return;
  }
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (err) {
    send(res, 400, page('Error - OSP test OpenID Provider', `<p id="error">${escape(err.message)}</p>`));
    return;
  }
  if (details.uid !== uid) {
    send(res, 400, page('Error - OSP test OpenID Provider', '<p id="error">interaction mismatch</p>'));
    return;
  }

  if (details.prompt.name !== 'login') {
    // consent (or anything else): the signed-in account grants it at once.
    const account = lookupAccount(details.session?.accountId);
    if (!account) {
      send(res, 400, page('Error - OSP test OpenID Provider', '<p id="error">no signed-in account</p>'));
      return;
    }
    await finishInteraction(provider, req, res, details, account, false);
    return;
  }

  if (req.method === 'GET') {
    const hinted = lookupAccount(details.params.login_hint);
    if (hinted) {
      await finishInteraction(provider, req, res, details, hinted, true);
      return;
    }
    send(res, 200, loginPage(uid));
    return;
  }

  const form = new URLSearchParams(await readBody(req));
  const login = (form.get('login') ?? '').trim();
  const account = lookupAccount(login);
  if (!account) {
    send(res, 200, loginPage(uid, login ? `Unknown account: ${login}` : 'Enter a username.'));
    return;
  }
  await finishInteraction(provider, req, res, details, account, true);
}

// ------------------------------------------------------------ control

async function testAccounts(req, res) {
  if (req.method !== 'POST') {
    res.setHeader('Allow', 'POST');
    send(res, 405, 'method not allowed\n', 'text/plain; charset=utf-8');
    return;
  }
  let body;
  try {
    body = JSON.parse(await readBody(req));
  } catch {
    send(res, 400, 'body must be JSON\n', 'text/plain; charset=utf-8');
    return;
  }
  const optionalString = (v) => v === undefined || typeof v === 'string';
  if (
    !body || typeof body !== 'object'
    || typeof body.sub !== 'string' || body.sub === ''
    || !optionalString(body.preferred_username) || !optionalString(body.name) || !optionalString(body.email)
    || !(body.groups === undefined || (Array.isArray(body.groups) && body.groups.every((g) => typeof g === 'string')))
  ) {
    send(res, 400, 'expected {"sub": string, "preferred_username"?: string, "name"?: string, "email"?: string, "groups"?: [string]}\n', 'text/plain; charset=utf-8');
    return;
  }
  putAccount(body);
  send(res, 204);
}

// ------------------------------------------------------------ start

async function signingKeyPair() {
  const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  return {
    ...privateKey.export({ format: 'jwk' }),
    kid: `osp-test-${randomBytes(8).toString('hex')}`,
    alg: 'RS256',
    use: 'sig',
  };
}

const jwk = await signingKey;
let handle;
// oidc-provider lets a client_secret_basic client use client_secret_post too;
// this one has to send its credentials in the Authorization header.
function basicRequired(res) {
  res.setHeader('WWW-Authenticate', 'Basic realm="token"');
  const body = { error: 'invalid_client', error_description: 'client_secret_basic is required (Authorization: Basic header)' };
  send(res, 401, `${JSON.stringify(body)}\n`, 'application/json; charset=utf-8');
  console.error('oidc-provider grant.error InvalidClientAuth: invalid_client (no Authorization: Basic header)');
}

async function route(req, res, pathname) {
  if (pathname === '/_test/accounts') {
    await testAccounts(req, res);
  } else if (pathname.startsWith('/interaction/')) {
    await interaction(handle.provider, req, res, pathname.slice('/interaction/'.length));
  } else if (pathname === '/token' && req.method === 'POST' && !/^basic /i.test(req.headers.authorization ?? '')) {
    basicRequired(res);
  } else {
    await handle.callback(req, res);
  }
}

const server = createServer((req, res) => {
  const { pathname } = new URL(req.url ?? '/', 'http://127.0.0.1');
  route(req, res, pathname).catch((err) => {
    console.error(`${req.method} ${pathname}: ${err.stack ?? err}`);
    if (!res.headersSent) send(res, err.status ?? 500, 'internal error\n', 'text/plain; charset=utf-8');
    else res.destroy();
  });
});

server.on('error', (err) => {
  console.error(`cannot listen on ${HOST}:${PORT}: ${err.message}`);
  exit(1);
});

server.listen(PORT, HOST, () => {
  const { port } = server.address();
  const issuer = `http://${HOST}:${port}`;
  const provider = new Provider(issuer, providerConfiguration(jwk));
  restrictRedirects(provider);
  logEvents(provider);
  handle = { provider, callback: provider.callback() };
  process.stdout.write(`listening ${issuer}\n`);
});
