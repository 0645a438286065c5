#!/usr/bin/env bash
# Builds the gateway, installs the test's one npm package (playwright-core), and
# drives the playground in headless Chromium (see playground.test.mjs).
# Needs Chromium at /usr/bin/chromium (Debian: apt-get install chromium) or $CHROMIUM.
set -euo pipefail
cd "$(dirname "$0")"
cargo build --quiet -p osp-gateway -p kube-sim --bins
npm ci --silent --no-audit --no-fund
node playground.test.mjs
