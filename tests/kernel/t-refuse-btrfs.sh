#!/bin/sh
# t-refuse-btrfs: a file on btrfs on a dm device is refused (btrfs does not
# report where extents lie on the device): exit 1, a message naming btrfs,
# and no regions left behind. Skipped (with the reason) if this UML kernel
# has no btrfs or mkfs.btrfs is not installed.
. "$DMF_KT_DIR/lib.sh"
require_supervisor

grep -qw btrfs /proc/filesystems || skip "btrfs is not available in this UML kernel (not in /proc/filesystems)"
command -v mkfs.btrfs >/dev/null 2>&1 || skip "mkfs.btrfs not installed (Debian package btrfs-progs)"
[ -b /dev/ubdb ] || fail "harness: no second disk /dev/ubdb in the guest"

dmsetup create vol2 --table "0 $(blockdev --getsz /dev/ubdb) linear /dev/ubdb 0" || fail "dmsetup create vol2"
mkfs.btrfs -q -f /dev/mapper/vol2 > "$DMF_TMP/mkfs.out" 2>&1 || fail "mkfs.btrfs: $(cat "$DMF_TMP/mkfs.out")"
mkdir -p /run/dmf-test/btrfs
mount -t btrfs /dev/mapper/vol2 /run/dmf-test/btrfs || fail "mount btrfs"
F=/run/dmf-test/btrfs/f.img
xfs_io -f -c "pwrite -q 0 1m" -c fsync "$F" || fail "write"

expect_btrfs() { # DESC CMD...
	_d=$1; shift
	_o=$("$@" 2>&1 >/dev/null)
	_rc=$?
	log "$_d: exit $_rc: $_o"
	[ "$_rc" = 1 ] || fail "$_d: exit status $_rc, want 1 (stderr: $_o)"
	case $_o in
	"dmfilemapctl: "*[Bb]trfs*) ;;
	*) fail "$_d: message '$_o' does not start with 'dmfilemapctl: ' and name btrfs" ;;
	esac
}

expect_btrfs "btrfs --create" dmfilemapctl add "$F" --create
[ -z "$(dmsetup message vol2 0 @stats_list)" ] || fail "regions left on vol2 after refusal: $(dmsetup message vol2 0 @stats_list)"

# a group that exists on the device (made by hand) is refused too
r=$(dmsetup message vol2 0 @stats_create 0+8 /1 dmstats -) || fail "@stats_create"
dmsetup message vol2 0 @stats_set_aux "$r" "DMS_GROUP=b:$r#-" || fail "@stats_set_aux"
expect_btrfs "btrfs --group $r" dmfilemapctl add "$F" --group "$r"
[ "$(mon_count)" = 0 ] || fail "$(mon_count) monitors after refusals"
