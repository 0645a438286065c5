#!/usr/bin/env bash
# Property-based run of schemathesis against a real gateway, from the gateway's
# own OpenAPI document (GET /osp/api/openapi.json).
#
# Starts the Kubernetes API simulator (20 generated pods, context "sim") and the
# gateway on 127.0.0.1 with a fresh SQLite database, signs in as the admin, and
# runs every schemathesis check with a bounded number of examples per operation:
# no 5xx, and no answer that contradicts the document. Prints
# `schemathesis: N passed, M failed` and exits non-zero on any failure.
#
# Environment: ST_MAX_EXAMPLES (default 20), ST_SEED (default: random),
# ST_WORKERS (default 1: with two, hypothesis failed while parsing lambda sources from several
# threads at once on CPython 3.11.7, with "AST constructor
# recursion depth mismatch"). Needs schemathesis (pip install -r requirements.txt).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"

cargo build --quiet -p osp-gateway -p kube-sim --bins
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

wait_for_line() { # file, pattern: prints the first match
  for _ in $(seq 1 300); do
    if line=$(grep -m1 -oE "$2" "$1" 2>/dev/null | head -n1) && [ -n "$line" ]; then echo "$line"; return 0; fi
    sleep 0.1
  done
  echo "schemathesis: timed out waiting for '$2' in $1:" >&2
  cat "$1" >&2
  return 1
}

target/debug/kube-sim --generated 20 --listen 127.0.0.1:0 \
  --kubeconfig "$work/sim.kubeconfig" --context sim >"$work/sim.log" 2>&1 &
pids+=($!)
wait_for_line "$work/sim.log" 'kubeconfig written' >/dev/null

admin_password=schemathesis-admin-password
OSP_LISTEN=127.0.0.1:0 \
  DATABASE_URL="sqlite://$work/osp.db?mode=rwc" \
  OSP_ADMIN_NAME=admin OSP_ADMIN_PASSWORD="$admin_password" \
  OSP_KUBECONFIG="$work/sim.kubeconfig" OSP_LOG=warn,osp_gateway=info \
  target/debug/osp-gateway >"$work/gateway.log" 2>&1 &
pids+=($!)
base=$(wait_for_line "$work/gateway.log" 'serving on http://127\.0\.0\.1:[0-9]+')
base=${base#serving on }

token=$(curl -sS --fail-with-body "$base/osp/api/login" -H 'content-type: application/json' \
  -d "{\"name\":\"admin\",\"password\":\"$admin_password\"}" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["token"])')

status=0
# Run from the scratch directory: schemathesis keeps a cache in its working directory.
(cd "$work" && exec schemathesis --config-file "$here/schemathesis.toml" --no-color run "$base/osp/api/openapi.json" \
  --checks all \
  --max-examples "${ST_MAX_EXAMPLES:-20}" \
  ${ST_SEED:+--seed "$ST_SEED"} \
  --workers "${ST_WORKERS:-1}" \
  --header "Authorization: Bearer $token" \
  --request-timeout 10 \
  --generation-database none \
  --report junit --report-junit-path "$work/junit.xml") || status=$?

# One closing line: operations x checks from the JUnit report.
python3 - "$work/junit.xml" "$status" <<'PY'
import sys
import xml.etree.ElementTree as ET

cases = ET.parse(sys.argv[1]).getroot().iter("testcase")
passed = failed = 0
for case in cases:
    if case.find("failure") is not None or case.find("error") is not None:
        failed += 1
    else:
        passed += 1
if failed == 0 and sys.argv[2] != "0":
    failed = 1  # schemathesis failed without a failing case (e.g. the schema)
print(f"schemathesis: {passed} passed, {failed} failed")
PY
if [ "$status" -ne 0 ]; then
  echo "schemathesis: gateway log follows" >&2
  tail -n 50 "$work/gateway.log" >&2
fi
exit "$status"
