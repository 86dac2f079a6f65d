#!/bin/sh
# t-follow-path-gone: a follow-path monitor whose path is removed and not
# re-created ends (reason "path-gone") after about 1 s (we allow 5 s).
. "$DMF_KT_DIR/lib.sh"
require_supervisor

F=$DMF_MNT/p.gone
make_fragmented "$F" 3
start_watch
add_create "$F" --follow path
rm -f "$F"
wait_until 5 mon_gone_id "$MON_ID" || fail "monitor still listed (state '$(mon_field_by_id "$MON_ID" state)') 5 s after its path was removed"
wait_until 3 eval '[ "$(event_field "$MON_ID" ended reason)" = path-gone ]' ||
	fail "ended event has reason '$(event_field "$MON_ID" ended reason)', want path-gone"
