#!/usr/bin/env bash
# Fetches the browser libraries the service serves from its own binary (GraphiQL, its
# Explorer plugin and React for the playground, uPlot for the dashboards), at pinned
# versions, from the npm
# registry; checks each package against its published integrity hash and keeps its
# licence beside it. Run it to change a version, then commit `vendor/`.
set -euo pipefail
cd "$(dirname "$0")"

# package@version|files to keep (each package is checked against the integrity hash the
# registry publishes for it: npm view <package>@<version> dist.integrity). A package
# whose tarball holds no LICENSE file keeps its package.json, which names the licence.
PACKAGES=(
  "graphiql@3.8.3|graphiql.min.js graphiql.min.css LICENSE"
  "@graphiql/plugin-explorer@3.2.5|dist/index.umd.js dist/style.css package.json"
  "react@18.3.1|umd/react.production.min.js LICENSE"
  "react-dom@18.3.1|umd/react-dom.production.min.js LICENSE"
  "uplot@1.6.32|dist/uPlot.iife.min.js dist/uPlot.min.css LICENSE"
)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rm -rf vendor
mkdir -p vendor
for entry in "${PACKAGES[@]}"; do
  spec="${entry%%|*}"
  files="${entry#*|}"
  name="${spec%@*}"
  name="${name#@graphiql/}"
  expected="$(npm view "$spec" dist.integrity)"
  tarball="$(cd "$work" && npm pack "$spec" --silent)"
  actual="sha512-$(openssl dgst -sha512 -binary "$work/$tarball" | base64 -w0)"
  if [ "$expected" != "$actual" ]; then
    echo "$spec: integrity $actual, the registry says $expected" >&2
    exit 1
  fi
  mkdir -p "$work/$name"
  tar xzf "$work/$tarball" -C "$work/$name"
  mkdir -p "vendor/$name"
  for file in $files; do
    cp "$work/$name/package/$file" "vendor/$name/$(basename "$file")"
  done
  echo "$spec $expected" >> vendor/VERSIONS
done
echo "vendored:"; cat vendor/VERSIONS
