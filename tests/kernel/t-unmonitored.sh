#!/bin/sh
# t-unmonitored: a file map group that no monitor keeps, as Debian 13's
# dmstats leaves every one (its dmstats runs no dmfilemapd; here Debian
# 12's with --nomonitor does the same): "list" shows it, with the file it
# maps when that is found for certain (its name, and extents that match
# exactly), and the log names the command that adopts it; after that
# command the group is monitored and no longer listed. A group whose file
# was renamed is listed without a path, and the log says FILE.
# timeout: 120
. "$DMF_KT_DIR/lib.sh"
require_supervisor

F=$DMF_MNT/orphan.img
R=$DMF_MNT/renamed-away.img
diag_file "$F" "$R"
make_fragmented "$F" 3
dmstats_filemap --nomonitor "$F"
G=$DMS_GROUP_ID
# a second group, whose file then gets another name
make_fragmented "$DMF_MNT/gone.img" 2
dmstats_filemap --nomonitor "$DMF_MNT/gone.img"
G2=$DMS_GROUP_ID
mv "$DMF_MNT/gone.img" "$R"
[ "$(mon_count)" = 0 ] || fail "setup: $(mon_count) monitors, want 0"

# unmonitored: group G found, with its file
unm() { dmfilemapctl list --json | jq -r --arg g "$1" \
	'.unmonitored[] | select(.group_id == ($g|tonumber)) | "\(.path // "null") \(.regions) \(.alias) \(.dm_name)"'; }
want="$F 3 orphan.img $DMF_DEV"
# List scans again when its last scan is 2 s old
wait_until 3 eval '[ "$(unm "$G")" = "$want" ]'
got=$(unm "$G")
[ "$got" = "$want" ] || fail "unmonitored group $G: got '$got', want '$want' (path regions alias device)"
got=$(unm "$G2")
want="null 2 gone.img $DMF_DEV"
[ "$got" = "$want" ] || fail "unmonitored group $G2 (file renamed): got '$got', want '$want'"
# the text form says how to adopt them
dmfilemapctl list | grep -qF "unmonitored group $G on $DMF_DEV ($(dev_majmin)), alias \"orphan.img\", 3 regions: dmfilemapctl add $F --group $G" ||
	fail "list text: no adoption line for group $G: $(dmfilemapctl list)"
dmfilemapctl list | grep -qF "dmfilemapctl add FILE --group $G2" ||
	fail "list text: no adoption line (FILE) for group $G2: $(dmfilemapctl list)"
# and so does the log, once each
L=$DMF_RESULTS/$DMF_TEST.supervisord.log
n=$(grep -cF "is not monitored; adopt it with: dmfilemapctl add $F --group $G" "$L")
[ "$n" = 1 ] || fail "the log names the adoption of group $G $n times, want 1: $(grep 'not monitored' "$L")"
grep -qF "group $G2 (alias \"gone.img\", 2 regions) is not monitored; adopt it with: dmfilemapctl add FILE --group $G2" "$L" ||
	fail "no log line for group $G2: $(grep 'not monitored' "$L")"

# the command adopts it: monitored, and no longer listed
out=$(dmfilemapctl add "$F" --group "$G" 2>&1) || fail "dmfilemapctl add $F --group $G: $out"
wait_until 3 mon_present_group "$G" || fail "group $G not monitored after the add"
[ -z "$(unm "$G")" ] || fail "group $G still listed as unmonitored: $(unm "$G")"
[ -n "$(unm "$G2")" ] || fail "group $G2 no longer listed, though still unmonitored"
group_matches_file "$G" "$F" || fail "group $G does not match $F: $(mismatch)"
# a group deleted leaves the list
dmstats delete --groupid "$G2" > /dev/null 2>&1 || dmsetup message "$DMF_DEV" 0 @stats_delete "$G2"
sleep 2.2
[ -z "$(unm "$G2")" ] || fail "deleted group $G2 still listed: $(unm "$G2")"
