#!/bin/sh
# t-follow-inode-unlink-closed: a follow-inode monitor whose file is unlinked
# while no other process holds it open ends (reason "unlinked").
. "$DMF_KT_DIR/lib.sh"
require_supervisor

F=$DMF_MNT/gone.img
make_fragmented "$F" 3
start_watch
add_create "$F"
rm -f "$F"
wait_until 5 mon_gone_id "$MON_ID" || fail "monitor still listed 5 s after its file was unlinked (no other holder)"
wait_until 3 eval '[ "$(event_field "$MON_ID" ended reason)" = unlinked ]' ||
	fail "ended event has reason '$(event_field "$MON_ID" ended reason)', want unlinked"
