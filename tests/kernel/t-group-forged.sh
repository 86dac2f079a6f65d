#!/bin/sh
# t-group-forged: group descriptors that parse as valid but are forged
# (t-group-edited has the malformed ones).
# (a) the leader's DMS_GROUP names, besides its own members, every region of
#     another monitored group (with higher ids, so the forged group keeps
#     its leader): the supervisor must not delete the other group's regions:
#     the other monitor keeps a group that follows its file; the forged
#     group's monitor ends or keeps a group that matches its file.
# (b) a group alias that is not UTF-8 (bytes \x01\xff: dm-stats takes any
#     bytes): "dmfilemapctl add --group" of that group, and a restart that
#     re-adopts a monitored group whose alias was changed so, must leave
#     "list --json" (valid JSON) and "info" working for every client.
# timeout: 180
. "$DMF_KT_DIR/lib.sh"
require_supervisor

cleanup() {
	stop_watch
	# a supervisor this test started, left by a failure
	[ -e "$DMF_TMP/supervisor-taken-over" ] && supervisor_alive && kill -TERM "$DMF_SUPERVISOR_PID"
}
trap cleanup EXIT

# ------------------------------------------------------------------- (a)
V=$DMF_MNT/forger.img
O=$DMF_MNT/other.img
diag_file "$V" "$O"
make_fragmented "$V" 2
make_fragmented "$O" 3
start_watch
add_create "$V"; IV=$MON_ID; GV=$MON_GROUP
add_create "$O"; IO=$MON_ID; GO=$MON_GROUP
[ "$GO" -gt "$GV" ] || fail "setup: group $GO of $O does not have higher ids than group $GV"
vm=$(group_members "$GV" | tr '\n' ',' | sed 's/,$//')
om=$(group_members "$GO" | tr '\n' ',' | sed 's/,$//')
log "forging group $GV: DMS_GROUP=forged:$vm,$om#- (claims group $GO's regions $om)"
dmsetup message "$DMF_DEV" 0 @stats_set_aux "$GV" "DMS_GROUP=forged:$vm,$om#-" || fail "@stats_set_aux $GV"
# two check intervals for the supervisor to see it
sleep 2.5
require_supervisor
for r in $(echo "$om" | tr ',' ' '); do
	region_exists "$r" || fail "region $r of the other monitored group $GO (of $O) was deleted because group $GV's descriptor was forged to claim it"
done
mon_present_id "$IO" ||
	fail "the monitor of $O (group $GO) ended (reason '$(event_field "$IO" ended reason)') because group $GV's descriptor was forged to claim its regions"
append_blocks "$O" 2
wait_until 3 mon_matches "$IO" "$O" || fail "the group of $O is not updated after group $GV was forged to claim its regions: $(mismatch)"
if mon_present_id "$IV"; then
	wait_until 3 mon_matches "$IV" "$V" || fail "the forged group's monitor $IV claims a group that does not match $V: $(mismatch)"
fi
stop_watch

# ------------------------------------------------------------------- (b)
# list_ok: list --json answers valid JSON and info answers
list_ok() {
	dmfilemapctl list --json > "$DMF_TMP/list.json" 2> "$DMF_TMP/list.err" || return 1
	jq -e '.monitors | length >= 0' "$DMF_TMP/list.json" > /dev/null 2>> "$DMF_TMP/list.err" || return 1
	dmfilemapctl info > /dev/null 2>> "$DMF_TMP/list.err"
}
list_ok || fail "setup: list --json or info fails: $(cat "$DMF_TMP/list.err")"
W=$DMF_MNT/w.img
make_fragmented "$W" 2
dmstats_filemap --nomonitor "$W"
GW=$DMS_GROUP_ID
wm=$(group_members "$GW" | tr '\n' ',' | sed 's/,$//')
dmsetup message "$DMF_DEV" 0 @stats_set_aux "$GW" "$(printf 'DMS_GROUP=\001\377:%s#-' "$wm")" || fail "@stats_set_aux $GW"
out=$(dmfilemapctl add "$W" --group "$GW" 2>&1)
log "dmfilemapctl add $W --group $GW (alias \\x01\\xff): exit $?: $out"
require_supervisor
list_ok || fail "after add --group of a group whose alias is not UTF-8: list --json or info fails: $(cat "$DMF_TMP/list.err")"
if [ -n "$(mon_id_by_path "$W")" ]; then
	dmfilemapctl remove "$W" > /dev/null || fail "dmfilemapctl remove $W"
fi
list_ok || fail "after removing that monitor: list --json or info fails: $(cat "$DMF_TMP/list.err")"

# a monitored group's alias changed so while the supervisor is down: the
# restart re-reads it
Y=$DMF_MNT/y.img
make_fragmented "$Y" 2
add_create "$Y"; GY=$MON_GROUP
ym=$(group_members "$GY" | tr '\n' ',' | sed 's/,$//')
sleep 1 # the state file is written shortly after each change
supervisor_takeover
supervisor_kill TERM
dmsetup message "$DMF_DEV" 0 @stats_set_aux "$GY" "$(printf 'DMS_GROUP=\001\377:%s#-' "$ym")" || fail "@stats_set_aux $GY"
supervisor_start
wait_until 5 list_ok || fail "after a restart that re-adopts a group whose alias is not UTF-8: list --json or info fails: $(cat "$DMF_TMP/list.err")"
supervisor_stop
