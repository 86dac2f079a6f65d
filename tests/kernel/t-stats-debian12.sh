#!/bin/sh
# t-stats-debian12: Debian 12's own dmstats (libdevmapper 1.02.185) reads the
# groups the supervisor makes (dmfilemapd(8): "Tabs, #, quotes, backslashes
# and UTF-8 in aliases are read by Debian 12's dmstats"): `dmstats list` and
# `dmstats report` name each group made by `dmfilemapctl add --create
# --alias A` (A plain, with a tab, '#', '"', UTF-8), written in the form
# DMS_GROUP=A:... . `dmstats report` clears the counters it reads: the
# supervisor's totals do not go back. An alias with a space (the documented
# limitation): the supervisor monitors the group, writes it quoted, logs that
# this host's dmstats cannot read it, and `dmstats list` prints "Found
# malformed group tag" and lists the group's regions as ungrouped.
# timeout: 200
# shellcheck source=/dev/null # lib.sh, in the guest
. "$DMF_KT_DIR/lib.sh"
require_supervisor

v=$(dmsetup version 2>/dev/null | sed -n 's/^Library version: *\([0-9.]*\).*/\1/p')
[ "$v" = 1.02.185 ] || skip "libdevmapper here is '$v', not Debian 12's 1.02.185"

TAB=$(printf '\tx'); TAB=${TAB%x}
SPACE_ALIAS='with space'
set -- plain "ta${TAB}b" 'ha#sh' 'qu"ote' "$(printf '\303\274tf-\303\237')"
n=0
for a in "$@"; do
	n=$((n + 1))
	make_fragmented "$DMF_MNT/f$n.img" 2
	add_create "$DMF_MNT/f$n.img" --alias "$a"
	eval "ID$n=\$MON_ID G$n=\$MON_GROUP"
	[ "$(mon_field_by_id "$MON_ID" alias)" = "$a" ] ||
		fail "alias '$a': dmfilemapctl list says '$(mon_field_by_id "$MON_ID" alias)'"
	stats_list | grep -F "DMS_GROUP=$a:" | grep -q "^$MON_GROUP: " ||
		fail "alias '$a': leader $MON_GROUP's aux_data is not in Debian 12's form DMS_GROUP=$a:...: $(stats_list | grep "^$MON_GROUP: ")"
done

# group_row FILE ALIAS G KIND: FILE (dmstats output) has a row starting with
# ALIAS, then G, then the members, then KIND ("group"; "-" and ID "region":
# ungrouped)
group_row() {
	A=$2 awk -v g="$3" -v k="$4" 'BEGIN { a = ENVIRON["A"] }
		index($0, a) == 1 { split(substr($0, length(a) + 1), f, /[ \t]+/)
			if (f[1] == "") { f[1] = f[2]; f[2] = f[3]; f[3] = f[4] }
			if (f[1] == g && f[3] == k) ok = 1 }
		END { exit !ok }' "$1"
}
# names_all WHAT CMD...: the output of dmstats CMD names every group above
names_all() {
	_w=$1; shift
	dmstats "$@" > "$DMF_TMP/out" 2> "$DMF_TMP/err" || fail "$_w: dmstats $*: exit $?: $(cat "$DMF_TMP/err")"
	_i=0
	for _a in plain "ta${TAB}b" 'ha#sh' 'qu"ote' "$(printf '\303\274tf-\303\237')"; do
		_i=$((_i + 1))
		_g=
		eval "_g=\$G$_i"
		group_row "$DMF_TMP/out" "$_a" "$_g" group ||
			fail "$_w: dmstats $* does not name group $_g '$_a' (a row '$_a $_g MEMBERS group'):
$(cat "$DMF_TMP/out" "$DMF_TMP/err")"
	done
	log "$_w: dmstats $* names all $_i groups"
}
names_all "five aliases" list
# shellcheck disable=SC2154 # set by eval
F1=$DMF_MNT/f1.img M1=$ID1

# dmstats report (which clears the counters it reads) after the supervisor read them
dio "$F1" r 0:10 2:5 w 0:2
stats_expect "$F1" "before dmstats report" 15 2
names_all "five aliases" report "$DMF_DEV"
k=$(for r in $(group_members "$G1"); do region_io "$r"; done | awk '{ n += $2 + $4 } END { print n + 0 }')
log "after dmstats report, the kernel's reads + writes of group $G1: $k"
stats_expect "$F1" "after dmstats report" 15 2
[ "$k" != 0 ] || [ "$ST_RESETS" -ge 1 ] || fail "dmstats report cleared the counters, but resets is $ST_RESETS, want >= 1"
dio "$F1" r 0:3 w 2
stats_expect "$F1" "I/O after dmstats report" 18 3
wait_until 3 mon_matches "$M1" "$F1" || fail "group of $F1 does not match after dmstats report: $(mismatch)"

# an alias with a space
S=$DMF_MNT/space.img
diag_file "$S"
make_fragmented "$S" 2
add_create "$S" --alias "$SPACE_ALIAS"
SID=$MON_ID SG=$MON_GROUP
[ "$(mon_field_by_id "$SID" alias)" = "$SPACE_ALIAS" ] || fail "space alias: dmfilemapctl list says '$(mon_field_by_id "$SID" alias)'"
mon_matches "$SID" "$S" || fail "space alias: group $SG does not match: $(mismatch)"
stats_list | grep -F "DMS_GROUP=\"$SPACE_ALIAS\":" | grep -q "^$SG: " ||
	fail "space alias: leader $SG not in the quoted form DMS_GROUP=\"$SPACE_ALIAS\":...: $(stats_list | grep "^$SG: ")"
grep -qF "group alias \"$SPACE_ALIAS\" has a space or a ':': this host's dmstats cannot read the group" "$DMF_RESULTS/$DMF_TEST.supervisord.log" ||
	fail "space alias: the supervisor did not log that this host's dmstats cannot read the group"
dmstats list > "$DMF_TMP/out" 2> "$DMF_TMP/err"
log "dmstats list with the space alias: exit $?; stderr: $(cat "$DMF_TMP/err")"
grep -q "Found malformed group tag" "$DMF_TMP/err" "$DMF_TMP/out" ||
	fail "space alias: dmstats list does not print 'Found malformed group tag': $(cat "$DMF_TMP/out" "$DMF_TMP/err")"
for r in $(group_members "$SG"); do
	awk -v d="$DMF_DEV" -v r="$r" '$1 == d && $2 == "-" && $3 == r && $4 == "region" { f = 1 } END { exit !f }' "$DMF_TMP/out" ||
		fail "space alias: region $r of group $SG is not listed as ungrouped ('$DMF_DEV - $r region'): $(cat "$DMF_TMP/out")"
done
names_all "with the space alias too" list
# and the group is still kept up to date
append_blocks "$S" 2
wait_until 3 mon_matches "$SID" "$S" || fail "space alias: group not updated after growth: $(mismatch)"
dio "$S" r 0:4
stats_expect "$S" "space alias, after growth" 4 0
