#!/bin/sh
# t-follow-path-recreate: a follow-path monitor whose path is removed and a
# new file written there soon after is remapped to the new file: dmfilemapd(8)
# gives a missing path about 1 s to come back (we allow 3 s to remap).
#  1. "rm F" then one xfs_io -f that creates and writes F (as "cp G F" does);
#  2. "rm F", an empty F created, and written 0.3 s later: the new file is
#     empty for a moment, well within the grace (a supervisor that ends the
#     monitor with "no extents" at that moment fails here; see the report).
. "$DMF_KT_DIR/lib.sh"
require_supervisor

F=$DMF_MNT/p.db
diag_file "$F"
make_fragmented "$F" 3
add_create "$F" --follow path

rm -f "$F"
make_fragmented "$F" 4
wait_until 3 mon_matches "$MON_ID" "$F" ||
	fail "1: group not remapped to the re-created file within 3 s: $(mismatch)"
[ "$(mon_field_by_id "$MON_ID" state)" = active ] || fail "1: state $(mon_field_by_id "$MON_ID" state)"

rm -f "$F"
: > "$F"
sleep 0.3
make_fragmented "$F" 2
wait_until 3 mon_matches "$MON_ID" "$F" ||
	fail "2: group not remapped to a file re-created empty and written 0.3 s later: $(mismatch)"
[ "$(mon_field_by_id "$MON_ID" state)" = active ] || fail "2: state $(mon_field_by_id "$MON_ID" state)"
