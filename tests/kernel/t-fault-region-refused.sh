#!/bin/sh
# t-fault-region-refused: dm-stats refuses to create a region, for real: the
# kernel caps the memory of all dm-stats regions (a share of RAM; over it
# @stats_create fails with ENOMEM), and "hog" regions with many areas take
# all of it. A file change that needs new regions then fails: the supervisor
# lives on, the monitor shows the error (last_error in list, an "error"
# event), the group is left as it was, not half-built (the regions created
# before the refused one are deleted again), and once the hogs are deleted
# the next periodic pass (interval 1 s; we allow 5 s) corrects the group and
# clears last_error.
# timeout: 180
. "$DMF_KT_DIR/lib.sh"
require_supervisor

F=$DMF_MNT/refused.img
diag_file "$F"
# one extent of 16 blocks (ext4 and xfs allocate a small file in one piece)
xfs_io -f -c "pwrite -q -S 0x41 0 $((16 * 4096))" -c fsync "$F" > /dev/null || fail "write $F"
[ "$(file_extent_count "$F")" = 1 ] || fail "setup: $F has $(file_extent_count "$F") extents, want 1"
start_watch
add_create "$F"; G=$MON_GROUP
group_matches_file "$G" "$F" || fail "setup: group $G does not match right after add --create: $(mismatch)"

SZ=$(blockdev --getsz "/dev/mapper/$DMF_DEV") || fail "blockdev --getsz"
HOGS=
cleanup() {
	stop_watch
	for h in $HOGS $RESERVE; do dmsetup message "$DMF_DEV" 0 @stats_delete "$h" 2>/dev/null; done
}
trap cleanup EXIT

# A 1-area region, made first and deleted later: then room for exactly one
# more small region appears.
RESERVE=$(dmsetup message "$DMF_DEV" 0 @stats_create 0+8 /1 dmf-reserve -) || fail "setup: @stats_create of the reserve region"
# Fill: the largest region (most areas, one per sector at most) that still
# fits, again and again, until not even a 1-area region fits.
_dmf_now; t0=$_dmf_cs
n=$SZ
while [ "$n" -ge 1 ]; do
	if h=$(dmsetup message "$DMF_DEV" 0 @stats_create "0+$SZ" "/$n" dmf-hog - 2>/dev/null); then
		HOGS="$HOGS $h"
	else
		n=$((n / 2))
	fi
done
log "hog regions:$HOGS (made in $(elapsed_cs "$t0") cs); reserve region $RESERVE"
[ -n "$HOGS" ] || fail "setup: no hog region could be created"
if r=$(dmsetup message "$DMF_DEV" 0 @stats_create 0+8 /1 dmf-probe - 2> "$DMF_TMP/probe.err"); then
	dmsetup message "$DMF_DEV" 0 @stats_delete "$r"
	fail "setup: a 1-area region can still be created with the hogs in place"
fi
grep -q "Cannot allocate memory" "$DMF_TMP/probe.err" || fail "setup: the probe create failed, but not with ENOMEM: $(cat "$DMF_TMP/probe.err")"

# regions that are not ours (hogs, reserve): the group's, as "ID START LEN"
theirs() {
	all_regions | awk -v ours=" $HOGS $RESERVE " 'index(ours, " " $1 " ") == 0'
}
# members_exist: every member named by the leader's DMS_GROUP exists
members_exist() { group_attrs "$G" > /dev/null 2> "$DMF_TMP/mismatch"; }
# regions_are SET: theirs() is exactly SET (a pass may be under way: retry)
regions_are() { [ "$(theirs)" = "$1" ]; }
# flat TEXT: TEXT on one line
flat() { printf '%s' "$1" | tr '\n' ' '; }
BEFORE=$(theirs)
log "regions before: $(flat "$BEFORE")"

# the change: three holes split the extent into four pieces, none of which is
# a region yet: the supervisor must create four regions
punch "$F" 3 1
punch "$F" 7 1
punch "$F" 11 1
[ "$(file_extent_count "$F")" = 4 ] || fail "setup: $F has $(file_extent_count "$F") extents after punching, want 4"

# 1. nothing fits: the first create is refused
wait_until 5 eval '[ "$(mon_field_by_id "$MON_ID" last_error)" != null ] && [ -n "$(mon_field_by_id "$MON_ID" last_error)" ]' ||
	fail "last_error of monitor $MON_ID is '$(mon_field_by_id "$MON_ID" last_error)' 5 s after a change that needs a refused region"
ERR1=$(mon_field_by_id "$MON_ID" last_error)
log "last_error: $ERR1"
require_supervisor
dmfilemapctl info > /dev/null || fail "dmfilemapctl info fails after the refused create"
wait_until 3 has_event "$MON_ID" error || fail "no error event for monitor $MON_ID"
log "error event: $(event_field "$MON_ID" error message)"
members_exist || fail "after the refused create, group $G names regions that do not exist: $(mismatch)"
wait_until 3 regions_are "$BEFORE" ||
	fail "after the refused create, the regions changed: before '$(flat "$BEFORE")', now '$(flat "$(theirs)")'"
mon_present_id "$MON_ID" || fail "monitor $MON_ID ended after the refused create"
# the refused create is retried every interval (1 s): libdevmapper's own
# warning about it is not logged again each time
sleep 3
rep=$(sed -n 's/.*libdevmapper: //p' "$DMF_RESULTS/$DMF_TEST.supervisord.log" | sort | uniq -d)
[ -z "$rep" ] || fail "the supervisor's log repeats libdevmapper's warning at every retry: $(flat "$rep")"

# 2. room for exactly one region: each attempt creates one region, is
# refused the second and must delete the first again
c0=$(dmfilemapctl info --json | jq -r '.ioctls.stats_delete')
dmsetup message "$DMF_DEV" 0 @stats_delete "$RESERVE" || fail "@stats_delete $RESERVE (reserve)"
RESERVE=
log "reserve region deleted: room for one region"
wait_until 5 eval '[ "$(dmfilemapctl info --json | jq -r .ioctls.stats_delete)" -gt "$c0" ]' ||
	fail "no region deleted by the supervisor within 5 s of making room for one region (stats_delete ioctls: $c0, now $(dmfilemapctl info --json | jq -r .ioctls.stats_delete)): no half-built attempt was rolled back"
log "supervisor's stats_delete ioctls: $c0 -> $(dmfilemapctl info --json | jq -r .ioctls.stats_delete)"
require_supervisor
members_exist || fail "after a partly refused update, group $G names regions that do not exist: $(mismatch)"
wait_until 3 regions_are "$BEFORE" ||
	fail "after a partly refused update, the regions changed (a half-built group or a leftover region): before '$(flat "$BEFORE")', now '$(flat "$(theirs)")'"
e=$(mon_field_by_id "$MON_ID" last_error)
case $e in ""|null) fail "last_error is '$e' while the update is still refused" ;; esac
group_matches_file "$G" "$F" && fail "group $G matches the file although the update was refused"

# 3. the hogs go: the next pass builds the group and clears the error
for h in $HOGS; do
	dmsetup message "$DMF_DEV" 0 @stats_delete "$h" || fail "@stats_delete $h (hog)"
done
HOGS=
log "hog regions deleted"
wait_until 5 mon_matches "$MON_ID" "$F" || fail "group not corrected within 5 s of the hogs' deletion: $(mismatch)"
wait_until 3 eval '[ "$(mon_field_by_id "$MON_ID" last_error)" = null ]' ||
	fail "last_error still '$(mon_field_by_id "$MON_ID" last_error)' after the group was corrected"
[ "$(mon_field_by_id "$MON_ID" regions)" = 4 ] || fail "monitor reports $(mon_field_by_id "$MON_ID" regions) regions, want 4"
[ "$(all_regions | awk 'END { print NR }')" = 4 ] || fail "regions left besides the group's 4: $(flat "$(all_regions)")"
require_supervisor
