#!/bin/sh
# t-keep-attrs: regions the supervisor adds to a group copy the leader's
# program id, precise_timestamps setting and histogram bounds exactly.
# Note: Debian 12's dmstats drops --precise with --filemap; only a bound that
# is not a whole number of ms turns precise_timestamps on there. So:
#   A: dmstats create --filemap --precise --bounds 10us,1ms,30ms (precise, ns)
#   B: a group with program id kt_prog and histogram 10,20,30 made by hand
#      (Debian 12's dmstats also ignores --programid with --filemap: its
#      regions get program id "dmstats"), registered with dmfilemapctl add
#   C: dmfilemapctl add --create --precise --bounds 10ms,20ms,30ms
. "$DMF_KT_DIR/lib.sh"
require_supervisor

check_one() { # NAME FILE GROUP WANT_LEADER_ATTRS
	_n=$1 _f=$2 _g=$3 _want=$4
	la=$(leader_attrs "$_g")
	[ "$la" = "$_want" ] || fail "$_n: leader $_g has attributes '$la', want '$_want'"
	wait_until 5 mon_present_group "$_g" || fail "$_n: group $_g not monitored"
	_id=$(mon_jq '.monitors[] | select(.group_id == ($g|tonumber)) | .id' --arg g "$_g")
	old=$(group_members "$_g" | tr '\n' ' ')
	append_blocks "$_f" 4
	write_blocks "$_f" 300 2
	wait_until 3 mon_matches "$_id" "$_f" || fail "$_n: group not updated within 3 s: $(mismatch)"
	_ng=$(mon_group_by_id "$_id")
	new=$(group_members "$_ng" | tr '\n' ' ')
	log "$_n: members $old -> $new"
	added=0
	for m in $new; do
		case " $old" in *" $m "*) ;; *) added=$((added + 1)) ;; esac
	done
	[ "$added" -ge 1 ] || fail "$_n: no new region was created (members $old -> $new)"
	same_attrs_as_leader "$_ng" || fail "$_n: members differ from the leader: $(group_attrs "$_ng" | tr '\n' ';')"
	la=$(leader_attrs "$_ng")
	[ "$la" = "$_want" ] || fail "$_n: leader $_ng now has '$la', want '$_want'"
}

A=$DMF_MNT/attr-a.img B=$DMF_MNT/attr-b.img C=$DMF_MNT/attr-c.img
diag_file "$A" "$B" "$C"
make_fragmented "$A" 3
make_fragmented "$B" 3
make_fragmented "$C" 3

dmstats_filemap --precise --bounds 10us,1ms,30ms "$A"
check_one A "$A" "$DMS_GROUP_ID" "dmstats 1 10000,1000000,30000000"

set -- $(file_extents "$B" | tr '\n' ' ')
[ $# -eq 6 ] || fail "setup: expected 3 extents of $B, got: $*"
rb=
while [ $# -gt 0 ]; do
	r=$(dmsetup message "$DMF_DEV" 0 @stats_create "$1+$2" /1 1 histogram:10,20,30 kt_prog -) || fail "@stats_create"
	[ -n "$rb" ] || rb=$r
	shift 2
done
dmsetup message "$DMF_DEV" 0 @stats_set_aux "$rb" "DMS_GROUP=attr-b:$rb-$r#-" || fail "@stats_set_aux"
add_group "$B" "$rb"
check_one B "$B" "$rb" "kt_prog 0 10,20,30"

add_create "$C" --precise --bounds 10ms,20ms,30ms
la=$(leader_attrs "$MON_GROUP")
case $la in
*" 1 10000000,20000000,30000000") ;;
*) fail "C: add --create --precise --bounds 10ms,20ms,30ms gave leader attributes '$la'" ;;
esac
check_one C "$C" "$MON_GROUP" "$la"
