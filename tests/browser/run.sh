#!/usr/bin/env bash
# Builds the gateway, installs the test's npm packages (playwright-core here,
# the test OpenID Provider in ../oidc), and drives the playground in headless
# Chromium (see playground.test.mjs).
# Needs Chromium at /usr/bin/chromium (Debian: apt-get install chromium) or $CHROMIUM.
set -euo pipefail
cd "$(dirname "$0")"
cargo build --quiet -p osp-gateway -p kube-sim --bins
npm ci --silent --no-audit --no-fund
(cd ../oidc && npm ci --silent --no-audit --no-fund)
node playground.test.mjs
