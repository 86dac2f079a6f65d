#!/bin/bash
# tests/systemd-check.sh: the Debian package under a real systemd, as PID 1
# of a User-Mode Linux guest, for Debian 12 (bookworm) and 13 (trixie).
#
#   tests/systemd-check.sh [--rebuild] [--keep] [-j N] [--timeout S] [SUITE...]
#                                  (as root; default suites: bookworm trixie)
#
# For each suite:
#  1. the package: build/deb-check/SUITE/dmfilemap_*.deb (tests/deb-check.sh)
#     or build/systemd-check/SUITE/pkg/dmfilemap_*.deb when newer than the
#     package's sources (Makefile daemon client protocol include man
#     contrib), else built now by "make deb" as an unprivileged user in
#     tests/deb-check.sh's cached build root of that suite (under its lock),
#     so the bookworm package is built on bookworm, the trixie one on trixie
#     (--rebuild: always). And the "newer version" the upgrade check
#     installs over it: the same tree with a changelog entry one Debian
#     revision later on top (0.1.0-1: 0.1.0-2), built there too, into
#     build/systemd-check/SUITE/pkg-next (kept while newer than the sources).
#  2. a boot root: $DMF_ROOTS/boot-SUITE (default
#     /var/cache/dmfilemap-roots/boot-SUITE), made once with debootstrap
#     --variant=minbase and systemd, dbus, dmsetup, e2fsprogs, kmod, procps,
#     jq and the package's libraries, with the UML kernel's dm modules; each
#     run boots a fresh copy of it, in which the package is installed with
#     apt (so its maintainer scripts enable the socket) and the oneshot unit
#     dmf-check.service runs tests/systemd/guest-test.sh (the checks: see
#     there), with the newer package and the tree's Varlink IDL beside it.
#  3. the guest: linux.uml with that copy as its hostfs root
#     (rootflags=COPY: never the host's own root), systemd as init,
#     systemd.unit=dmf-check.service, a sparse disk as /dev/ubda. The guest
#     writes its results into the copy and powers off; a guest that has not
#     finished after --timeout seconds (default 300) is killed and fails.
#     -j N: guests at once (default 2); --keep: keep the work dir (the
#     guests' roots) under /var/tmp.
#
# Prints "ok NAME" or "FAIL NAME: why" for each check (lines starting with
# "#" are information: timings, the exposure score, where the logs are),
# then "systemd: N passed, N failed"; exits 0 only if none failed. The
# guests' logs and journals are copied to build/systemd-check/SUITE/.
#
# Environment: DMF_ROOTS (the cache), DMF_MIRROR (Debian mirror, default
# http://deb.debian.org/debian), DMF_UML (the UML kernel, default linux.uml),
# DMF_UML_MEM (guest memory, default 768M), DMF_SYSTEMD_OUT (default
# build/systemd-check).

set -u
export LC_ALL=C.UTF-8
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

SRC=$(cd "$(dirname "$0")/.." && pwd)
ROOTS=${DMF_ROOTS:-/var/cache/dmfilemap-roots}
MIRROR=${DMF_MIRROR:-http://deb.debian.org/debian}
OUT=${DMF_SYSTEMD_OUT:-$SRC/build/systemd-check}
UML=${DMF_UML:-linux.uml}
MEM=${DMF_UML_MEM:-768M}
GUEST_DIR=$SRC/tests/systemd
# what "make deb" puts in the package
PKG_SOURCES=(Makefile daemon client protocol include man contrib)
# the boot roots' packages (and the package's own Depends, so that its
# install needs no network); a root made with another list is made anew
BOOT_PKGS=systemd,dbus,dmsetup,e2fsprogs,kmod,procps,jq

KEEP=0
REBUILD=0
JOBS=2
TIMEOUT=300
SUITES=()
usage() { sed -n '5,6p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--keep) KEEP=1; shift ;;
	--rebuild) REBUILD=1; shift ;;
	-j) [ $# -ge 2 ] || usage; JOBS=$2; shift 2 ;;
	-j*) JOBS=${1#-j}; shift ;;
	--timeout) [ $# -ge 2 ] || usage; TIMEOUT=$2; shift 2 ;;
	-h|--help) usage ;;
	-*) usage ;;
	*) SUITES+=("$1"); shift ;;
	esac
done
[ ${#SUITES[@]} -gt 0 ] || SUITES=(bookworm trixie)
case $JOBS$TIMEOUT in *[!0-9]*) usage ;; esac

pass=0
fail=0
ok()   { echo "ok $1"; pass=$((pass + 1)); }
nok()  { echo "FAIL $1: $2"; fail=$((fail + 1)); }
info() { echo "# $*"; }
now()  { date +%s; }
indent() { sed 's/^/#     | /'; }

die() { # REASON: nothing can run
	nok systemd-check "$1"
	echo "systemd: $pass passed, $fail failed"
	exit 1
}

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot)"
need_pkgs=()
command -v debootstrap >/dev/null || need_pkgs+=(debootstrap)
command -v "$UML" >/dev/null || need_pkgs+=(user-mode-linux)
command -v flock >/dev/null || need_pkgs+=(util-linux)
if [ ${#need_pkgs[@]} -gt 0 ]; then
	info "installing ${need_pkgs[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_pkgs[@]}" >/dev/null 2>&1 ||
		{ apt-get update -q >/dev/null 2>&1
		  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_pkgs[@]}" >/dev/null 2>&1; }
fi
command -v debootstrap >/dev/null || die "debootstrap missing (apt-get install debootstrap)"
command -v "$UML" >/dev/null || die "$UML missing (apt-get install user-mode-linux)"
KVER=$(basename "$(ls -d /usr/lib/uml/modules/*/ 2>/dev/null | head -n 1)" 2>/dev/null)
[ -n "$KVER" ] && [ -e "/usr/lib/uml/modules/$KVER/kernel/drivers/md/dm-mod.ko" ] ||
	die "no dm-mod.ko under /usr/lib/uml/modules (apt-get install user-mode-linux)"
[ -f "$GUEST_DIR/guest-test.sh" ] || die "no $GUEST_DIR/guest-test.sh"
VERSION=$(sed -n 's/^#define DMF_VERSION "\(.*\)"/\1/p' "$SRC/include/dmfilemap.h")
# the package's version, and the "newer version" the upgrade check
# installs over it: the same tree with a changelog entry on top, one
# Debian revision later (0.1.0-1: 0.1.0-2)
DEB_VERSION=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' "$SRC/contrib/debian/changelog")
case ${DEB_VERSION##*-} in
''|*[!0-9]*) NEXT_VERSION=$DEB_VERSION+1 ;;
*) NEXT_VERSION=${DEB_VERSION%-*}-$((${DEB_VERSION##*-} + 1)) ;;
esac
[ -n "$DEB_VERSION" ] || die "no version in contrib/debian/changelog"

mkdir -p "$ROOTS" "$OUT" || die "cannot create $ROOTS or $OUT"
# one run of this script at a time: the boot roots are ours
exec 8>"$ROOTS/.systemd-check.lock"
flock -n 8 || { info "waiting for another systemd-check run"; flock 8; }

WORK=$(mktemp -d /var/tmp/dmf-systemd.XXXXXX) || die "cannot create a work dir"
case $WORK$ROOTS$SRC in *[[:space:],]*) die "paths with whitespace or commas are not supported" ;; esac

MOUNTED=()
GUESTS=()
cleanup() {
	local m p
	for p in "${GUESTS[@]}"; do
		kill_guest "$p"
	done
	for m in "${MOUNTED[@]}"; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
	if [ "$KEEP" = 1 ]; then
		info "kept $WORK"
	else
		rm -rf --one-file-system "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# kill_guest PID: PID is the guest's timeout process; UML makes itself the
# leader of a process group of its own (with its helpers): kill that too.
kill_guest() {
	local c
	kill -0 "$1" 2>/dev/null || return 0
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		kill -KILL -- "-$c" 2>/dev/null
		kill -KILL "$c" 2>/dev/null
	done
	kill -KILL -- "-$1" 2>/dev/null
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

mount_proc() { # ROOT
	mount -t proc proc "$1/proc" || return 1
	MOUNTED+=("$1/proc")
}
umount_proc() { # ROOT
	local i
	umount "$1/proc" || umount -l "$1/proc"
	for i in "${!MOUNTED[@]}"; do
		[ "${MOUNTED[$i]}" = "$1/proc" ] && unset 'MOUNTED[i]'
	done
}

# in_root ROOT CMD...: as root in the chroot, with a plain environment
in_root() {
	local root=$1
	shift
	chroot "$root" /usr/bin/env -i HOME=/root LC_ALL=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive "$@"
}

# ---------------------------------------------------------------- packages

# fresh_deb DIR [DEBVERSION]: the dmfilemap_VERSION-*.deb (or
# dmfilemap_DEBVERSION_*.deb) in DIR if none of the package's sources is
# newer
fresh_deb() {
	local d pat="dmfilemap_$VERSION-*.deb"
	[ -n "${2:-}" ] && pat="dmfilemap_${2}_*.deb"
	# shellcheck disable=SC2231 # PAT is a glob
	for d in "$1"/$pat; do
		[ -f "$d" ] || continue
		if [ -z "$(cd "$SRC" && find "${PKG_SOURCES[@]}" -newer "$d" -print -quit 2>/dev/null)" ]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

# bump_changelog FILE: a changelog entry for NEXT_VERSION on top of FILE
# (same maintainer), for the upgrade check's "newer version"
bump_changelog() {
	local f=$1 who tmp
	who=$(sed -n 's/^ -- \(.*>\)  .*/\1/p' "$f" | head -n 1)
	tmp=$(cat "$f") || return 1
	{
		echo "dmfilemap ($NEXT_VERSION) unstable; urgency=medium"
		echo
		echo "  * The same tree, one revision later: the package that"
		echo "    tests/systemd-check.sh upgrades to."
		echo
		echo " -- $who  $(date -R)"
		echo
		echo "$tmp"
	} > "$f"
}

# build_deb SUITE LOG WHAT: "make deb" in tests/deb-check.sh's build root
# of SUITE (made as deb-check.sh makes it, if missing), under its lock.
# WHAT "both": the package, to $OUT/SUITE/pkg, then the same tree as
# NEXT_VERSION, to $OUT/SUITE/pkg-next; "next": only the latter.
build_deb() {
	local suite=$1 log=$2 what=$3 root=$ROOTS/$1 pkg=$OUT/$1/pkg next=$OUT/$1/pkg-next
	(
		flock 9
		if [ ! -f "$root/.dmfilemap-root" ]; then
			if [ -e "$root.tmp" ]; then
				findmnt -rn -o TARGET | grep -q "^$root.tmp/" && { echo "mounts left under $root.tmp"; exit 1; }
				rm -rf --one-file-system "$root.tmp"
			fi
			debootstrap --variant=minbase --include=build-essential \
				"$suite" "$root.tmp" "$MIRROR" || exit 1
			date -u +%FT%TZ > "$root.tmp/.dmfilemap-root"
			mv "$root.tmp" "$root"
		fi
		mount -t proc proc "$root/proc" || exit 1
		trap 'rm -rf --one-file-system "$root/build"; umount "$root/proc" || umount -l "$root/proc"' EXIT
		cp /etc/resolv.conf "$root/etc/resolv.conf"
		in_root "$root" sh -c 'dpkg --purge dmfilemap >/dev/null 2>&1; rm -rf /build'
		mkdir -p "$root/build/src"
		tar -C "$SRC" --exclude=./build --exclude=./.git --exclude=__pycache__ -cf - . |
			tar -C "$root/build/src" -xf -
		chown -R nobody:nogroup "$root/build"
		if ! in_root "$root" dpkg-checkbuilddeps /build/src/contrib/debian/control; then
			mkdir -p "$root/build/deps/debian"
			cp "$SRC/contrib/debian/control" "$SRC/contrib/debian/changelog" "$root/build/deps/debian/"
			in_root "$root" sh -c 'apt-get update &&
			    apt-get -y --no-install-recommends build-dep /build/deps' || exit 1
		fi
		make_deb() {
			chroot --userspec=nobody:nogroup "$root" /usr/bin/env -i HOME=/tmp \
				LC_ALL=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin \
				make -C /build/src deb
		}
		if [ "$what" = both ]; then
			make_deb || exit 1
			rm -rf "$pkg"
			mkdir -p "$pkg"
			cp "$root"/build/src/build/deb/*.deb "$pkg"/ || exit 1
		fi
		bump_changelog "$root/build/src/contrib/debian/changelog" || exit 1
		make_deb || exit 1
		rm -rf "$next"
		mkdir -p "$next"
		cp "$root"/build/src/build/deb/*.deb "$next"/ || exit 1
	) 9>"$ROOTS/.lock" >> "$log" 2>&1
}

# ---------------------------------------------------------------- boot roots

# deb_depends DEB: the packages DEB depends on (first alternatives), with
# commas
deb_depends() {
	dpkg-deb -f "$1" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*//; s/[[:space:]]//g' |
		grep -v '^$' | sort -u | paste -sd, -
}

# boot_root SUITE DEB LOG: the cached boot root of SUITE, made if missing (or
# made by another recipe). Prints its path.
boot_root() {
	local suite=$1 log=$3 root=$ROOTS/boot-$1 pkgs recipe
	pkgs=$BOOT_PKGS
	pkgs=$pkgs,$(deb_depends "$2")
	recipe="v1 $pkgs $KVER"
	if [ -f "$root/.dmfilemap-boot-root" ] &&
	    [ "$(head -n 1 "$root/.dmfilemap-boot-root")" = "$recipe" ]; then
		echo "$root"
		return 0
	fi
	{
		for r in "$root" "$root.tmp"; do
			if [ -e "$r" ]; then
				if findmnt -rn -o TARGET | grep -q "^$r/"; then
					echo "mounts left under $r"
					return 1
				fi
				rm -rf --one-file-system "$r"
			fi
		done
		debootstrap --variant=minbase --include="$pkgs" "$suite" "$root.tmp" "$MIRROR" || return 1
		# the UML kernel's device-mapper modules, for modprobe in the guest
		mkdir -p "$root.tmp/lib/modules/$KVER/kernel/drivers"
		cp -a "/usr/lib/uml/modules/$KVER/kernel/drivers/md" "$root.tmp/lib/modules/$KVER/kernel/drivers/" || return 1
		depmod -b "$root.tmp" "$KVER" || return 1
		# nothing from the host's apt configuration; a name for the guest
		echo "dmf-$suite" > "$root.tmp/etc/hostname"
		in_root "$root.tmp" apt-get clean
		printf '%s\n' "$recipe" "made $(date -u +%FT%TZ)" > "$root.tmp/.dmfilemap-boot-root"
		mv "$root.tmp" "$root"
	} >> "$log" 2>&1 || return 1
	echo "$root"
}

# ---------------------------------------------------------------- guests

# prepare SUITE DEB NEXTDEB BOOTROOT LOG: the guest's root, a copy of
# BOOTROOT with the package installed by apt, NEXTDEB (for the upgrade)
# and the test unit
prepare() {
	local suite=$1 deb=$2 next=$3 boot=$4 log=$5 g=$WORK/$1 root rc
	root=$g/root
	mkdir -p "$g/uml"
	cp -a --reflink=auto "$boot" "$root" >> "$log" 2>&1 || return 1
	mkdir -p "$root/dmf-check/out" "$root/dmf-check/pkg" "$root/dmf-check/pkg-next"
	cp "$deb" "$root/dmf-check/pkg/" || return 1
	cp "$next" "$root/dmf-check/pkg-next/" || return 1
	cp "$SRC/protocol/io.dmfilemap.Supervisor.varlink" "$root/dmf-check/" || return 1
	mount_proc "$root" || return 1
	cp /etc/resolv.conf "$root/etc/resolv.conf"
	# apt install ./dmfilemap_*.deb: the maintainer scripts enable the
	# socket (and start it only where systemd runs: not in a chroot)
	in_root "$root" apt-get install -y --no-install-recommends "/dmf-check/pkg/$(basename "$deb")" >> "$log" 2>&1
	rc=$?
	if [ "$rc" != 0 ]; then
		# a new dependency: the archive's lists, then again
		in_root "$root" sh -c "apt-get update && apt-get install -y --no-install-recommends /dmf-check/pkg/$(basename "$deb")" >> "$log" 2>&1
		rc=$?
	fi
	in_root "$root" apt-get clean >> "$log" 2>&1
	umount_proc "$root"
	[ "$rc" = 0 ] || { echo "apt-get install $(basename "$deb") failed" >> "$log"; return 1; }
	cp "$GUEST_DIR/guest-test.sh" "$root/dmf-check/guest-test.sh"
	# a persistent journal: the host reads it even after a guest that hung
	# (synced every second, not every 5 minutes)
	mkdir -p "$root/var/log/journal" "$root/etc/systemd/journald.conf.d"
	printf '[Journal]\nStorage=persistent\nSyncIntervalSec=1s\n' \
		> "$root/etc/systemd/journald.conf.d/dmf-check.conf"
	{
		echo "SUITE=$suite"
		echo "VERSION=$VERSION"
		echo "DEB=$(basename "$deb")"
		echo "NEXT_DEB=$(basename "$next")"
		echo "NEXT_VERSION=$NEXT_VERSION"
	} > "$root/dmf-check/config"
	cat > "$root/etc/systemd/system/dmf-check.service" <<-'EOF'
	[Unit]
	Description=dmfilemap systemd check (tests/systemd/guest-test.sh)
	# as on a normal boot (multi-user.target needs basic.target, which
	# wants sockets.target): the sockets enabled in sockets.target.wants,
	# by the package's postinst and journald's own, listen before the
	# checks start
	Wants=sockets.target
	After=sockets.target
	# a failure of the script itself ends the guest too
	FailureAction=poweroff-force

	[Service]
	Type=oneshot
	ExecStart=/bin/bash /dmf-check/guest-test.sh
	StandardOutput=journal+console
	TimeoutStartSec=infinity
	EOF
	truncate -s 512M "$g/disk.img"
}

# boot SUITE: start the guest in the background; sets GPID[SUITE]
declare -A GPID=() GT0=()
boot() {
	local suite=$1 g=$WORK/$1
	timeout -k 10 "$TIMEOUT" "$UML" mem="$MEM" ubd0="$g/disk.img" \
		rootfstype=hostfs rootflags="$g/root" rw \
		init=/lib/systemd/systemd systemd.unit=dmf-check.service \
		con=null con0=null,fd:2 umid="dmfsd-$$-$suite" uml_dir="$g/uml" \
		> "$g/console.log" 2>&1 < /dev/null &
	GPID[$suite]=$!
	GT0[$suite]=$(now)
	GUESTS+=("$!")
}

# report SUITE RC: the guest's results
report() {
	local suite=$1 rc=$2 g=$WORK/$1 o=$WORK/$1/root/dmf-check/out dest=$OUT/$1 n line
	mkdir -p "$dest"
	cp "$g/console.log" "$dest/console.log" 2>/dev/null
	for f in "$o"/*; do
		[ -f "$f" ] && cp "$f" "$dest/"
	done
	declare -A seen=()
	if [ -f "$o/results" ]; then
		while IFS= read -r line; do
			case $line in
			"ok "*) n=${line#ok }; seen[$n]=1; ok "$n" ;;
			"FAIL "*) n=${line#FAIL }; n=${n%%:*}; seen[$n]=1; nok "$n" "${line#FAIL "$n": }" ;;
			*) echo "$line" ;;
			esac
		done < "$o/results"
	fi
	if [ ! -f "$o/done" ]; then
		local why
		if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
			why="the guest did not finish within $TIMEOUT s: killed (hung?)"
		else
			why="the guest ended (status $rc) without finishing: crashed?"
		fi
		nok "$suite-guest" "$why"
		if [ -f "$o/plan" ]; then
			while IFS= read -r n; do
				[ -n "${seen[$n]:-}" ] || nok "$n" "not reported: $why"
			done < "$o/plan"
		fi
		# the guest's journal, read here since the guest could not
		journalctl --no-pager -o short-monotonic -D "$g/root/var/log/journal" \
			-u dmfilemap-supervisord.service -u dmfilemap-supervisord.socket \
			> "$dest/supervisor-journal.txt" 2>&1
		journalctl --no-pager -o short-monotonic -D "$g/root/var/log/journal" \
			> "$dest/journal.txt" 2>&1
		info "$suite: journalctl -u dmfilemap-supervisord, read from the guest's root (last 40 lines):"
		tail -n 40 "$dest/supervisor-journal.txt" | indent
		info "$suite: console (last 30 lines):"
		tail -n 30 "$g/console.log" | indent
		if [ -f "$o/guest.log" ]; then
			info "$suite: guest log (last 20 lines):"
			tail -n 20 "$o/guest.log" | indent
		fi
	fi
	if [ -f "$o/done" ] && grep -q "^FAIL" "$o/results" 2>/dev/null && [ -s "$o/supervisor-journal.txt" ]; then
		info "$suite: journalctl -u dmfilemap-supervisord (last 40 lines):"
		tail -n 40 "$o/supervisor-journal.txt" | indent
	fi
	info "$suite: logs in $dest"
}

# ------------------------------------------------------------------ run

T0=$(now)
info "source $SRC, DMF_VERSION $VERSION, roots in $ROOTS, UML kernel $KVER, work dir $WORK"
READY=()
for suite in "${SUITES[@]}"; do
	mkdir -p "$OUT/$suite"
	log=$OUT/$suite/prepare.log
	: > "$log"
	t=$(now)
	if [ "$REBUILD" = 0 ] && { deb=$(fresh_deb "$SRC/build/deb-check/$suite") ||
	    deb=$(fresh_deb "$OUT/$suite/pkg"); }; then
		info "$suite: package $deb (newer than its sources)"
		if next=$(fresh_deb "$OUT/$suite/pkg-next" "$NEXT_VERSION"); then
			info "$suite: package $next (newer than its sources)"
		elif build_deb "$suite" "$log" next &&
		    next=$(fresh_deb "$OUT/$suite/pkg-next" "$NEXT_VERSION"); then
			info "$suite: package $next built in the $suite root in $(($(now) - t)) s"
		else
			nok "$suite-package" "make deb of $NEXT_VERSION in the $suite root failed (see $log)"
			continue
		fi
	elif build_deb "$suite" "$log" both &&
	    deb=$(ls "$OUT/$suite/pkg/dmfilemap_$VERSION"-*.deb 2>/dev/null | head -n 1) && [ -n "$deb" ] &&
	    next=$(ls "$OUT/$suite/pkg-next/dmfilemap_${NEXT_VERSION}"_*.deb 2>/dev/null | head -n 1) && [ -n "$next" ]; then
		info "$suite: packages $deb and $next built in the $suite root in $(($(now) - t)) s"
	else
		nok "$suite-package" "make deb in the $suite root failed (see $log)"
		continue
	fi
	ok "$suite-package"
	t=$(now)
	if ! boot=$(boot_root "$suite" "$deb" "$log"); then
		nok "$suite-boot-root" "debootstrap of the boot root failed (see $log)"
		continue
	fi
	ok "$suite-boot-root"
	info "$suite: boot root $boot ready in $(($(now) - t)) s"
	t=$(now)
	if ! prepare "$suite" "$deb" "$next" "$boot" "$log"; then
		nok "$suite-install" "could not install the package in a copy of the boot root (see $log)"
		continue
	fi
	if [ ! -L "$WORK/$suite/root/etc/systemd/system/sockets.target.wants/dmfilemap-supervisord.socket" ]; then
		nok "$suite-install" "apt install did not enable dmfilemap-supervisord.socket"
	else
		ok "$suite-install"
	fi
	info "$suite: guest root copied and the package installed in $(($(now) - t)) s"
	READY+=("$suite")
done

# the guests: up to JOBS at once
queue=("${READY[@]}")
running=()
while [ ${#queue[@]} -gt 0 ] || [ ${#running[@]} -gt 0 ]; do
	while [ ${#queue[@]} -gt 0 ] && [ ${#running[@]} -lt "$JOBS" ]; do
		boot "${queue[0]}"
		info "${queue[0]}: guest booted"
		running+=("${queue[0]}")
		queue=("${queue[@]:1}")
	done
	still=()
	for suite in "${running[@]}"; do
		if kill -0 "${GPID[$suite]}" 2>/dev/null; then
			still+=("$suite")
		else
			wait "${GPID[$suite]}"
			rc=$?
			info "$suite: guest ran $(($(now) - GT0[$suite])) s (status $rc)"
			report "$suite" "$rc"
		fi
	done
	running=("${still[@]}")
	[ ${#running[@]} -gt 0 ] && sleep 1
done

info "systemd-check: $(($(now) - T0)) s"
echo "systemd: $pass passed, $fail failed"
[ "$fail" = 0 ]
