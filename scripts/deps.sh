#!/bin/sh
# Installs, idempotently, every Debian 12 package VaultTerm needs to build, run and test.
# Runs apt-get only when something is missing, so `make run` / `make test` stay fast on a
# machine that already has everything. Uses sudo when not root.
set -eu

PKGS="
build-essential
cmake
ninja-build
pkg-config
libssl-dev
libsodium-dev
libpq-dev
postgresql
postgresql-contrib
libmicrohttpd-dev
libjansson-dev
libcurl4-openssl-dev
libssh-dev
libvectorscan-dev
libpcre2-dev
libzstd-dev
libwslay-dev
libcmocka-dev
clang
libclang-rt-14-dev
curl
jq
openssh-client
openssh-server
procps
openssl
iproute2
wrk
"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	exit 0
fi

echo "deps: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
	else
		echo "deps: missing packages ($missing) and not root; install them or run as root" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
# The Debian postgresql package starts a system cluster; VaultTerm manages its own cluster in
# its data directory and never uses the system one, so leave it as the package left it.
