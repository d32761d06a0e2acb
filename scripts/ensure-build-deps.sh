#!/usr/bin/env bash
# Installs what building Distill needs (the OpenSSL and zlib headers, pkg-config) with apt, only
# when it is missing. The tools the tests use as oracles come from scripts/oracles.sh.
set -euo pipefail
missing=()
[ -f /usr/include/openssl/evp.h ] || missing+=(libssl-dev)
[ -f /usr/include/zlib.h ] || missing+=(zlib1g-dev)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
[ ${#missing[@]} = 0 ] && exit 0
echo "installing build dependencies: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
$sudo apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
