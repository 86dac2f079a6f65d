#!/bin/sh
# shellcheck disable=SC2016,SC2094 # jq filters and eval strings; FD 3 only reads
# t-reregister: registering a group that is already monitored with other
# options (dmfilemapd(8): "to change the options previously used") makes the
# existing monitor take the new file, path and mode: the same monitor id and
# group, a "changed" event, the new mode and path in the list, and the group
# keeps matching the file. With the same options nothing changes.
#  1. dmstats create --filemap (follow inode), then the shim by hand with
#     mode path: a file renamed over the path is followed.
#  2. follow path -> inode (shim): the monitor follows a rename of the file.
#  3. the shim from another path of the same file (a hard link): path taken.
#  4. the same shim command twice, and dmfilemapctl add with the same options:
#     "(already monitored)", no "changed" event; dmfilemapctl add --follow
#     path: "(already monitored: options changed)".
#  5. the shim in the foreground with other options follows the monitor and
#     exits 0 once it is removed, after printing its "ended" event.
# timeout: 180
# shellcheck source=/dev/null # lib.sh, in the guest
. "$DMF_KT_DIR/lib.sh"
require_supervisor

FG_PID=
cleanup() {
	[ -n "$FG_PID" ] && kill "$FG_PID" 2>/dev/null
	stop_watch
}
trap cleanup EXIT

# changed_count ID: number of "changed" events of monitor ID seen.
changed_count() {
	jq -r --arg n "$1" 'select(.id == ($n|tonumber) and .event == "changed") | .id' \
		"$DMF_TMP/events.json" 2>/dev/null | wc -l | tr -d ' '
}
# group_ids G: the ids of the monitors of group G, space-separated.
group_ids() {
	mon_jq '[.monitors[] | select(.group_id == ($g|tonumber)) | .id | tostring] | join(" ")' --arg g "$1"
}
# check_one G ID WHAT: G has one monitor, and it is ID.
check_one() {
	_co=$(group_ids "$1")
	[ "$_co" = "$2" ] || fail "$3: monitors of group $1: got '$_co', want the one monitor $2"
}
# check_field ID FIELD WANT WHAT
check_field() {
	_cf=$(mon_field_by_id "$1" "$2")
	[ "$_cf" = "$3" ] || fail "$4: monitor $1 $2: got '$_cf', want '$3'"
}
# check_changed ID N MESSAGE WHAT: the Nth "changed" event of ID arrives
# (within 3 s) and says MESSAGE.
check_changed() {
	_cc_id=$1 _cc_n=$2 # globals: eval runs inside wait_until
	wait_until 3 eval '[ "$(changed_count "$_cc_id")" -ge "$_cc_n" ]' ||
		fail "$4: 'changed' events of monitor $1: got $(changed_count "$1"), want $2"
	_cc=$(changed_count "$1")
	[ "$_cc" = "$2" ] || fail "$4: 'changed' events of monitor $1: got $_cc, want $2"
	_cc=$(event_field "$1" changed message)
	[ "$_cc" = "$3" ] || fail "$4: 'changed' message: got '$_cc', want '$3'"
	_cc=$(event_field "$1" changed group_id)
	[ "$_cc" = "$(mon_group_by_id "$1")" ] ||
		fail "$4: 'changed' event group_id '$_cc', the monitor's group is $(mon_group_by_id "$1")"
}

start_watch

# ---- 1. inode (from dmstats) -> path, then a file renamed over the path
F1=$DMF_MNT/one.img
N1=$DMF_MNT/one.img.new
diag_file "$F1"
make_fragmented "$F1" 3
dmstats_filemap "$F1"
G1=$DMS_GROUP_ID
wait_until 5 mon_present_group "$G1" || fail "group $G1 made by dmstats create --filemap was not registered within 5 s"
ID1=$(group_ids "$G1")
check_one "$G1" "$ID1" "after dmstats create --filemap"
check_field "$ID1" mode inode "after dmstats create --filemap"

dmfilemapd 3 "$G1" "$F1" path 0 0 3< "$F1" || fail "dmfilemapd 3 $G1 $F1 path 0 0: exit $?"
check_one "$G1" "$ID1" "inode -> path"
check_field "$ID1" mode path "inode -> path"
check_field "$ID1" path "$F1" "inode -> path"
check_changed "$ID1" 1 "options changed: follow path (was inode)" "inode -> path"
group_matches_file "$G1" "$F1" || fail "inode -> path: group $G1 does not match $F1: $(mismatch)"

make_fragmented "$N1" 5
mv "$N1" "$F1" || fail "mv $N1 $F1"
wait_until 3 mon_matches "$ID1" "$F1" ||
	fail "inode -> path: group not remapped to the file renamed over $F1 within 3 s (still following the old inode?): $(mismatch)"
check_field "$ID1" regions 5 "inode -> path, after the replacement"
# the new file's regions may form a group under another id: follow it
G1=$(mon_group_by_id "$ID1")
check_one "$G1" "$ID1" "inode -> path, after the replacement"
log "1: inode -> path ok, replacement followed"

# ---- 2. path -> inode, then a rename of the file
F2=$DMF_MNT/two.img
R2=$DMF_MNT/two-renamed.img
diag_file "$R2"
make_fragmented "$F2" 4
add_create "$F2" --follow path
ID2=$MON_ID
G2=$MON_GROUP
check_field "$ID2" mode path "add --create --follow path"

dmfilemapd 3 "$G2" "$F2" inode 0 0 3< "$F2" || fail "dmfilemapd 3 $G2 $F2 inode 0 0: exit $?"
check_one "$G2" "$ID2" "path -> inode"
check_field "$ID2" mode inode "path -> inode"
check_changed "$ID2" 1 "options changed: follow inode (was path)" "path -> inode"

mv "$F2" "$R2" || fail "mv $F2 $R2"
wait_until 3 eval '[ "$(mon_field_by_id "$ID2" path)" = "$R2" ]' ||
	fail "path -> inode: monitor path after mv: got '$(mon_field_by_id "$ID2" path)', want the new name $R2"
check_field "$ID2" state active "path -> inode, after mv"
append_blocks "$R2" 2
wait_until 3 mon_matches "$ID2" "$R2" || fail "path -> inode: group not updated after the renamed file grew: $(mismatch)"
log "2: path -> inode ok, rename followed"

# ---- 3. another path of the same file (a hard link)
L2=$DMF_MNT/two-link.img
G2=$(mon_group_by_id "$ID2") # after the growth, perhaps another group
ln "$R2" "$L2" || fail "ln $R2 $L2"
dmfilemapd 3 "$G2" "$L2" inode 0 0 3< "$L2" || fail "dmfilemapd 3 $G2 $L2 inode 0 0: exit $?"
check_one "$G2" "$ID2" "hard link"
check_field "$ID2" path "$L2" "hard link"
check_field "$ID2" mode inode "hard link"
check_changed "$ID2" 2 "options changed: follow inode, path $L2 (was $R2)" "hard link"
wait_until 3 mon_matches "$ID2" "$L2" || fail "hard link: group does not match $L2: $(mismatch)"
log "3: hard link ok"

# ---- 4. the same options again: nothing changes
dmfilemapd 3 "$G2" "$L2" inode 0 0 3< "$L2" || fail "same shim command again: exit $?"
sleep 1
check_one "$G2" "$ID2" "same options (shim)"
n=$(changed_count "$ID2")
[ "$n" = 2 ] || fail "same options (shim): 'changed' events of monitor $ID2: got $n, want still 2"
check_field "$ID2" path "$L2" "same options (shim)"
check_field "$ID2" mode inode "same options (shim)"

out=$(dmfilemapctl add "$L2" --group "$G2" 2>&1) || fail "dmfilemapctl add $L2 --group $G2: exit $?: $out"
log "$out"
case $out in
*"options changed"*) fail "same options (add): got '$out', want '(already monitored)' without 'options changed'" ;;
*" (already monitored)") ;;
*) fail "same options (add): got '$out', want it to end with ' (already monitored)'" ;;
esac
parse_add_line "$out" || fail "cannot parse add output: $out"
[ "$MON_ID" = "$ID2" ] || fail "same options (add): reported monitor $MON_ID, want $ID2"
sleep 1
n=$(changed_count "$ID2")
[ "$n" = 2 ] || fail "same options (add): 'changed' events of monitor $ID2: got $n, want still 2"
check_one "$G2" "$ID2" "same options (add)"

out=$(dmfilemapctl add "$L2" --group "$G2" --follow path 2>&1) ||
	fail "dmfilemapctl add $L2 --group $G2 --follow path: exit $?: $out"
log "$out"
case $out in
*" (already monitored: options changed)") ;;
*) fail "add --follow path: got '$out', want it to end with ' (already monitored: options changed)'" ;;
esac
parse_add_line "$out" || fail "cannot parse add output: $out"
[ "$MON_ID" = "$ID2" ] || fail "add --follow path: reported monitor $MON_ID, want $ID2"
check_one "$G2" "$ID2" "add --follow path"
check_field "$ID2" mode path "add --follow path"
check_changed "$ID2" 3 "options changed: follow path (was inode)" "add --follow path"
wait_until 3 mon_matches "$ID2" "$L2" || fail "add --follow path: group does not match $L2: $(mismatch)"
log "4: same options ok, add --follow path ok"

# ---- 5. the shim in the foreground, with other options
F3=$DMF_MNT/three.img
diag_file "$F3"
make_fragmented "$F3" 3
dmstats_filemap "$F3"
G3=$DMS_GROUP_ID
wait_until 5 mon_present_group "$G3" || fail "group $G3 made by dmstats create --filemap was not registered within 5 s"
ID3=$(group_ids "$G3")
check_field "$ID3" mode inode "foreground: after dmstats create --filemap"
FGO=$DMF_TMP/fg.out
FGE=$DMF_TMP/fg.err
# verbose 1: the shim prints "updated" events too
dmfilemapd 3 "$G3" "$F3" path 1 1 3< "$F3" > "$FGO" 2> "$FGE" &
FG_PID=$!
wait_until 5 grep -q 'options changed' "$FGE" ||
	fail "foreground: no '(already monitored: options changed)' from dmfilemapd within 5 s; stderr: $(cat "$FGE"); stdout: $(cat "$FGO")"
grep -q ": monitor $ID3, group $G3 (already monitored: options changed)" "$FGE" ||
	fail "foreground: stderr '$(cat "$FGE")', want '$F3: monitor $ID3, group $G3 (already monitored: options changed)'"
check_one "$G3" "$ID3" "foreground"
check_field "$ID3" mode path "foreground"
check_changed "$ID3" 1 "options changed: follow path (was inode)" "foreground"
kill -0 "$FG_PID" 2>/dev/null || fail "foreground: dmfilemapd (foreground 1) exited while its monitor runs; stdout: $(cat "$FGO")"
append_blocks "$F3" 2
wait_until 3 mon_matches "$ID3" "$F3" || fail "foreground: group not updated after growth: $(mismatch)"
wait_until 3 grep -q " updated id=$ID3 " "$FGO" ||
	fail "foreground: dmfilemapd printed no 'updated' event of monitor $ID3 after the file grew; stdout: $(cat "$FGO")"
kill -0 "$FG_PID" 2>/dev/null || fail "foreground: dmfilemapd exited before the monitor was removed; stdout: $(cat "$FGO")"

dmfilemapctl remove "$F3" > /dev/null || fail "dmfilemapctl remove $F3"
fg_gone() { _fs=$(cat "/proc/$FG_PID/stat" 2>/dev/null) || return 0; _fs=${_fs##*) }; [ "${_fs%% *}" = Z ]; }
wait_until 5 fg_gone || fail "foreground: dmfilemapd still running 5 s after its monitor was removed; stdout: $(cat "$FGO")"
wait "$FG_PID"
rc=$?
FG_PID=
[ "$rc" = 0 ] || fail "foreground: dmfilemapd exited $rc after its monitor was removed, want 0; stderr: $(cat "$FGE")"
last=$(tail -n 1 "$FGO")
case $last in
*" ended id=$ID3 group=$G3 "*"reason=removed $F3: "*) ;;
*) fail "foreground: last line of dmfilemapd's output: got '$last', want the 'ended id=$ID3 group=$G3 ... reason=removed $F3: ...' event" ;;
esac
log "5: foreground ok; its output:"
cat "$FGE" "$FGO"

# the other monitors carry on
check_one "$(mon_group_by_id "$ID1")" "$ID1" "at the end"
check_one "$(mon_group_by_id "$ID2")" "$ID2" "at the end"
[ "$(mon_count)" = 2 ] || fail "$(mon_count) monitors at the end, want 2"
