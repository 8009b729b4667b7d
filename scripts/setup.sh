#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian 12 machine (as root) and builds it.
# Idempotent and quick when nothing is missing: the README's commands and CI call it every time.
set -euo pipefail
cd "$(dirname "$0")/.."

# crun, mmdebstrap, gcc: the local runtime (e2fsprogs: each sandbox's own disk). libkrb5-dev: code-server's native modules.
# chromium: opens the VS Code workbench for the extension tests.
# openssl: signs the runtime's local CA and certificate (https on the sandbox domain); ca-certificates:
# the system's CAs, which the env file's bundle keeps trusting. libnss-myhostname: resolves *.localhost
# (sandbox host names <port>-<id>.e2b.localhost) to this machine, as browsers do; glibc alone does not.
# zstd: unpacks zstd-compressed image layers (Node 20's zlib has no zstd). docker-registry: the CNCF
# registry the registry tests run on loopback. nftables: each sandbox's egress rules.
DEBIAN_PACKAGES=(crun mmdebstrap gcc libc6-dev iproute2 util-linux e2fsprogs curl libkrb5-dev chromium openssl ca-certificates libnss-myhostname zstd docker-registry nftables)

# Installed is not yet working (an interrupted dpkg run leaves packages half-configured, files can
# go missing): each package is proved by running what the project uses of it.
works() {
  case "$1" in
    crun) crun --version ;;
    mmdebstrap) mmdebstrap --version ;;
    gcc | libc6-dev) echo 'int main(void) { return 0; }' | gcc -x c -o /dev/null - ;;
    iproute2) ip -V ;;
    util-linux) mount --version ;;
    e2fsprogs) mkfs.ext4 -V ;;
    curl) curl --version ;;
    libkrb5-dev) [ -f /usr/include/krb5.h ] || [ -f /usr/include/krb5/krb5.h ] ;;
    chromium) chromium --version ;;
    openssl) openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout /dev/null -subj /CN=probe -days 1 -out /dev/null ;;
    ca-certificates) grep -q 'BEGIN CERTIFICATE' /etc/ssl/certs/ca-certificates.crt ;;
    libnss-myhostname) getent hosts 49983-probe.e2b.localhost ;;
    zstd) [ "$(printf probe | zstd -q -c | zstd -q -d -c)" = probe ] ;;
    docker-registry) docker-registry --version ;;
    # Sandbox egress rules: a table like the runtime's, checked (-c) without being loaded.
    nftables) printf 'table inet e2b_probe {\n chain c {\n  type filter hook forward priority 0;\n  ip daddr { 10.0.0.0/8 } drop\n }\n}\n' | nft -c -f - ;;
  esac
}

# glibc asks the myhostname module only when the hosts line names it, before dns (which would
# otherwise be asked, and time out, first). Debian's package adds it; this makes sure, once.
if [ "$(id -u)" -eq 0 ] && ! grep -Eq '^hosts:.*[[:space:]]myhostname([[:space:]]|$)' /etc/nsswitch.conf; then
  if grep -Eq '^hosts:.*[[:space:]]files([[:space:]]|$)' /etc/nsswitch.conf; then
    sed -i -E 's/^(hosts:.*[[:space:]]files)([[:space:]]|$)/\1 myhostname\2/' /etc/nsswitch.conf
  elif grep -Eq '^hosts:' /etc/nsswitch.conf; then
    sed -i -E 's/^hosts:[[:space:]]*/&myhostname /' /etc/nsswitch.conf
  else
    echo 'hosts: files myhostname dns' >> /etc/nsswitch.conf
  fi
fi

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || ! works "$pkg" >/dev/null 2>&1; then
    missing+=("$pkg")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: these Debian packages are missing or broken and installing them needs root: ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  dpkg --configure -a
  apt-get update -q
  apt-get install -y -q --no-install-recommends --reinstall "${missing[@]}"
  for pkg in "${missing[@]}"; do
    works "$pkg" >/dev/null 2>&1 || { echo "setup: $pkg is installed but does not work:"; works "$pkg"; exit 1; } >&2
  done
  # Debian starts the registry as a service on port 5000: the tests only run their own, on loopback.
  if [[ " ${missing[*]} " == *" docker-registry "* ]] && [ -d /run/systemd/system ]; then
    systemctl disable --now docker-registry.service >/dev/null 2>&1 || true
  fi
fi

# npm ci is exact and fast when node_modules is already in place.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages"
  npm ci --no-audit --no-fund
fi

npm run --silent -w runtime build
bash scripts/setup-vscode.sh
