#!/usr/bin/env bash
# Builds the extension and packages it as out/e2b-sandboxes.vsix (with the local runtime inside).
set -euo pipefail
cd "$(dirname "$0")/.."
node build.mjs "$@"
npm run --silent -w runtime build
mkdir -p out
node node_modules/@vscode/vsce/vsce package --no-dependencies --skip-license -o out/e2b-sandboxes.vsix >/dev/null
echo "packaged out/e2b-sandboxes.vsix"
