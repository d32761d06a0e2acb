#!/usr/bin/env bash
# Packs the embedded demo repository from the sources under demo/ with distill's own commands
# (pack, index build), signed with the demo key. Nothing here is committed as a binary.
#
#   scripts/build-demo-repo.sh DISTILL KEY.rsa OUT_DIR
#
# OUT_DIR/x86_64/ receives the .apk files and APKINDEX.tar.gz. The same sources, key and
# SOURCE_DATE_EPOCH give byte-identical packages and index.
set -euo pipefail
distill=$1 key=$2 out=$3
top=$(cd "$(dirname "$0")/.." && pwd)
arch=x86_64
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1767225600}   # 2026-01-01, the demo's fixed date
umask 022

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
repo=$work/repo/$arch
mkdir -p "$repo"

pack() {   # pack NAME VERSION DIR [pack options…]
  local name=$1 version=$2 dir=$3; shift 3
  "$distill" pack --name "$name" --version "$version" --arch "$arch" --key "$key" "$@" \
    "$dir" "$repo/$name-$version.apk" >/dev/null
}

# demo-baselayout: the filesystem skeleton and /etc files of a distroless image, like wolfi-baselayout.
base=$work/baselayout
mkdir -p "$base"
for d in bin dev etc home lib media mnt opt proc root run sbin srv sys tmp usr usr/bin usr/lib \
         usr/local usr/local/bin usr/sbin usr/share var var/cache var/empty var/lib var/log \
         var/opt var/spool var/tmp; do
  mkdir -p "$base/$d"
done
cp "$top"/demo/baselayout/etc/* "$base/etc/"
chmod 0644 "$base"/etc/*
chmod 0700 "$base/root"
chmod 1777 "$base/tmp" "$base/var/tmp"
chmod 0555 "$base/proc" "$base/sys"
ln -s ../run "$base/var/run"
pack demo-baselayout 2026.11-r0 "$base" --license MIT --origin demo-baselayout \
  --description "Filesystem layout and /etc files of the Distill demo images" \
  --url https://example.invalid/distill/demo

# ca-certificates-bundle: the host's trust store, when it has one.
bundle=/etc/ssl/certs/ca-certificates.crt
if [ -s "$bundle" ]; then
  ca=$work/ca
  mkdir -p "$ca/etc/ssl/certs"
  cp "$bundle" "$ca/etc/ssl/certs/ca-certificates.crt"
  chmod 0644 "$ca/etc/ssl/certs/ca-certificates.crt"
  pack ca-certificates-bundle 20260101-r0 "$ca" --license "MPL-2.0 AND MIT" --origin ca-certificates \
    --description "Certificate Authority bundle (from the build host's trust store)" \
    --url https://www.mozilla.org/en-US/about/governance/policies/security-group/certs/
else
  echo "note: $bundle not found on this host; the demo repository has no ca-certificates-bundle" >&2
fi

# tzdata: a few compiled zones from the host, a small data-only package.
tz=$work/tzdata
mkdir -p "$tz/usr/share/zoneinfo"
for zone in Etc/UTC Europe/Paris America/New_York Asia/Tokyo; do
  if [ -f "/usr/share/zoneinfo/$zone" ]; then
    mkdir -p "$tz/usr/share/zoneinfo/$(dirname "$zone")"
    cp -L "/usr/share/zoneinfo/$zone" "$tz/usr/share/zoneinfo/$zone"
    chmod 0644 "$tz/usr/share/zoneinfo/$zone"
  fi
done
if [ -f "$tz/usr/share/zoneinfo/Etc/UTC" ]; then ln -s Etc/UTC "$tz/usr/share/zoneinfo/UTC"; fi
pack tzdata 2026a-r0 "$tz" --license Public-Domain --origin tzdata \
  --description "Timezone data (a few zones from the build host)" --url https://www.iana.org/time-zones

# hello: the static entrypoint, and its documentation as an install_if subpackage. It is compiled
# for the repository's architecture: natively on an x86_64 host, else only with a cross compiler.
if [ -z "${CC:-}" ] && [ "$(uname -m)" != "$arch" ]; then
  echo "build-demo-repo.sh: the demo repository is $arch and this host is $(uname -m): set CC to a compiler for $arch (e.g. x86_64-linux-gnu-gcc)" >&2
  exit 1
fi
hello=$work/hello
mkdir -p "$hello/usr/bin"
"${CC:-cc}" -static -O2 -s -o "$hello/usr/bin/hello" "$top/demo/hello/hello.c"
chmod 0755 "$hello/usr/bin/hello"
deps=demo-baselayout
[ -f "$repo/ca-certificates-bundle-20260101-r0.apk" ] && deps="$deps ca-certificates-bundle"
pack hello 1.0.0-r0 "$hello" --license MIT --origin hello --depends "$deps" \
  --provides "cmd:hello=1.0.0-r0" --description "Prints a greeting, its uid and whether TLS roots are present" \
  --url https://example.invalid/distill/hello
doc=$work/hello-doc
mkdir -p "$doc/usr/share/doc/hello"
cp "$top/demo/hello/hello.c" "$doc/usr/share/doc/hello/hello.c"
chmod 0644 "$doc/usr/share/doc/hello/hello.c"
pack hello-doc 1.0.0-r0 "$doc" --license MIT --origin hello --install-if "hello=1.0.0-r0 docs" \
  --description "hello's source, installed with hello when docs are wanted"

"$distill" index build --key "$key" --description "distill demo repository" \
  -o "$repo/APKINDEX.tar.gz" "$repo"/*.apk >/dev/null

mkdir -p "$out"
rm -rf "$out/$arch.new"
mv "$repo" "$out/$arch.new"
rm -rf "$out/$arch"
mv "$out/$arch.new" "$out/$arch"
echo "demo repository: $out/$arch ($(ls "$out/$arch" | grep -c '\.apk$') packages)"
