#!/bin/sh
# t-truncate: a monitored file is truncated (to a block boundary, then into
# the middle of a block); the group matches within 1 s (we allow 3 s).
. "$DMF_KT_DIR/lib.sh"
require_supervisor

F=$DMF_MNT/trunc.img
diag_file "$F"
make_fragmented "$F" 6
add_create "$F"
[ "$MON_REGIONS" = 6 ] || fail "add --create reported $MON_REGIONS regions for 6 extents"

truncate -s $((5 * 4096)) "$F"
[ "$(file_extent_count "$F")" = 3 ] || fail "setup: $(file_extent_count "$F") extents after truncation, want 3"
wait_until 3 mon_matches "$MON_ID" "$F" || fail "group not updated within 3 s after truncate: $(mismatch)"

truncate -s 4100 "$F"
[ "$(file_extent_count "$F")" -ge 1 ] || fail "setup: no extents left"
wait_until 3 mon_matches "$MON_ID" "$F" || fail "group not updated within 3 s after second truncate: $(mismatch)"
wait_until 3 eval '[ "$(mon_field_by_id "$MON_ID" regions)" = "$(file_extent_count "$F")" ]' ||
	fail "regions field $(mon_field_by_id "$MON_ID" regions) is not the extent count"
