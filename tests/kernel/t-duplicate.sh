#!/bin/sh
# t-duplicate: registering a group that is already monitored (again with
# dmfilemapctl add --group, and again through the dmfilemapd shim as dmstats
# runs it) does not create a second monitor.
. "$DMF_KT_DIR/lib.sh"
require_supervisor

F=$DMF_MNT/dup.img
diag_file "$F"
make_fragmented "$F" 3
dmstats_filemap "$F"
G=$DMS_GROUP_ID
wait_until 5 mon_present_group "$G" || fail "group $G was not registered by dmstats/dmfilemapd"
ID=$(mon_jq '.monitors[0].id')

out=$(dmfilemapctl add "$F" --group "$G" 2>&1) || fail "second dmfilemapctl add: exit $?: $out"
log "$out"
case $out in *"(already monitored)"*) ;; *) fail "second add did not say '(already monitored)': $out" ;; esac
parse_add_line "$out" || fail "cannot parse: $out"
[ "$MON_ID" = "$ID" ] || fail "second add reported monitor $MON_ID, the existing one is $ID"

# the shim, as dmstats runs it: fd, group, path, mode, foreground, verbose
dmfilemapd 7 "$G" "$F" inode 0 0 7< "$F" || fail "second dmfilemapd registration exited $?"
# and with follow path: still the same group, so still one monitor
dmfilemapd 7 "$G" "$F" path 0 0 7< "$F" || log "dmfilemapd with mode path for a monitored group exited $?"
sleep 1
[ "$(mon_count_group "$G")" = 1 ] || fail "$(mon_count_group "$G") monitors for group $G"
[ "$(mon_count)" = 1 ] || fail "$(mon_count) monitors in all"

# and the one monitor works
append_blocks "$F" 3
wait_until 3 mon_matches "$ID" "$F" || fail "group not updated: $(mismatch)"
