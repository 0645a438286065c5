// Runs graphql-http's server audit against a gateway started here: a fresh
// SQLite database, port 0, no clusters (the audits need only `__typename` and
// introspection). Every MUST and SHOULD audit must pass; MAY audits are
// reported. Prints one line per audit and `graphql-http: N passed, M failed`.
//
// Environment: OSP_GATEWAY_BIN (default: target/debug/osp-gateway of this
// repository).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serverAudits } from 'graphql-http';
import { SERVING, startProcess } from '../support/processes.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
const gatewayBin = process.env.OSP_GATEWAY_BIN || join(repo, 'target', 'debug', 'osp-gateway');
const TIMEOUT_MS = 60_000;

/** Starts the gateway and resolves with its base URL once it logs it. */
function startGateway(work) {
  const { child, started } = startProcess(gatewayBin, [], {
    PATH: process.env.PATH,
    HOME: work,
    OSP_LISTEN: '127.0.0.1:0',
    DATABASE_URL: `sqlite://${join(work, 'osp.db')}?mode=rwc`,
    OSP_ADMIN_PASSWORD: 'audit-password-1',
    OSP_KUBECONFIG: join(work, 'none.kubeconfig'),
    // The audits introspect without a token.
    OSP_INTROSPECTION: 'public',
    OSP_LOG: 'warn,osp_gateway=info',
    NO_COLOR: '1',
  }, SERVING, TIMEOUT_MS);
  return { child, url: started.then((found) => found[1]) };
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'osp-graphql-http-'));
  const gateway = startGateway(work);
  let failed = 0;
  let passed = 0;
  try {
    const url = `${await gateway.url}/graphql`;
    // Each audit on its own, so one failing request cannot hide the others.
    const results = await Promise.all(serverAudits({ url }).map(async (audit) => {
      try {
        return await audit.fn();
      } catch (err) {
        return { id: audit.id, name: audit.name, status: 'error', reason: String(err?.cause || err) };
      }
    }));
    for (const result of results) {
      const required = /^(MUST|SHOULD)\b/.test(result.name);
      const ok = result.status === 'ok';
      if (required && !ok) failed++; else if (required) passed++;
      const mark = ok ? 'ok  ' : required ? 'FAIL' : 'may ';
      let line = `${mark} ${result.id} ${result.name}`;
      if (!ok) {
        line += `\n     ${result.reason}`;
        if (result.response) {
          const body = await result.response.clone().text().catch(() => '');
          line += `\n     got ${result.response.status} ${result.response.headers.get('content-type')}: ${body.slice(0, 200)}`;
        }
      }
      console.log(line);
    }
  } catch (err) {
    failed++;
    console.log(`FAIL the audit could not run\n     ${err.stack || err}`);
  } finally {
    gateway.child.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  }
  console.log(`graphql-http: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

await main();
