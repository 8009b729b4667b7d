#!/usr/bin/env bash
# Builds the extension and packages it as out/e2b-sandboxes.vsix (with the local runtime inside).
set -euo pipefail
cd "$(dirname "$0")/.."
node build.mjs "$@"
npm run --silent -w runtime build
mkdir -p out
# The README's relative links (docs/screenshots/*.png) stay as they are: the repository has no
# public address for vsce to rewrite them to, and the pictures are not shipped (size).
node node_modules/@vscode/vsce/vsce package --no-dependencies --skip-license --no-rewrite-relative-links -o out/e2b-sandboxes.vsix >/dev/null
echo "packaged out/e2b-sandboxes.vsix"
