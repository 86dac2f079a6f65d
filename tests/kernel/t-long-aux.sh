#!/bin/sh
# t-long-aux: a group descriptor longer than 4096 bytes (the kernel takes
# aux_data of any length; whatever another tool wrote there is untrusted, but
# this one is valid): DMS_GROUP=alias:MEMBERS#USERAUX with 6000 bytes of user
# aux_data on the leader. "dmfilemapctl add --group" takes the group, the
# monitor keeps it matching the file as it grows, the descriptor it rewrites
# keeps "#USERAUX" intact, and the supervisor does not call the @stats_list
# rows malformed.
. "$DMF_KT_DIR/lib.sh"
require_supervisor

F=$DMF_MNT/longaux.img
diag_file "$F"
make_fragmented "$F" 2
dmstats_filemap --nomonitor "$F"
G=$DMS_GROUP_ID
M=$(group_members "$G" | tr '\n' ',' | sed 's/,$//')
[ -n "$M" ] || fail "setup: cannot read the members of group $G"
USERAUX=$(awk 'BEGIN { a = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	for (i = 0; i < 6000; i++) printf "%s", substr(a, i % 52 + 1, 1) }')
[ ${#USERAUX} = 6000 ] || fail "harness: USERAUX has ${#USERAUX} bytes"
DESC="DMS_GROUP=longaux:$M#$USERAUX"
dmsetup message "$DMF_DEV" 0 @stats_set_aux "$G" "$DESC" || fail "setup: @stats_set_aux $G (${#DESC} bytes) refused"
[ "$(region_aux "$G")" = "$DESC" ] || fail "setup: region $G does not hold the ${#DESC}-byte descriptor"
log "leader $G holds a ${#DESC}-byte descriptor (members $M)"

add_group "$F" "$G"
IF=$MON_ID
mon_present_id "$IF" || fail "monitor $IF of $F not in list --json"
[ "$(mon_field_by_id "$IF" group_id)" = "$G" ] || fail "monitor $IF has group $(mon_field_by_id "$IF" group_id), want $G"
[ "$(mon_field_by_id "$IF" alias)" = longaux ] || fail "monitor $IF has alias '$(mon_field_by_id "$IF" alias | cut -c 1-80)', want longaux"

before=$(file_extents "$F")
append_blocks "$F" 4
[ "$before" != "$(file_extents "$F")" ] || fail "setup: appending did not change the extents"
wait_until 3 mon_matches "$IF" "$F" || fail "group of $F not updated within 3 s after an append: $(mismatch)"
G2=$(mon_group_by_id "$IF")
aux=$(region_aux "$G2")
case $aux in
*"#$USERAUX") ;;
*) fail "leader $G2's aux_data no longer ends with the 6000-byte #USERAUX: ${#aux} bytes: $(printf '%s' "$aux" | cut -c 1-120)..." ;;
esac
[ "$(group_alias "$G2")" = longaux ] || fail "alias after the update: '$(group_alias "$G2" | cut -c 1-80)'"

append_blocks "$F" 2
wait_until 3 mon_matches "$IF" "$F" || fail "group of $F not updated within 3 s after a second append: $(mismatch)"
require_supervisor
SLOG=$DMF_RESULTS/$DMF_TEST.supervisord.log
if grep -i malformed "$SLOG" > "$DMF_TMP/malformed"; then
	fail "the supervisor log says: $(head -n 3 "$DMF_TMP/malformed")"
fi
