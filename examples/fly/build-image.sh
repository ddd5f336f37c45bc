#!/bin/bash
# examples/fly/build-image.sh: build examples/fly/Dockerfile here, with buildah,
# from Debian's packages alone: no image registry is ever contacted.
#
#   examples/fly/build-image.sh        (as root; `make image` runs it)
#
# 1. Installs buildah and debootstrap with apt-get if they are missing.
# 2. Makes a Debian 12 minbase with debootstrap, from the mirror apt uses here,
#    once: cached as $CACHE/bookworm-minbase.tar.
# 3. Imports it as the local images debian:bookworm and debian:bookworm-slim
#    (both the same minbase), so that the Dockerfile's FROM lines are found in
#    local storage (--pull=never).
# 4. Builds the Dockerfile (vfs storage, chroot isolation, --layers) with its
#    storage under $CACHE, so a rerun reuses every layer before the first one
#    whose input changed (the COPY of the sources), and tags it $TAG.
# 5. Keeps one working container of the image, mounted, and prints the path of
#    its root file system (also written to build/image/rootfs): the fake
#    Machines API boots machines in it (tests/fakes/README.md, image mode).
#    A mount rather than an export: with vfs it is already a plain directory,
#    and an export would copy the whole image on every build.
#
# Environment: FLAME_IMAGE_CACHE (default /var/cache/flame-image),
# FLAME_IMAGE_TAG (default localhost/flame-example:latest).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
cache=${FLAME_IMAGE_CACHE:-/var/cache/flame-image}
tag=${FLAME_IMAGE_TAG:-localhost/flame-example:latest}
ctr=flame-example-rootfs
base=$cache/bookworm-minbase.tar

say() { printf 'image: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
bah() {
	buildah --root "$cache/storage" --runroot /run/flame-image --storage-driver vfs "$@"
}

[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap, buildah's chroot builds and mounts need it)"
need=()
command -v buildah >/dev/null || need+=(buildah)
command -v debootstrap >/dev/null || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
	say "installing ${need[*]}"
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; } ||
		die "cannot install ${need[*]}"
fi
mkdir -p "$cache"

# The mirrors apt uses here (deb822 or one-line sources).
mirror() {
	local m
	m=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n 1 || true)
	[ -n "$m" ] || m=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
	[ -n "$m" ] || die "no Debian mirror found in apt's sources"
	echo "$m"
}
security_mirror() {
	{
		sed -n 's/^URIs: *\([^ ]*security[^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources
		awk '$1 == "deb" && $3 == "bookworm-security" { print $2; exit }' /etc/apt/sources.list
	} 2>/dev/null | head -n 1 || true
}

make_base() {
	local m s d
	m=$(mirror)
	s=$(security_mirror)
	d=$(mktemp -d /tmp/flame-image-base.XXXXXX)
	say "making a bookworm minbase from $m (once; cached in $base)"
	if ! debootstrap --variant=minbase bookworm "$d" "$m" >"$cache/debootstrap.log" 2>&1; then
		tail -n 5 "$cache/debootstrap.log" >&2
		rm -rf --one-file-system "$d"
		die "debootstrap failed (log: $cache/debootstrap.log)"
	fi
	# the suites of Debian's own images: main, updates, security
	{
		echo "deb $m bookworm main"
		echo "deb $m bookworm-updates main"
		[ -z "$s" ] || echo "deb $s bookworm-security main"
	} >"$d/etc/apt/sources.list"
	rm -rf "$d"/var/lib/apt/lists/* "$d"/var/cache/apt/*.bin
	tar --numeric-owner -C "$d" -cf "$base.tmp" . && mv "$base.tmp" "$base"
	rm -rf --one-file-system "$d"
}

# debian:bookworm and debian:bookworm-slim from the minbase, unless they are
# there already and not older than it.
import_base() {
	local c mnt stamp=$cache/base-imported
	if [ -e "$stamp" ] && [ "$stamp" -nt "$base" ] &&
		bah inspect --type image docker.io/library/debian:bookworm-slim >/dev/null 2>&1; then
		return 0
	fi
	say "importing the minbase as debian:bookworm and debian:bookworm-slim"
	c=$(bah from --pull=never scratch)
	mnt=$(bah mount "$c")
	tar --numeric-owner -C "$mnt" -xf "$base"
	bah umount "$c" >/dev/null
	bah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		--cmd bash --os linux --arch "$(dpkg --print-architecture)" "$c"
	bah commit --quiet --rm "$c" docker.io/library/debian:bookworm >/dev/null
	bah tag docker.io/library/debian:bookworm docker.io/library/debian:bookworm-slim
	touch "$stamp"
}

# The working container whose root file system is printed: kept while the
# image is the same, made anew when it changed.
rootfs() {
	local want have mnt
	want=$(bah inspect --type image --format '{{.FromImageID}}' "$tag")
	have=$(bah inspect --type container --format '{{.FromImageID}}' "$ctr" 2>/dev/null || true)
	if [ "$have" != "$want" ]; then
		[ -z "$have" ] || bah rm "$ctr" >/dev/null
		bah from --pull=never --name "$ctr" "$tag" >/dev/null
	fi
	mnt=$(bah mount "$ctr")
	[ -x "$mnt/usr/local/bin/flame" ] || die "$mnt has no /usr/local/bin/flame"
	mkdir -p "$src/build/image"
	echo "$mnt" >"$src/build/image/rootfs"
	echo "$mnt"
}

# Only the images of this build are kept (and the named ones): the layers of
# an older build's sources and of their build (1.6 GB with vfs) would pile up
# with every change.
prune() {
	local keep id name k
	keep=$(sed -n 's/^--> \(Using cache \)\{0,1\}\([0-9a-f]\{11,\}\)$/\2/p' "$cache/build.log")
	bah images -a --no-trunc --format '{{.ID}} {{.Name}}' | while read -r id name; do
		id=${id#sha256:}
		[ "$name" = "<none>" ] || continue
		for k in $keep; do
			case $id in "$k"*) continue 2 ;; esac
		done
		bah rmi "$id" >/dev/null 2>&1 || true   # one a container still uses stays
	done
}

[ -s "$base" ] || make_base
import_base
say "building examples/fly/Dockerfile as $tag"
bah bud --isolation chroot --network host --layers --force-rm --pull=never \
	--ignorefile "$src/examples/fly/Dockerfile.dockerignore" \
	-f "$src/examples/fly/Dockerfile" -t "$tag" "$src" >"$cache/build.log" 2>&1 ||
	{ tail -n 20 "$cache/build.log" >&2; die "buildah bud failed (log: $cache/build.log)"; }
rootfs
prune
