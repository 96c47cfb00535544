#!/usr/bin/env bash
# axe-core for the accessibility tests, from the npm registry, pinned, into the test tree.
set -euo pipefail
dest=tests/browser/vendor
if [ -f "$dest/node_modules/axe-core/axe.min.js" ]; then exit 0; fi
mkdir -p "$dest"
npm install --silent --no-audit --no-fund --prefix "$dest" axe-core@4.10.3 >/dev/null
test -f "$dest/node_modules/axe-core/axe.min.js"
