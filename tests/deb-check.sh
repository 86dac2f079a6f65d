#!/bin/bash
# tests/deb-check.sh: the Debian package (contrib/debian/, "make deb") built
# in clean Debian 12 (bookworm) and Debian 13 (trixie) roots, checked with
# lintian on the host, installed, run and purged in its root.
#
#   tests/deb-check.sh [SUITE...]        (as root; default: bookworm trixie)
#
# The roots are made once with debootstrap (--variant=minbase, a few minutes
# each) and cached under $DMF_ROOTS (default /var/cache/dmfilemap-roots),
# with build-essential and the Build-Depends of contrib/debian/control;
# later runs reuse them and reach the network only when a Build-Depends is
# missing. Each run copies the tree (minus build/ and .git) into the root,
# runs "make deb" there as an unprivileged user, and purges the package
# again at the end, so the cached root stays clean.
#
# Prints "ok NAME" or "FAIL NAME: why" for each check, then
# "deb: N passed, N failed"; exits 0 only if every check passed. Lines
# starting with "#" are information (timings, where the logs are).
#
# Environment: DMF_ROOTS (the cache), DMF_MIRROR (Debian mirror, default
# http://deb.debian.org/debian), DMF_DEB_OUT (the .debs, .changes and
# logs; default build/deb-check).

set -u
export LC_ALL=C.UTF-8

SRC=$(cd "$(dirname "$0")/.." && pwd)
ROOTS=${DMF_ROOTS:-/var/cache/dmfilemap-roots}
MIRROR=${DMF_MIRROR:-http://deb.debian.org/debian}
OUT=${DMF_DEB_OUT:-$SRC/build/deb-check}
SUITES=("$@")
[ ${#SUITES[@]} -gt 0 ] || SUITES=(bookworm trixie)

pass=0
fail=0
ok()   { echo "ok $1"; pass=$((pass + 1)); }
nok()  { echo "FAIL $1: $2"; fail=$((fail + 1)); }
info() { echo "# $*"; }

if [ "$(id -u)" != 0 ]; then
	echo "FAIL deb-check: must run as root (debootstrap, chroot)"
	echo "deb: 0 passed, 1 failed"
	exit 1
fi
for tool in debootstrap lintian flock; do
	if ! command -v $tool >/dev/null; then
		echo "FAIL deb-check: $tool is missing (apt-get install debootstrap lintian)"
		echo "deb: 0 passed, 1 failed"
		exit 1
	fi
done

VERSION=$(sed -n 's/^#define DMF_VERSION "\(.*\)"/\1/p' "$SRC/include/dmfilemap.h")
mkdir -p "$ROOTS" "$OUT"
# one run at a time per cache: the roots are shared
exec 9>"$ROOTS/.lock"
flock 9

# Mounts made in a root, undone on exit whatever happens.
MOUNTED=()
cleanup() {
	local m
	for m in "${MOUNTED[@]}"; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# in ROOT CMD...: run as root in the chroot, with a plain environment.
in_root() {
	local root=$1
	shift
	chroot "$root" /usr/bin/env -i HOME=/root LC_ALL=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive "$@"
}

now() { date +%s; }

# make_root SUITE: the cached root, made if missing. Prints its path.
make_root() {
	local suite=$1 root=$ROOTS/$1
	if [ -f "$root/.dmfilemap-root" ]; then
		echo "$root"
		return 0
	fi
	# a root left half-made by an interrupted run: nothing may be mounted
	# in it before it is removed
	if [ -e "$root.tmp" ]; then
		if findmnt -rn -o TARGET | grep -q "^$root.tmp/"; then
			echo "mounts left under $root.tmp" >&2
			return 1
		fi
		rm -rf --one-file-system "$root.tmp"
	fi
	debootstrap --variant=minbase --include=build-essential \
		"$suite" "$root.tmp" "$MIRROR" >&2 || return 1
	date -u +%FT%TZ > "$root.tmp/.dmfilemap-root"
	mv "$root.tmp" "$root"
	echo "$root"
}

# check_suite SUITE: every check for one release.
check_suite() {
	local suite=$1 root t0 t1 log deb debs out
	log=$OUT/$suite.log
	out=$OUT/$suite
	: > "$log"
	rm -rf "$out"
	mkdir -p "$out"

	t0=$(now)
	if ! root=$(make_root "$suite" 2>>"$log"); then
		nok "root-$suite" "debootstrap $suite failed (see $log)"
		return
	fi
	ok "root-$suite"
	info "$suite: root $root ready in $(($(now) - t0))s"

	mount -t proc proc "$root/proc" || {
		nok "build-$suite" "cannot mount /proc in $root"
		return
	}
	MOUNTED+=("$root/proc")
	cp /etc/resolv.conf "$root/etc/resolv.conf"

	# the tree, minus build/ and .git, as an unprivileged user's
	in_root "$root" sh -c 'dpkg --purge dmfilemap >/dev/null 2>&1; rm -rf /build' >>"$log" 2>&1
	mkdir -p "$root/build/src"
	tar -C "$SRC" --exclude=./build --exclude=./.git --exclude=__pycache__ -cf - . |
		tar -C "$root/build/src" -xf -
	chown -R nobody:nogroup "$root/build"

	# Build-Depends: installed once, then only when the control file asks
	# for something new
	t1=$(now)
	if ! in_root "$root" dpkg-checkbuilddeps /build/src/contrib/debian/control >>"$log" 2>&1; then
		mkdir -p "$root/build/deps/debian"
		cp "$SRC/contrib/debian/control" "$SRC/contrib/debian/changelog" "$root/build/deps/debian/"
		if ! in_root "$root" sh -c 'apt-get update &&
		    apt-get -y --no-install-recommends build-dep /build/deps' >>"$log" 2>&1; then
			nok "build-$suite" "could not install the Build-Depends (see $log)"
			return
		fi
		info "$suite: Build-Depends installed in $(($(now) - t1))s"
	fi

	t1=$(now)
	if ! chroot --userspec=nobody:nogroup "$root" /usr/bin/env -i HOME=/tmp \
	    LC_ALL=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	    make -C /build/src deb >>"$log" 2>&1; then
		nok "build-$suite" "make deb failed (see $log)"
		return
	fi
	deb=$(cd "$root/build/src/build/deb" && ls dmfilemap_*.deb 2>/dev/null)
	case $deb in
	dmfilemap_"$VERSION"-*_*.deb) ;;
	*)	nok "build-$suite" "no build/deb/dmfilemap_${VERSION}-*_ARCH.deb (found: ${deb:-nothing})"
		return ;;
	esac
	cp "$root"/build/src/build/deb/*.deb "$root"/build/src/build/deb/*.changes \
		"$root"/build/src/build/deb/*.buildinfo "$out"/ 2>>"$log"
	ok "build-$suite"
	info "$suite: built $deb in $(($(now) - t1))s"

	# lintian on the host: the .changes (so the .buildinfo and every .deb)
	# (the verdict from a plain run: lintian 2.116 fails on an overridden
	# warning when asked to show the overrides; those, and the info tags,
	# are shown from a second run)
	if lintian --fail-on error,warning "$out"/*.changes > "$out/lintian.txt" 2>&1; then
		ok "lintian-$suite"
	else
		nok "lintian-$suite" "$(grep -cE '^[EW]: ' "$out/lintian.txt") errors/warnings (see $out/lintian.txt)"
	fi
	lintian --show-overrides -I "$out"/*.changes 2>&1 |
		grep -v '^running with root privileges' > "$out/lintian-all.txt"
	sed 's/^/#   lintian: /' "$out/lintian-all.txt"

	# what is in it
	local contents missing f
	contents=$(dpkg-deb -c "$out/$deb" | awk '{ print $6 }' | sed 's|^\./|/|')
	local unitdir=/usr/lib/systemd/system
	grep -q '^/lib/systemd/system/' <<<"$contents" && unitdir=/lib/systemd/system
	missing=
	for f in /usr/sbin/dmfilemap-supervisord /usr/sbin/dmfilemapctl \
	    /usr/sbin/dmfilemapd \
	    /usr/share/man/man8/dmfilemap-supervisord.8.gz \
	    /usr/share/man/man8/dmfilemapctl.8.gz \
	    /usr/share/man/man8/dmfilemapd.8.gz \
	    /usr/share/man/man7/dmfilemap-protocol.7.gz \
	    $unitdir/dmfilemap-supervisord.socket \
	    $unitdir/dmfilemap-supervisord.service \
	    /usr/share/bash-completion/completions/dmfilemapctl \
	    /usr/share/doc/dmfilemap/copyright; do
		grep -qxF "$f" <<<"$contents" || missing="$missing $f"
	done
	if [ -z "$missing" ]; then
		ok "contents-$suite"
	else
		nok "contents-$suite" "missing$missing"
	fi
	info "$suite: units in $unitdir"

	# installed in the root
	if ! in_root "$root" dpkg -i "/build/src/build/deb/$deb" >>"$log" 2>&1; then
		nok "install-$suite" "dpkg -i $deb failed (see $log)"
		return
	fi
	ok "install-$suite"

	local v
	v=$(in_root "$root" dmfilemapctl --version 2>&1)
	if [ "$v" = "dmfilemapctl $VERSION" ]; then
		ok "version-$suite"
	else
		nok "version-$suite" "dmfilemapctl --version printed '$v'"
	fi

	# root's login PATH (/etc/profile) finds the shim: dmstats execs it so
	v=$(chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb /bin/bash -lc 'command -v dmfilemapd' 2>&1)
	if [ "$v" = /usr/sbin/dmfilemapd ]; then
		ok "shim-on-path-$suite"
	else
		nok "shim-on-path-$suite" "root's PATH finds '$v'"
	fi

	# the units: ExecStart in /usr/sbin, the socket enabled (not the
	# service: it is socket-activated)
	local wants=$root/etc/systemd/system/sockets.target.wants/dmfilemap-supervisord.socket
	if ! grep -qE "^ExecStart=/usr/sbin/dmfilemap-supervisord( |$)" \
	    "$root$unitdir/dmfilemap-supervisord.service"; then
		nok "units-$suite" "ExecStart= does not run /usr/sbin/dmfilemap-supervisord"
	elif [ ! -L "$wants" ]; then
		nok "units-$suite" "the socket was not enabled on install (no $wants)"
	elif find "$root/etc/systemd/system" -name dmfilemap-supervisord.service | grep -q .; then
		nok "units-$suite" "the service itself was enabled"
	else
		ok "units-$suite"
	fi

	# removed and purged: nothing left behind
	if ! in_root "$root" dpkg --purge dmfilemap >>"$log" 2>&1; then
		nok "purge-$suite" "dpkg --purge failed (see $log)"
	elif [ -e "$root/usr/sbin/dmfilemapd" ] || [ -L "$wants" ] ||
	    [ -e "$root$unitdir/dmfilemap-supervisord.socket" ]; then
		nok "purge-$suite" "files or the socket's enablement left after purge"
	else
		ok "purge-$suite"
	fi
	rm -rf --one-file-system "$root/build"

	umount "$root/proc" && unset 'MOUNTED[-1]'
}

info "source $SRC, DMF_VERSION $VERSION, roots in $ROOTS"
T0=$(now)
for suite in "${SUITES[@]}"; do
	t=$(now)
	check_suite "$suite"
	info "$suite: $(($(now) - t))s in all; log $OUT/$suite.log"
done
info "deb-check: $(($(now) - T0))s"
echo "deb: $pass passed, $fail failed"
[ "$fail" = 0 ]
