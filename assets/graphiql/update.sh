#!/usr/bin/env bash
# Re-vendors the GraphiQL playground's prebuilt browser bundles from npm.
#
# The gateway embeds these files in its binary (src/web/playground.rs) so the
# playground works without any network access beyond the gateway itself.
# GraphiQL 3.x is the last line that ships a UMD bundle (with graphql-ws built
# in for subscriptions); it runs on React 18's UMD builds.
#
# Usage: assets/graphiql/update.sh [GRAPHIQL_VERSION] [REACT_VERSION]
# then rebuild, run .ci/run (the browser test covers the page) and commit the
# changed files together with the versions recorded in VERSIONS.
set -euo pipefail

graphiql=${1:-3.9.0}
react=${2:-18.3.1}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$work"
for spec in "graphiql@$graphiql" "react@$react" "react-dom@$react"; do
  pkg=${spec%@*}
  tarball=$(npm pack --silent "$spec")
  mkdir "$pkg"
  tar -xzf "$tarball" -C "$pkg" --strip-components=1
done

# The bundles end with a source map reference to files that are not vendored;
# drop it so browsers with developer tools open do not ask for them.
strip_map() { sed -e '/^\/[/*][#@] sourceMappingURL=/d' -e 's#/[/*][#@] sourceMappingURL=[^ ]*\( \*/\)\{0,1\}$##' "$1" > "$2"; }

strip_map graphiql/graphiql.min.js "$here/graphiql.min.js"
strip_map graphiql/graphiql.min.css "$here/graphiql.min.css"
strip_map react/umd/react.production.min.js "$here/react.production.min.js"
strip_map react-dom/umd/react-dom.production.min.js "$here/react-dom.production.min.js"
cp graphiql/LICENSE "$here/LICENSE.graphiql"
cp react/LICENSE "$here/LICENSE.react"
cp react-dom/LICENSE "$here/LICENSE.react-dom"

cat > "$here/VERSIONS" <<VERSIONS
graphiql $graphiql
react $react
react-dom $react
VERSIONS
echo "vendored graphiql $graphiql and react/react-dom $react into $here"
