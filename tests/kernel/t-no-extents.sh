#!/bin/sh
# t-no-extents: a monitored file truncated to length 0 has no extents left:
# its monitor ends (reason "no-extents").
. "$DMF_KT_DIR/lib.sh"
require_supervisor

F=$DMF_MNT/empty.img
diag_file "$F"
make_fragmented "$F" 3
start_watch
add_create "$F"
truncate -s 0 "$F"
wait_until 5 mon_gone_id "$MON_ID" || fail "monitor $MON_ID still listed 5 s after its file was truncated to 0"
wait_until 3 eval '[ "$(event_field "$MON_ID" ended reason)" = no-extents ]' ||
	fail "ended event has reason '$(event_field "$MON_ID" ended reason)', want no-extents"
supervisor_alive || fail "supervisor died"
