#!/usr/bin/env bash
# Installs the C headers Distill builds against (OpenSSL, zlib) and the tools its tests use as
# oracles (the openssl CLI, python3; for the OCI tests umoci, oci-image-tool, skopeo,
# docker-registry, htpasswd, curl) with apt, only when they are missing.
set -euo pipefail
missing=()
[ -f /usr/include/openssl/evp.h ] || missing+=(libssl-dev)
[ -f /usr/include/zlib.h ] || missing+=(zlib1g-dev)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
command -v umoci >/dev/null 2>&1 || missing+=(umoci)
command -v oci-image-tool >/dev/null 2>&1 || missing+=(oci-image-tool)
command -v skopeo >/dev/null 2>&1 || missing+=(skopeo)
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || missing+=(apache2-utils)
command -v curl >/dev/null 2>&1 || missing+=(curl)
[ ${#missing[@]} = 0 ] && exit 0
echo "installing build dependencies: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
$sudo apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
# Debian's docker-registry package enables a service on :5000 (all interfaces); the tests start
# their own registries on loopback, so keep that one off where systemd runs it.
if [[ " ${missing[*]} " == *" docker-registry "* ]] && command -v systemctl >/dev/null 2>&1; then
    $sudo systemctl disable --now docker-registry >/dev/null 2>&1 || true
fi
