#!/usr/bin/env bash
# Install axe-core (the accessibility engine the browser tests inject into each page) from
# the npm registry into .cache/axe (idempotent; nothing is added to package.json, there is
# none). Prints the path of axe.min.js.
set -euo pipefail
cd "$(dirname "$0")/.."
AXE_VERSION=4.14.1
target=.cache/axe/node_modules/axe-core
installed=$(node -p "require('./$target/package.json').version" 2>/dev/null || true)
if [ "$installed" != "$AXE_VERSION" ]; then
  npm install --no-save --no-audit --no-fund --silent --prefix .cache/axe "axe-core@$AXE_VERSION" >&2
fi
echo "$PWD/$target/axe.min.js"
