#!/bin/sh
# t-group-deleted: deleting a monitored group behind the supervisor's back
# ends its monitor (reason "group-deleted"): once with
# "dmstats delete --groupid G", once by deleting every region of the group
# with @stats_delete. The check interval is 1 s: we allow 5 s.
. "$DMF_KT_DIR/lib.sh"
require_supervisor

A=$DMF_MNT/del-a.img
B=$DMF_MNT/del-b.img
diag_file "$A" "$B"
make_fragmented "$A" 3
make_fragmented "$B" 3
start_watch
add_create "$A"; IA=$MON_ID; GA=$MON_GROUP
add_create "$B"; IB=$MON_ID; GB=$MON_GROUP
MB=$(group_members "$GB")

dmstats delete --groupid "$GA" "$DMF_DEV" || fail "dmstats delete --groupid $GA failed"
wait_until 5 mon_gone_id "$IA" || fail "monitor $IA still listed 5 s after its group $GA was deleted with dmstats"
mon_present_id "$IB" || fail "monitor $IB of the other group ended too"

for r in $MB; do
	dmsetup message "$DMF_DEV" 0 @stats_delete "$r" || fail "@stats_delete $r"
done
wait_until 5 mon_gone_id "$IB" || fail "monitor $IB still listed 5 s after all regions of group $GB were deleted"

wait_until 3 eval '[ "$(event_field "$IA" ended reason)" = group-deleted ]' ||
	fail "ended event of monitor $IA has reason '$(event_field "$IA" ended reason)', want group-deleted"
wait_until 3 eval '[ "$(event_field "$IB" ended reason)" = group-deleted ]' ||
	fail "ended event of monitor $IB has reason '$(event_field "$IB" ended reason)', want group-deleted"
stop_watch

# once ended, nothing more happens to the device: no regions come back
r0=$(all_regions)
append_blocks "$A" 2
append_blocks "$B" 2
sleep 2.5
[ "$(all_regions)" = "$r0" ] || fail "regions changed after the monitors ended: before '$r0', now '$(all_regions)'"
