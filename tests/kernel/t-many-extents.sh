#!/bin/sh
# t-many-extents: a file with 1,000 extents that are not physically adjacent
# is monitored with dmfilemapctl add --create: 1,000 regions, the group
# matches; the file grows: the group matches again; the supervisor lives.
# timeout: 600
. "$DMF_KT_DIR/lib.sh"
require_supervisor

F=$DMF_MNT/many.img
make_fragmented "$F" 1000
n=$(file_extent_count "$F")
log "$F: $n extents"
[ "$n" -ge 1000 ] || fail "setup: only $n extents"

add_create "$F"
[ "$MON_REGIONS" = "$n" ] || fail "add --create reported $MON_REGIONS regions for $n extents"
group_matches_file "$MON_GROUP" "$F" || fail "group does not match after add --create: $(mismatch)"

append_blocks "$F" 8
write_blocks "$F" 2100 1
write_blocks "$F" 2200 1
wait_until 120 mon_matches "$MON_ID" "$F" || fail "group not updated within 120 s after growth: $(mismatch)"
log "matched again: $(mon_field_by_id "$MON_ID" regions) regions"
supervisor_alive || fail "supervisor died"
[ "$(mon_field_by_id "$MON_ID" state)" = active ] || fail "state $(mon_field_by_id "$MON_ID" state)"
[ "$(mon_field_by_id "$MON_ID" last_error)" = null ] || fail "last_error: $(mon_field_by_id "$MON_ID" last_error)"
