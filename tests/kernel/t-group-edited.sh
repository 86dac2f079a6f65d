#!/bin/sh
# t-group-edited: monitored groups edited behind the supervisor's back.
# (a) "dmstats delete --regionid R" of a non-leader member while the file
#     grows: the group is repaired (matches within 3 s once growth stops).
# (b) "dmstats ungroup --groupid G": the group no longer exists; the monitor
#     ends (reason "group-deleted"), the supervisor lives on.
# (c) garbage written into group leaders' aux_data (@stats_set_aux): the
#     supervisor never crashes (it answers info), every affected monitor
#     either ends or keeps a group that matches its file (none claims a group
#     that does not match the kernel's), and an unrelated monitored group on
#     the same device keeps being updated.
# timeout: 300
. "$DMF_KT_DIR/lib.sh"
require_supervisor

# ------------------------------------------------------------------- (a)
F=$DMF_MNT/edit.img
diag_file "$F"
make_fragmented "$F" 4
start_watch
add_create "$F"; IF=$MON_ID; G=$MON_GROUP
group_matches_file "$G" "$F" || fail "setup: group $G does not match right after add --create: $(mismatch)"

# the file grows by one block every 0.25 s for about 3 s
( i=0; while [ $i -lt 12 ]; do append_blocks "$F" 1; sleep 0.25; i=$((i + 1)); done ) > "$DMF_TMP/grow.out" 2>&1 &
GROW=$!
sleep 1
# R: the non-leader member that starts lowest on the device (an extent the
# appends do not touch)
all_regions > "$DMF_TMP/regions"
group_members "$G" > "$DMF_TMP/members" || fail "cannot read the members of group $G"
R=$(awk -v g="$G" 'NR == FNR { m[$1] = 1; next } ($1 in m) && $1 != g { print $2, $1 }' \
	"$DMF_TMP/members" "$DMF_TMP/regions" | sort -n | awk 'NR == 1 { print $2 }')
[ -n "$R" ] || fail "setup: group $G has no member besides its leader"
log "dmstats delete --regionid $R (member of group $G) while $F grows"
out=$(dmstats delete --regionid "$R" "$DMF_DEV" 2>&1) || fail "dmstats delete --regionid $R $DMF_DEV failed: $out"
wait "$GROW"
[ -s "$DMF_TMP/grow.out" ] && fail "growing $F failed: $(cat "$DMF_TMP/grow.out")"
log "growth stopped"
wait_until 3 mon_matches "$IF" "$F" ||
	fail "group of $F not repaired within 3 s after member $R was deleted with dmstats and the growth stopped: $(mismatch)"
G=$(mon_group_by_id "$IF")
log "group $G repaired: $(group_members "$G" | tr '\n' ' ')"
# regions in no group are left over from the unsynchronised edit (dmstats
# and the supervisor both rewrite the descriptor): worth a note, not a
# failure of the supervisor
all_regions > "$DMF_TMP/regions"
group_members "$G" > "$DMF_TMP/members"
orphans=$(awk 'NR == FNR { m[$1] = 1; next } !($1 in m) { print $1 }' "$DMF_TMP/members" "$DMF_TMP/regions" | tr '\n' ' ')
[ -z "$orphans" ] || log "note: regions in no group after the edit: $orphans"

# ------------------------------------------------------------------- (b)
out=$(dmstats ungroup --groupid "$G" "$DMF_DEV" 2>&1) || fail "dmstats ungroup --groupid $G $DMF_DEV failed: $out"
log "$out"
group_exists "$G" && fail "setup: group $G still exists after dmstats ungroup"
wait_until 5 mon_gone_id "$IF" || fail "monitor $IF still listed 5 s after its group $G was ungrouped"
wait_until 3 eval '[ "$(event_field "$IF" ended reason)" = group-deleted ]' ||
	fail "ended event of monitor $IF has reason '$(event_field "$IF" ended reason)', want group-deleted"
require_supervisor
dmfilemapctl info > /dev/null || fail "dmfilemapctl info fails after the ungroup"

# ------------------------------------------------------------------- (c)
U=$DMF_MNT/unrelated.img
diag_file "$U"
make_fragmented "$U" 3
add_create "$U"; IU=$MON_ID

# garbage N LEADER MEMBERS: write the Nth garbage value for a group whose
# leader is LEADER and members MEMBERS (its descriptor's list) to
# $DMF_TMP/garbage; print its name; return 1 past the last one.
NGARBAGE=11
garbage() {
	_gf=$DMF_TMP/garbage
	case $1 in
	1) printf 'DMS_GROUP=:' > "$_gf"; echo "DMS_GROUP=:" ;;
	2) printf 'DMS_GROUP=x:' > "$_gf"; echo "DMS_GROUP=x:" ;;
	3) printf 'DMS_GROUP="unterminated' > "$_gf"; echo 'DMS_GROUP="unterminated' ;;
	4) printf 'DMS_GROUP=a:99999999999999999999' > "$_gf"; echo "DMS_GROUP=a:99999999999999999999" ;;
	5) printf 'DMS_GROUP=a:5-2' > "$_gf"; echo "DMS_GROUP=a:5-2" ;;
	6) printf 'DMS_GROUP=a:0-2147483647' > "$_gf"; echo "DMS_GROUP=a:0-2147483647" ;;
	7) awk -v m="$3" 'BEGIN { s = "DMS_GROUP="; for (i = 0; i < 4000; i++) s = s "L"; printf "%s:%s#-", s, m }' > "$_gf"
	   echo "alias of 4000 chars, right members" ;;
	8) awk -v m="$3" 'BEGIN { s = "DMS_GROUP="; for (i = 0; i < 5000; i++) s = s "M"; printf "%s:%s#-", s, m }' > "$_gf"
	   echo "alias of 5000 chars, right members" ;;
	9) # as many ranges as one argument holds (128 KiB, MAX_ARG_STRLEN; the
	   # kernel takes aux_data as one argument): 100000 do not fit
	   awk -v l="$2" 'BEGIN { n = int(120000 / (length(l) + 1)); printf "DMS_GROUP=many:%s", l
		for (i = 1; i < n; i++) printf ",%s", l; printf "#-" }' > "$_gf"
	   echo "member list of $(( 120000 / (${#2} + 1) )) ranges" ;;
	10) printf 'DMS_GROUP=\001\377:%s#-' "$3" > "$_gf"; echo 'DMS_GROUP=\x01\xff:MEMBERS#-' ;;
	11) printf '\001\377' > "$_gf"; echo '\x01\xff' ;;
	*) return 1 ;;
	esac
}

# settled ID FILE: monitor ID is gone, or listed with a group matching FILE
settled() {
	_st_j=$(dmfilemapctl list --json) || { echo "dmfilemapctl list --json failed" > "$DMF_TMP/mismatch"; return 1; }
	_st_g=$(printf '%s\n' "$_st_j" | jq -r --arg n "$1" '.monitors[] | select(.id == ($n|tonumber)) | .group_id') ||
		{ echo "jq cannot read the list: $(printf '%s' "$_st_j" | head -c 300)" > "$DMF_TMP/mismatch"; return 1; }
	[ -z "$_st_g" ] && return 0
	group_matches_file "$_st_g" "$2"
}

i=1
KEPT=
while garbage "$i" 0 0 > /dev/null; do
	V=$DMF_MNT/garbage-$i.img
	make_fragmented "$V" 2
	add_create "$V"; IV=$MON_ID; L=$MON_GROUP
	group_members "$L" > "$DMF_TMP/members" || fail "setup: cannot read group $L"
	members=$(awk '{ printf "%s%s", (NR > 1 ? "," : ""), $1 }' "$DMF_TMP/members")
	name=$(garbage "$i" "$L" "$members")
	log "garbage $i into leader $L of monitor $IV: $name"
	dmsetup message "$DMF_DEV" 0 @stats_set_aux "$L" "$(cat "$DMF_TMP/garbage")" ||
		fail "setup: @stats_set_aux $L ($name) refused by the kernel"
	# the kernel kept it as written, unless the value is a valid descriptor
	# (garbage 9 names only the leader, many times) that the supervisor
	# has corrected already
	[ "$(region_aux "$L")" = "$(cat "$DMF_TMP/garbage")" ] || group_exists "$L" ||
		fail "setup: region $L does not hold garbage $i ($name), nor a valid group descriptor"

	# the unrelated group is still kept up to date
	append_blocks "$U" 1
	wait_until 3 mon_matches "$IU" "$U" ||
		fail "after garbage $i ($name) in group $L: the unrelated group of $U not updated within 3 s: $(mismatch)"
	require_supervisor
	dmfilemapctl info > /dev/null || fail "after garbage $i ($name): dmfilemapctl info fails"

	# the affected monitor ends or keeps a correct view, and stays so
	wait_until 5 settled "$IV" "$V" ||
		fail "after garbage $i ($name): monitor $IV still claims a group that does not match $V 5 s later: $(mismatch)"
	if mon_present_id "$IV"; then
		append_blocks "$V" 2
		wait_until 3 settled "$IV" "$V" ||
			fail "after garbage $i ($name): monitor $IV kept, but its group does not follow $V's growth: $(mismatch)"
		KEPT="$KEPT $IV"
		g=$(mon_group_by_id "$IV")
		log "monitor $IV kept: group $g; list shows alias '$(mon_field_by_id "$IV" alias | cut -c 1-40)', the kernel's has $(group_alias "$g" | awk '{ n += length($0) } END { print n + 0 }') bytes"
	else
		log "monitor $IV ended: reason '$(event_field "$IV" ended reason)': $(event_field "$IV" ended message)"
	fi
	i=$((i + 1))
done
[ "$i" -gt "$NGARBAGE" ] || fail "harness: only $((i - 1)) garbage values written"

# after a few more passes: every monitor still listed matches, no two share
# a group, and the unrelated one still follows its file
sleep 2.5
require_supervisor
dmfilemapctl info > /dev/null || fail "dmfilemapctl info fails at the end"
dmfilemapctl list --json > "$DMF_TMP/list.json" || fail "dmfilemapctl list --json fails at the end"
jq -r '.monitors[] | "\(.id) \(.group_id) \(.path)"' "$DMF_TMP/list.json" > "$DMF_TMP/mons" ||
	fail "jq cannot read the final list: $(head -c 300 "$DMF_TMP/list.json")"
dups=$(awk '{ print $2 }' "$DMF_TMP/mons" | sort | uniq -d | tr '\n' ' ')
[ -z "$dups" ] || fail "several monitors claim group(s) $dups"
while read -r id g p; do
	group_matches_file "$g" "$p" || fail "monitor $id ($p) claims group $g, which does not match the file: $(mismatch)"
done < "$DMF_TMP/mons"
log "monitors left: $(awk '{ printf "%s ", $1 }' "$DMF_TMP/mons") (kept after garbage:$KEPT)"
append_blocks "$U" 2
wait_until 3 mon_matches "$IU" "$U" || fail "unrelated group of $U not updated at the end: $(mismatch)"
