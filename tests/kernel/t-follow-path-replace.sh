#!/bin/sh
# t-follow-path-replace: a follow-path monitor is remapped when a new file is
# renamed over its path (within about 1 s: we allow 3 s), each time.
. "$DMF_KT_DIR/lib.sh"
require_supervisor

F=$DMF_MNT/p.db
N=$DMF_MNT/p.db.new
diag_file "$F"
make_fragmented "$F" 3
add_create "$F" --follow path
[ "$(mon_field_by_id "$MON_ID" mode)" = path ] || fail "mode is $(mon_field_by_id "$MON_ID" mode)"

make_fragmented "$N" 5
mv "$N" "$F" || fail "mv"
wait_until 3 mon_matches "$MON_ID" "$F" || fail "group not remapped to the new file within 3 s of rename: $(mismatch)"
[ "$(mon_field_by_id "$MON_ID" regions)" = 5 ] || fail "regions $(mon_field_by_id "$MON_ID" regions), want 5"

# the new file is followed: it grows
append_blocks "$F" 3
wait_until 3 mon_matches "$MON_ID" "$F" || fail "replacement file's growth not followed: $(mismatch)"

# and again: the monitor follows each replacement
make_fragmented "$N" 2
mv "$N" "$F" || fail "mv"
wait_until 3 mon_matches "$MON_ID" "$F" || fail "group not remapped to the second replacement within 3 s: $(mismatch)"
[ "$(mon_field_by_id "$MON_ID" state)" = active ] || fail "state $(mon_field_by_id "$MON_ID" state)"
