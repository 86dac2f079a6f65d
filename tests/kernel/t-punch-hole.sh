#!/bin/sh
# t-punch-hole: holes punched in a monitored file split its extents; the
# group matches within 1 s (we allow 3 s).
. "$DMF_KT_DIR/lib.sh"
require_supervisor

F=$DMF_MNT/punch.img
diag_file "$F"
write_blocks "$F" 0 16
add_create "$F"
n0=$(file_extent_count "$F")

punch "$F" 4 2
punch "$F" 10 1
n1=$(file_extent_count "$F")
[ "$n1" -gt "$n0" ] || fail "setup: punching did not add extents ($n0 -> $n1)"
wait_until 3 mon_matches "$MON_ID" "$F" || fail "group not updated within 3 s after punching holes: $(mismatch)"

# a hole that removes a whole extent in the middle
punch "$F" 6 4
wait_until 3 mon_matches "$MON_ID" "$F" || fail "group not updated within 3 s after second punch: $(mismatch)"
