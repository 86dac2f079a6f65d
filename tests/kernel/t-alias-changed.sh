#!/bin/sh
# t-alias-changed: another tool changes the alias of a monitored group (it
# rewrites the leader's descriptor with @stats_set_aux, same members, alias
# "renamed x"): "dmfilemapctl list --json" shows the new alias within a few
# seconds (groups are checked once per 1 s interval), and when the monitor
# next rewrites the descriptor it keeps the new alias, not the old one.
. "$DMF_KT_DIR/lib.sh"
require_supervisor

F=$DMF_MNT/alias.img
diag_file "$F"
make_fragmented "$F" 3
add_create "$F" --alias before
IF=$MON_ID; G=$MON_GROUP
[ "$(mon_field_by_id "$IF" alias)" = before ] || fail "setup: alias '$(mon_field_by_id "$IF" alias)', want before"
M=$(group_members "$G" | tr '\n' ',' | sed 's/,$//')
[ -n "$M" ] || fail "setup: cannot read the members of group $G"
# the kernel splits the message at white space unless escaped
dmsetup message "$DMF_DEV" 0 @stats_set_aux "$G" "DMS_GROUP=renamed\\ x:$M#-" || fail "@stats_set_aux $G"
[ "$(group_alias "$G")" = "renamed x" ] || fail "setup: the kernel's alias is '$(group_alias "$G")' ($(region_aux "$G"))"
log "alias of group $G changed to 'renamed x' behind the supervisor's back"
alias_is() { [ "$(mon_field_by_id "$IF" alias)" = "$1" ]; }
wait_until 3 alias_is "renamed x" || fail "list --json shows alias '$(mon_field_by_id "$IF" alias)' 3 s after it was changed to 'renamed x'"

append_blocks "$F" 4
write_blocks "$F" 70 1
wait_until 3 mon_matches "$IF" "$F" || fail "group not updated after the rename: $(mismatch)"
G2=$(mon_group_by_id "$IF")
[ "$(group_alias "$G2")" = "renamed x" ] || fail "after an update the kernel's alias is '$(group_alias "$G2")', want 'renamed x' ($(region_aux "$G2"))"
alias_is "renamed x" || fail "after an update list --json shows alias '$(mon_field_by_id "$IF" alias)'"
