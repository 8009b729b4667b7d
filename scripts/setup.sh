#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian 12 machine (as root) and builds it.
# Idempotent and quick when nothing is missing: the README's commands and CI call it every time.
set -euo pipefail
cd "$(dirname "$0")/.."

# crun, mmdebstrap, gcc: the local runtime. libkrb5-dev: code-server's native modules.
# chromium: opens the VS Code workbench for the extension tests.
DEBIAN_PACKAGES=(crun mmdebstrap gcc libc6-dev iproute2 util-linux curl libkrb5-dev chromium)

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: these Debian packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing Debian packages: ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm ci is exact and fast when node_modules is already in place.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages"
  npm ci --no-audit --no-fund
fi

npm run --silent -w runtime build
bash scripts/setup-vscode.sh
