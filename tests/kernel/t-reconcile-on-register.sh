#!/bin/sh
# t-reconcile-on-register: a group made with "dmstats create --filemap
# --nomonitor" goes stale when the file grows; "dmfilemapctl add F --group G"
# corrects it at once (we allow 3 s).
. "$DMF_KT_DIR/lib.sh"
require_supervisor

F=$DMF_MNT/stale.img
diag_file "$F"
make_fragmented "$F" 3
dmstats_filemap --nomonitor "$F"
G=$DMS_GROUP_ID
group_matches_file "$G" "$F" || fail "setup: fresh dmstats group $G does not match"
[ "$(mon_count)" = 0 ] || fail "--nomonitor group got a monitor"

append_blocks "$F" 4
write_blocks "$F" 40 2
group_matches_file "$G" "$F" && fail "setup: group $G still matches after the file grew"

add_group "$F" "$G"
[ "$MON_GROUP" = "$G" ] || fail "add reported group $MON_GROUP, want $G"
wait_until 3 group_matches_file "$G" "$F" ||
	fail "group $G not corrected within 3 s of dmfilemapctl add: $(mismatch)"
n=$(file_extent_count "$F")
wait_until 3 eval '[ "$(mon_field_by_id "$MON_ID" regions)" = "$n" ]' ||
	fail "monitor reports $(mon_field_by_id "$MON_ID" regions) regions, file has $n extents"
u=$(mon_field_by_id "$MON_ID" updates)
[ "${u:-0}" -ge 1 ] || fail "monitor reports $u updates after correcting the group"
