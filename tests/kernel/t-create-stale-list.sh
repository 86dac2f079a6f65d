#!/bin/sh
# t-create-stale-list: the supervisor creates a one-region group with the
# group's descriptor already in it, naming the id the kernel should give
# (the lowest free one in its last @stats_list), and so needs no
# @stats_set_aux. When another program took that id since that list, the
# descriptor must still end up naming the group's real member, and the
# other program's region must be left alone. (A group of several regions
# is made marked, then described: see t-killpoints.)
. "$DMF_KT_DIR/lib.sh"
require_supervisor

A=$DMF_MNT/a.img B=$DMF_MNT/b.img C=$DMF_MNT/c.img
diag_file "$A" "$B" "$C"
# one extent each
write_blocks "$A" 0 3
write_blocks "$B" 0 4
write_blocks "$C" 0 2
for f in "$A" "$B" "$C"; do
	[ "$(file_extent_count "$f")" = 1 ] ||
		skip "$f has $(file_extent_count "$f") extents, not 1"
done

# no periodic pass for a minute (the most --interval allows): the
# supervisor's list goes stale
supervisor_takeover
supervisor_kill TERM
supervisor_start --interval 60000

set_aux_count() { dmfilemapctl info --json | jq '.ioctls.stats_set_aux'; }

# the ids are as expected: no @stats_set_aux at all
s0=$(set_aux_count)
add_create "$A"; GA=$MON_GROUP
[ "$(set_aux_count)" = "$s0" ] ||
	fail "group $GA (predicted ids) cost $(( $(set_aux_count) - s0 )) @stats_set_aux, want 0"
group_matches_file "$GA" "$A" || fail "group $GA of $A: $(mismatch)"

# another program takes the next free id behind the supervisor's back
X=$(dmsetup message "$DMF_DEV" 0 @stats_create 0+8 /1 other -) ||
	fail "@stats_create by another program"
log "another program created region $X"
s1=$(set_aux_count)
add_create "$B"; GB=$MON_GROUP
[ "$GB" != "$X" ] || fail "group of $B got the other program's region $X as leader"
group_matches_file "$GB" "$B" || fail "group $GB of $B (stale list): $(mismatch)"
[ "$(set_aux_count)" -gt "$s1" ] ||
	fail "ids mispredicted, yet the descriptor of group $GB was not written again"
region_exists "$X" || fail "the other program's region $X is gone"
for g in $(all_groups); do
	group_members "$g" | grep -qx "$X" &&
		fail "the other program's region $X is in group $g: $(group_members "$g" | tr '\n' ' ')"
done
group_matches_file "$GA" "$A" || fail "group $GA of $A changed: $(mismatch)"

# a misprediction shows the list is stale: the next create lists again,
# and predicts right
s2=$(set_aux_count)
add_create "$C"; GC=$MON_GROUP
group_matches_file "$GC" "$C" || fail "group $GC of $C: $(mismatch)"
[ "$(set_aux_count)" = "$s2" ] ||
	fail "group $GC after a mispredicted one cost @stats_set_aux"
supervisor_stop
