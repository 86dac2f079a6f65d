#!/bin/sh
# t-refuse: files that are not on a device-mapper device (tmpfs, hostfs) are
# refused: dmfilemapctl add exits 1 with "dmfilemapctl: ... not on a
# device-mapper device"; the shim exits 1; no monitor is created.
. "$DMF_KT_DIR/lib.sh"
require_supervisor

T=$DMF_TMP/not-dm.img           # tmpfs
H=$DMF_RESULTS/$DMF_TEST.hostfs  # hostfs (the host's results dir)
head -c 65536 /dev/zero > "$T"
head -c 65536 /dev/zero > "$H"
trap 'rm -f "$H"' EXIT

expect_refused() { # DESC CMD...
	_d=$1; shift
	_o=$("$@" 2>&1 >/dev/null)
	_rc=$?
	log "$_d: exit $_rc: $_o"
	[ "$_rc" = 1 ] || fail "$_d: exit status $_rc, want 1 (stderr: $_o)"
	case $_o in
	"dmfilemapctl: "*"not on a device-mapper device"*) ;;
	*) fail "$_d: message '$_o' lacks 'dmfilemapctl: ...not on a device-mapper device'" ;;
	esac
	[ "$(printf '%s\n' "$_o" | wc -l)" = 1 ] || fail "$_d: more than one line on stderr"
}

expect_refused "tmpfs --create" dmfilemapctl add "$T" --create
expect_refused "tmpfs --group 0" dmfilemapctl add "$T" --group 0
expect_refused "hostfs --create" dmfilemapctl add "$H" --create
expect_refused "tmpfs --create --follow path" dmfilemapctl add "$T" --create --follow path

dmfilemapd 7 0 "$T" inode 0 0 7< "$T" > "$DMF_TMP/shim.out" 2>&1
rc=$?
log "shim on tmpfs: exit $rc: $(cat "$DMF_TMP/shim.out")"
[ "$rc" = 1 ] || fail "dmfilemapd on a tmpfs file exited $rc, want 1"
[ "$(mon_count)" = 0 ] || fail "$(mon_count) monitors after refusals"
