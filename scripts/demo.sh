#!/usr/bin/env bash
# `make demo`: builds Distill, packs the embedded demo repository, builds the signed demo image
# (configs/demo.apko.yaml), verifies it, runs its entrypoint as uid 65532 and prints a summary.
# Never touches the network, except apt when a tool it needs is missing (and SwiftPM fetching
# Distill's packages on a first build).
#
#   scripts/demo.sh
#
# Environment:
#   DISTILL   a distill binary to use instead of building .build/release/distill
#   DEMO_DIR  where keys/ and build/ go, and the directory distill runs in (default: this
#             checkout); configs/demo.apko.yaml names ./build/demo-repo and ./keys relative to it
#   DEMO_RUN  0 to skip running the image
#   DEMO_RUNTIME  runc or bwrap to choose how it runs (default: runc when root, else bwrap)
#
# SOURCE_DATE_EPOCH is fixed, so with the same keys every run gives the same image digest.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
demo_dir=${DEMO_DIR:-$top}
export SOURCE_DATE_EPOCH=1767225600   # 2026-01-01, the demo repository's date too
tag=distill.example/demo/static:latest
umask 022

step() { printf '==> %s\n' "$*" >&2; }
note() { printf 'note: %s\n' "$*" >&2; }

as_root() {  # runs "$@" as root when we are root or sudo works without a password; fails otherwise
  if [ "$(id -u)" = 0 ]; then "$@"; elif sudo -n true 2>/dev/null; then sudo -n "$@"; else return 1; fi
}

ensure_tools() {  # installs the Debian packages whose commands are missing; fails quietly when it cannot
  local missing=() pair
  for pair in "$@"; do command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}"); done
  [ ${#missing[@]} = 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || return 1
  step "installing ${missing[*]}"
  as_root apt-get update -q >/dev/null 2>&1 || true
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1
}

# 1. Distill itself.
if [ -n "${DISTILL:-}" ]; then
  # Absolute, since the demo runs in DEMO_DIR: a path as given, a bare name from PATH.
  case $DISTILL in
    */*) distill=$(cd "$(dirname "$DISTILL")" && pwd)/$(basename "$DISTILL") ;;
    *) distill=$(command -v "$DISTILL") || { echo "demo: $DISTILL is not on PATH" >&2; exit 1; } ;;
  esac
else
  "$top/scripts/ensure-build-deps.sh"
  step "building distill (release)"
  (cd "$top" && swift build -c release --product distill) >&2 ||
    { echo "demo: swift build -c release failed (see above)" >&2; exit 1; }
  distill=$top/.build/release/distill
fi
[ -n "${CC:-}" ] || command -v cc >/dev/null 2>&1 || ensure_tools cc:gcc ||
  { echo "demo: no C compiler (cc) to build hello; install gcc" >&2; exit 1; }
command -v jq >/dev/null 2>&1 || ensure_tools jq:jq || { echo "demo: jq is needed for the summary; install it" >&2; exit 1; }

cd "$demo_dir"
mkdir -p keys build

# 2. The demo keys: one signs the APK repository, the other the image. Made once per checkout.
if [ ! -f keys/distill-demo.rsa ]; then
  step "making the repository key keys/distill-demo.rsa"
  "$distill" keygen keys/distill-demo >/dev/null
fi
if [ ! -f keys/distill-demo-cosign.key ]; then
  step "making the image signing key keys/distill-demo-cosign.key"
  "$distill" keygen --type ecdsa-p256 keys/distill-demo-cosign >/dev/null
fi

# 3. The embedded repository, packed from demo/ by distill pack and index build.
step "packing the demo repository"
"$top/scripts/build-demo-repo.sh" "$distill" keys/distill-demo.rsa build/demo-repo >&2

# 4. The image, built into a fresh directory and renamed into place, so a failed build leaves
#    the previous image alone.
config=$top/configs/demo.apko.yaml
if ! ls build/demo-repo/x86_64/ca-certificates-bundle-*.apk >/dev/null 2>&1; then
  # The repository has no CA bundle on a host without a trust store: build the config without it.
  note "no ca-certificates-bundle in the demo repository: the image has no TLS roots"
  grep -v '^ *- ca-certificates-bundle$' "$config" >build/demo-no-certificates.apko.yaml
  config=build/demo-no-certificates.apko.yaml
fi
step "building $tag from ${config#"$top"/}"
rm -rf build/demo-image.new
digest=$("$distill" build --sign-key keys/distill-demo-cosign.key "$config" "$tag" build/demo-image.new/)
rm -rf build/demo-image
mv build/demo-image.new build/demo-image
image=build/demo-image

# 5. Its signatures and SBOM attestations, with the public key.
step "verifying the signatures"
if verification=$("$distill" verify --key keys/distill-demo-cosign.pub "$image"); then
  signature_status="verified with keys/distill-demo-cosign.pub ($(grep -c '^OK sig' <<<"$verification") signatures, $(grep -c '^OK att' <<<"$verification") SBOM attestations)"
  printf '%s\n' "$verification" >&2
else
  printf '%s\n' "$verification" >&2
  echo "demo: distill verify rejected $image" >&2
  exit 1
fi

# The x86_64 image inside the index.
blob() { printf '%s/blobs/%s' "$image" "${1/://}"; }
index_blob=$(blob "$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "'"$tag"'") | .digest' "$image/index.json")")
manifest_digest=$(jq -r '.manifests[] | select(.platform.architecture == "amd64") | .digest' "$index_blob")
manifest=$(blob "$manifest_digest")

# 6. Run the entrypoint as the image's user (65532): runc on an umoci bundle as root, else bwrap
#    on the layers unpacked with tar.
run_output=""
run_image() {
  local work
  work=$(mktemp -d)
  # shellcheck disable=SC2064  # expand now: the trap must remove this very directory
  trap "rm -rf '$work'; trap - RETURN" RETURN
  local runtime=${DEMO_RUNTIME:-}
  if [ -z "$runtime" ]; then
    if [ "$(id -u)" = 0 ] && ensure_tools runc:runc umoci:umoci skopeo:skopeo; then runtime=runc; else runtime=bwrap; fi
  elif [ "$runtime" = runc ]; then
    ensure_tools runc:runc umoci:umoci skopeo:skopeo || { echo "demo: runc, umoci and skopeo are needed for DEMO_RUNTIME=runc" >&2; return 1; }
  fi
  if [ "$runtime" = runc ]; then
    step "running the entrypoint with runc (umoci bundle)"
    skopeo copy -q "oci:$image:$tag" "oci:$work/single:$tag" >&2
    umoci unpack --image "$work/single:$tag" "$work/bundle" >/dev/null
    jq '.process.terminal = false' "$work/bundle/config.json" >"$work/config.json"
    mv "$work/config.json" "$work/bundle/config.json"
    run_output=$(runc --root "$work/runc" run -b "$work/bundle" "distill-demo-$$" </dev/null)
  elif [ "$runtime" = bwrap ] && ensure_tools bwrap:bubblewrap; then
    step "running the entrypoint with bwrap (layers unpacked with tar)"
    mkdir "$work/rootfs"
    local layer
    # bwrap gives the image its own /dev; the layers' device nodes need root to create.
    for layer in $(jq -r '.layers[].digest' "$manifest"); do
      tar -xzf "$(blob "$layer")" -C "$work/rootfs" --no-same-owner --anchored --exclude='dev/*'
    done
    local entrypoint
    entrypoint=$(jq -r '.config.Entrypoint | join(" ")' "$(blob "$(jq -r .config.digest "$manifest")")")
    # shellcheck disable=SC2086  # the entrypoint is words
    run_output=$(bwrap --ro-bind "$work/rootfs" / --dev /dev --proc /proc --unshare-all --uid 65532 --gid 65532 \
      --chdir / --clearenv --setenv PATH /usr/bin --setenv HOME /home/nonroot $entrypoint)
  else
    note "neither runc (as root) nor bwrap is available: not running the image"
    return 0
  fi
  printf '%s\n' "$run_output"
}
if [ "${DEMO_RUN:-1}" != 0 ]; then
  if [ "$(uname -m)" != x86_64 ]; then
    note "the demo image is x86_64 and this machine is $(uname -m): not running it"
  else
    run_image
  fi
fi

# 7. The summary.
sbom=$image/sbom-x86_64.spdx.json
packages=$(jq -r '[.packages[] | select(any(.externalRefs[]?; .referenceLocator | startswith("pkg:apk/"))) | "\(.name)-\(.versionInfo)"] | join(" ")' "$sbom")
layers=$(jq '.layers | length' "$manifest")
compressed=$(jq '[.layers[].size] | add + 0' "$manifest")
layout_size=$(du -sb "$image" | cut -f1)
cat <<SUMMARY

Distill demo image
  image:      $image ($tag)
  digest:     $digest (index), $manifest_digest (linux/amd64)
  size:       $compressed bytes of compressed layers; the layout takes $layout_size bytes
  packages:   $packages
  layers:     $layers
  SBOM:       $sbom (and sbom-index.spdx.json)
  signature:  $signature_status
SUMMARY
