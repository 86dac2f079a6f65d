#!/bin/sh
# t-leader-freed: the extent under the group's leader region is freed (hole
# punched over it): the leader region is deleted, the group is re-formed under
# its new lowest member id, the monitor follows (group_id changes, a
# "regrouped" event with old_group_id), and the group matches the file.
. "$DMF_KT_DIR/lib.sh"
require_supervisor

F=$DMF_MNT/leader.img
diag_file "$F"
make_fragmented "$F" 4
start_watch
add_create "$F"
G=$MON_GROUP
group_matches_file "$G" "$F" || fail "group $G does not match right after add --create"

lstart=$(all_regions | awk -v g="$G" '$1 == g { print $2 }')
[ -n "$lstart" ] || fail "setup: no leader region $G"
set -- $(file_extent_logical "$F" "$lstart")
[ $# -eq 2 ] || fail "setup: no extent of $F starts at sector $lstart"
log "leader region $G at sector $lstart = file sectors $1+$2; punching it"
xfs_io -c "fpunch $(($1 * 512)) $(($2 * 512))" -c fsync "$F" || fail "fpunch"

regrouped() {
	NG=$(mon_group_by_id "$MON_ID")
	[ -n "$NG" ] && [ "$NG" != "$G" ] && group_matches_file "$NG" "$F"
}
wait_until 3 regrouped ||
	fail "monitor's group is '$NG' (was $G) and/or does not match 3 s after the leader's extent was freed: $(mismatch)"
log "group re-formed: $G -> $NG"
low=$(group_members "$NG" | sort -n | head -n 1)
[ "$low" = "$NG" ] || fail "new group id $NG is not its lowest member ($low)"
region_exists "$G" && fail "old leader region $G still exists: $(region_aux "$G")"
wait_until 3 eval '[ "$(event_field "$MON_ID" regrouped old_group_id)" = "$G" ]' ||
	fail "no regrouped event with old_group_id $G (got '$(event_field "$MON_ID" regrouped old_group_id)')"
[ "$(event_field "$MON_ID" regrouped group_id)" = "$NG" ] ||
	fail "regrouped event has group_id '$(event_field "$MON_ID" regrouped group_id)', want $NG"
# and the monitor goes on with the new group
append_blocks "$F" 3
wait_until 3 mon_matches "$MON_ID" "$F" || fail "re-formed group not updated after growth: $(mismatch)"
