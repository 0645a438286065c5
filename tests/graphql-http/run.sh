#!/usr/bin/env bash
# Builds the gateway, installs graphql-http (the GraphQL-over-HTTP reference
# audit), and runs every MUST and SHOULD audit against /graphql (see audit.mjs).
set -euo pipefail
cd "$(dirname "$0")"
cargo build --quiet -p osp-gateway --bins
npm ci --silent --no-audit --no-fund
node audit.mjs
