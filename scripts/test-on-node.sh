#!/usr/bin/env bash
# Runs the README's test command (`npm test`) on another Node major, e.g. 22 or 24, taken
# from the npm registry's `node` package. It runs in a copy of the tree with node_modules of
# its own, because better-sqlite3 is a native addon built for one Node ABI; the addon is
# built against that Node's own headers, which the package ships.
#   scripts/test-on-node.sh 22
set -euo pipefail
major=${1:?usage: scripts/test-on-node.sh <node major>}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/switchboard-node$major-XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "fetching node@$major"
(cd "$work" && npm install --no-save --no-audit --no-fund --loglevel=error "node@$major" >/dev/null)
bin=$work/node_modules/.bin
platform=$(uname -s | tr '[:upper:]' '[:lower:]')
headers=$(find "$work/node_modules/node/node_modules" -maxdepth 1 -type d -name "node-$platform-*" | head -1)
[[ -d "$headers/include/node" ]] || { echo "no Node headers in the node@$major package" >&2; exit 1; }
echo "testing on $("$bin/node" --version)"

mkdir "$work/tree"
(cd "$root" && git ls-files -z | tar --null -T - -cf -) | tar -xf - -C "$work/tree"
cd "$work/tree"
export PATH="$bin:$PATH" npm_config_nodedir="$headers"
npm ci --no-audit --no-fund --loglevel=error
npm test
