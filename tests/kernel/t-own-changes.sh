#!/bin/sh
# t-own-changes: after the supervisor changes a group (a file grew), the
# next lists show just its own change, and no pass checks every monitor
# (Info's passes.full stays); a region another program makes is a change
# not ours, and the next pass checks them all. Both groups stay right.
. "$DMF_KT_DIR/lib.sh"
require_supervisor

passes() { dmfilemapctl info --json | jq -r ".passes.$1"; }

A=$DMF_MNT/own-a.img
B=$DMF_MNT/own-b.img
diag_file "$A" "$B"
make_fragmented "$A" 2
make_fragmented "$B" 2
add_create "$A"
MON_A=$MON_ID
add_create "$B"
MON_B=$MON_ID
sleep 2.5 # settled: the lists after the creates are behind us
full0=$(passes full)
total0=$(passes total)
log "passes before the growth: $total0, $full0 of them full"

before=$(file_extents "$A")
append_blocks "$A" 8
[ "$before" != "$(file_extents "$A")" ] || fail "setup: appending did not change the extents"
wait_until 3 mon_matches "$MON_A" "$A" || fail "group not updated within 3 s after append: $(mismatch)"
sleep 2.5 # two check intervals or more: each lists what our update left
full1=$(passes full)
total1=$(passes total)
log "after the growth: $total1 passes, $full1 full"
[ "$total1" -ge $((total0 + 3)) ] || fail "only $((total1 - total0)) passes in the 2.5 s after a growth"
[ "$full1" = "$full0" ] || fail "$((full1 - full0)) passes checked every monitor after the supervisor's own change (the list did not match what it made)"

out=$(dmsetup message "$DMF_DEV" 0 "@stats_create 0+8 /1 t-own theirs") ||
	fail "@stats_create: $out"
theirs=$(echo "$out" | tr -d '[:space:]')
wait_until 3 sh -c '[ "$(dmfilemapctl info --json | jq -r .passes.full)" -gt '"$full1"' ]' ||
	fail "no full check within 3 s of another program's region"
dmsetup message "$DMF_DEV" 0 "@stats_delete $theirs" || fail "@stats_delete $theirs"
mon_matches "$MON_A" "$A" || fail "group of $A: $(mismatch)"
mon_matches "$MON_B" "$B" || fail "group of $B: $(mismatch)"
! region_exists "$theirs" || fail "region $theirs not deleted"
