#!/bin/sh
# t-aux-forms: both forms of group descriptor are monitored and updated:
#   O: regions made by hand with @stats_create, a decoy region among them, and
#      the quoted descriptor DMS_GROUP="x":A-B,C#- set with @stats_set_aux;
#   B: a group made by dmfilemapctl add --create with an alias holding a
#      space and a tab (Debian's dmstats cannot make one).
. "$DMF_KT_DIR/lib.sh"
require_supervisor

O=$DMF_MNT/quoted.img
B=$DMF_MNT/spaced.img
diag_file "$O" "$B"
make_fragmented "$O" 3

set -- $(file_extents "$O" | tr '\n' ' ')
[ $# -eq 6 ] || fail "setup: expected 3 extents, got: $*"
r0=$(dmsetup message "$DMF_DEV" 0 @stats_create "$1+$2" /1 dmstats -) || fail "@stats_create"
r1=$(dmsetup message "$DMF_DEV" 0 @stats_create "$3+$4" /1 dmstats -) || fail "@stats_create"
rd=$(dmsetup message "$DMF_DEV" 0 @stats_create "8+8" /1 dmstats -) || fail "@stats_create"
r2=$(dmsetup message "$DMF_DEV" 0 @stats_create "$5+$6" /1 dmstats -) || fail "@stats_create"
dmsetup message "$DMF_DEV" 0 @stats_set_aux "$r0" "DMS_GROUP=\"x\":$r0-$r1,$r2#-" || fail "@stats_set_aux"
log "$(stats_list)"
group_matches_file "$r0" "$O" || fail "setup: hand-made group does not match: $(mismatch)"

add_group "$O" "$r0"
IO=$MON_ID
[ "$MON_REGIONS" = 3 ] || fail "add reported $MON_REGIONS regions, want 3"
[ "$(mon_field_by_id "$IO" alias)" = x ] || fail "alias of the quoted-form group: '$(mon_field_by_id "$IO" alias)'"
append_blocks "$O" 3
write_blocks "$O" 60 1
wait_until 3 mon_matches "$IO" "$O" || fail "quoted-form group not updated: $(mismatch)"
[ "$(group_alias "$(mon_group_by_id "$IO")")" = x ] || fail "alias after update: '$(group_alias "$(mon_group_by_id "$IO")")'"
all_regions | awk -v d="$rd" '$1 == d && $2 == 8 && $3 == 8 { f = 1 } END { exit !f }' ||
	fail "the decoy region $rd (not a member) was changed or deleted"

alias=$(printf 'a b\tc')
make_fragmented "$B" 3
add_create "$B" --alias "$alias"
IB=$MON_ID
[ "$(group_alias "$MON_GROUP")" = "$alias" ] || fail "alias in aux_data: '$(group_alias "$MON_GROUP")' ($(region_aux "$MON_GROUP"))"
[ "$(mon_field_by_id "$IB" alias)" = "$alias" ] || fail "alias in list --json: '$(mon_field_by_id "$IB" alias)'"
group_matches_file "$MON_GROUP" "$B" || fail "spaced-alias group does not match: $(mismatch)"
append_blocks "$B" 3
write_blocks "$B" 80 1
wait_until 3 mon_matches "$IB" "$B" || fail "spaced-alias group not updated: $(mismatch)"
[ "$(group_alias "$(mon_group_by_id "$IB")")" = "$alias" ] || fail "alias after update: '$(group_alias "$(mon_group_by_id "$IB")")'"
mon_matches "$IO" "$O" || fail "quoted-form group disturbed: $(mismatch)"
