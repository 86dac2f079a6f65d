#!/bin/sh
# t-follow-inode-unlink: a follow-inode monitor whose file is unlinked while
# another process holds it open goes on (state "unlinked"); when that process
# exits, the monitor ends (reason "unlinked") within a few seconds (we allow 10).
. "$DMF_KT_DIR/lib.sh"
require_supervisor

F=$DMF_MNT/held.img
make_fragmented "$F" 3
start_watch
add_create "$F"

sleep 1000 < "$F" &
HOLDER=$!
wait_until 3 eval '[ "$(readlink "/proc/$HOLDER/fd/0")" = "$F" ]' || fail "setup: holder does not hold $F"
rm -f "$F"

wait_until 3 mon_state_is "$MON_ID" unlinked ||
	fail "monitor state is '$(mon_field_by_id "$MON_ID" state)' 3 s after unlink with a holder, want unlinked"
sleep 2
mon_present_id "$MON_ID" || fail "monitor ended although another process holds the unlinked file"
mon_state_is "$MON_ID" unlinked || fail "state changed to '$(mon_field_by_id "$MON_ID" state)'"

kill "$HOLDER"
wait "$HOLDER" 2>/dev/null
wait_until 10 mon_gone_id "$MON_ID" || fail "monitor still listed 10 s after the last other holder closed the unlinked file"
wait_until 3 eval '[ "$(event_field "$MON_ID" ended reason)" = unlinked ]' ||
	fail "ended event has reason '$(event_field "$MON_ID" ended reason)', want unlinked"
