#!/bin/sh
# t-grow: a monitored file grows (append, and a write far past the end); the
# group matches within 1 s (we allow 3 s). An extent that grew in place
# keeps its region and gets one for its tail: the group has the extents'
# count of regions or more (at most 4 an extent), and the regions field
# says how many.
. "$DMF_KT_DIR/lib.sh"
require_supervisor

F=$DMF_MNT/grow.img
diag_file "$F"
make_fragmented "$F" 3
add_create "$F"
group_matches_file "$MON_GROUP" "$F" || fail "group $MON_GROUP does not match right after add --create"

before=$(file_extents "$F")
append_blocks "$F" 8
[ "$before" != "$(file_extents "$F")" ] || fail "setup: appending did not change the extents"
wait_until 3 mon_matches "$MON_ID" "$F" || fail "group not updated within 3 s after append: $(mismatch)"

before=$(file_extents "$F")
write_blocks "$F" 200 3
[ "$before" != "$(file_extents "$F")" ] || fail "setup: sparse write did not change the extents"
wait_until 3 mon_matches "$MON_ID" "$F" || fail "group not updated within 3 s after sparse write: $(mismatch)"
[ "$(mon_field_by_id "$MON_ID" state)" = active ] || fail "state $(mon_field_by_id "$MON_ID" state)"
MON_GROUP_NOW=$(mon_group_by_id "$MON_ID")
n=$(group_members "$MON_GROUP_NOW" | wc -l)
e=$(file_extent_count "$F")
[ "$(mon_field_by_id "$MON_ID" regions)" = "$n" ] || fail "regions field $(mon_field_by_id "$MON_ID" regions), the group has $n"
[ "$n" -ge "$e" ] && [ "$n" -le $((4 * e)) ] || fail "$n regions for $e extents (want $e to $((4 * e)))"
