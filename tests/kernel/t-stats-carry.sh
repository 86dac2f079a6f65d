#!/bin/sh
# t-stats-carry: per-file I/O counters are never lost when the supervisor
# replaces regions (dmfilemapd(8), Counters). Known O_DIRECT I/O (exact
# dm-stats counts) to a file of 8 extents, then: a truncate to half (reads
# in the half that stays and in the half that goes), a punched hole that
# splits an extent, the leader's extent freed, growth in place (the old
# region keeps its counts, a region for the tail; more than 4 regions on an
# extent are made one again) and growth elsewhere. After each: the group
# matches, `stats --json` has exactly the I/O done so far, and the kernel's
# own counts agree: stats = live regions' @stats_print + the counts of the
# regions that left the group (as read just before), carried_regions grows
# by at least the number of regions that left. Just before each change
# there is I/O on the regions that go that no Stats call has read.
# timeout: 300
# shellcheck source=/dev/null # lib.sh, in the guest
. "$DMF_KT_DIR/lib.sh"
require_supervisor

F=$DMF_MNT/carry.img
diag_file "$F"
write_blocks "$F" 0 64
# 8 extents of 7 blocks, E_k = blocks 8k..8k+6 (block 8k+7 punched)
xfs_io -c "fpunch $((7 * 4096)) 4096" -c "fpunch $((15 * 4096)) 4096" -c "fpunch $((23 * 4096)) 4096" \
	-c "fpunch $((31 * 4096)) 4096" -c "fpunch $((39 * 4096)) 4096" -c "fpunch $((47 * 4096)) 4096" \
	-c "fpunch $((55 * 4096)) 4096" -c "fpunch $((63 * 4096)) 4096" -c fsync "$F" || fail "fpunch"
[ "$(file_extent_count "$F")" = 8 ] || fail "setup: $(file_extent_count "$F") extents, want 8"
add_create "$F"
[ "$MON_REGIONS" = 8 ] || fail "add --create reported $MON_REGIONS regions for 8 extents"

OLD=$DMF_TMP/snap.old NEW=$DMF_TMP/snap.new
ER=0 EW=0             # I/O done so far (4 KiB requests)
LR=0 LRS=0 LW=0 LWS=0 # counts of the regions that left the group, as read just before
CARRIED=0
# io SPEC...: dio on F, counting the requests in ER and EW
io() {
	dio "$F" "$@"
	_op=r
	for _a in "$@"; do
		case $_a in r|w) _op=$_a; continue ;; *:*) _n=${_a#*:} ;; *) _n=1 ;; esac
		if [ "$_op" = r ]; then ER=$((ER + _n)); else EW=$((EW + _n)); fi
	done
}
snap() { group_io_snap "$(mon_group_by_id "$MON_ID")" "$OLD" || fail "cannot read the group's regions"; }

# check WHAT: the group matches; the totals are exact and agree with the kernel's
check() {
	wait_until 5 mon_matches "$MON_ID" "$F" || fail "$1: group does not match within 5 s: $(mismatch)"
	G=$(mon_group_by_id "$MON_ID")
	group_io_snap "$G" "$NEW" || fail "$1: cannot read group $G's regions"
	# shellcheck disable=SC2046 # five numbers
	set -- "$1" $(awk 'NR == FNR { k[$1 " " $2] = 1; next }
		!(($1 " " $2) in k) { n++; r += $3; rs += $4; w += $5; ws += $6 }
		END { print n + 0, r + 0, rs + 0, w + 0, ws + 0 }' "$NEW" "$OLD")
	LR=$((LR + $3)) LRS=$((LRS + $4)) LW=$((LW + $5)) LWS=$((LWS + $6))
	stats_expect "$F" "$1" "$ER" "$EW"
	# shellcheck disable=SC2046
	set -- "$1" "$2" $(awk '{ r += $3; rs += $4; w += $5; ws += $6 } END { print r + 0, rs + 0, w + 0, ws + 0 }' "$NEW")
	k="$((LR + $3))/$(((LRS + $4) * 512))/$((LW + $5))/$(((LWS + $6) * 512))"
	[ "$ST_READS/$ST_RBYTES/$ST_WRITES/$ST_WBYTES" = "$k" ] ||
		fail "$1: stats reads/read_bytes/writes/write_bytes $ST_READS/$ST_RBYTES/$ST_WRITES/$ST_WBYTES, but the live regions' @stats_print plus the regions gone give $k"
	[ "$ST_CARRIED" -ge $((CARRIED + $2)) ] ||
		fail "$1: carried_regions got $ST_CARRIED, want >= $((CARRIED + $2)) ($CARRIED before, $2 regions left the group)"
	log "$1: $2 regions left the group (ledger now $LR reads, $LW writes), kernel: $k, carried_regions $CARRIED -> $ST_CARRIED"
	CARRIED=$ST_CARRIED
	mv "$NEW" "$OLD"
}

snap
io r 0:10 1:10 9:10 11:10 13:10 18:10 26:10 30:5 35:10 50:10 62:5 \
	w 0:2 9:2 11:2 13:2 26:2 35:2 40:2 50:2 58:2 62:2
[ "$ER/$EW" = 100/20 ] || fail "test bug: $ER reads, $EW writes"
check "after the I/O"
[ "$ST_CARRIED" = 0 ] || fail "carried_regions $ST_CARRIED before any change, want 0"
# before each change: I/O on the regions that go, that no Stats call reads
# before they go (the supervisor must read them just before deleting them)
io r 36:3 51:2 w 61
snap

# 1. truncate to half: E4..E7 (with 30 reads, 11 writes) go
truncate -s $((31 * 4096)) "$F"
sync # ext4 reuses the freed blocks (growth in place below) once committed
check "truncate to half"
io r 2:3 26:2 w 30
check "I/O after the truncate"
io r 10 14:2 w 8
snap

# 2. a hole that splits E1 (8..14)
punch "$F" 11 1
check "hole punched in an extent"
io r 9:2 13:2 w 12
check "I/O after the punch"
io r 0:2 3 w 2
snap

# 3. the leader freed: the file's first block
G0=$(mon_group_by_id "$MON_ID")
punch "$F" 0 1
check "first block (leader) punched"
log "group $G0 -> $(mon_group_by_id "$MON_ID")"
io r 1
check "I/O after the leader went"

# 4. growth in place at EOF (block 31 after E3's 24..30)
sync
io r 24 w 25
snap
p30=$(file_block_phys "$F" 30)
old=$(awk -v p="$p30" '{ split($2, a, "+") } a[1] <= p && p < a[1] + a[2]' "$OLD")
[ -n "$old" ] || fail "setup: no region holds block 30 (sector $p30)"
dd if=/dev/zero of="$F" bs=4k seek=31 count=1 oflag=direct conv=notrunc status=none || fail "dd append"
check "append at EOF"
if [ "$(file_block_phys "$F" 31)" = $((p30 + 8)) ]; then
	grep -qx "$old" "$OLD" || fail "growth in place: the old region changed: was '$old', now: $(tr '\n' ';' < "$OLD")"
	ostart=$(echo "$old" | awk '{ split($2, a, "+"); print a[1] }')
	end=$(echo "$old" | awk '{ split($2, a, "+"); print a[1] + a[2] }')
	awk -v e="$end" '{ split($2, a, "+") } a[1] == e { f = 1 } END { exit !f }' "$OLD" ||
		fail "growth in place: no region for the tail at sector $end: $(tr '\n' ';' < "$OLD")"
	log "grew in place: region '$old' kept (the kernel's numbers), tail region at $end"
	inplace=1
else
	log "the append was not allocated in place on $DMF_FS (block 31 at $(file_block_phys "$F" 31), block 30 at $p30)"
	inplace=0
fi
io r 31:3
check "I/O on the tail"
c0=$CARRIED
for b in 32 33 34 35 36; do
	dd if=/dev/zero of="$F" bs=4k seek=$b count=1 oflag=direct conv=notrunc status=none || fail "dd append $b"
	check "append at block $b"
	io r "$b"
	check "I/O on block $b"
	io r 24 w 24 # on the region that grew: carried when it is made one
	snap
done
if [ "$inplace" = 1 ] && [ "$(file_block_phys "$F" 36)" = $((p30 + 48)) ]; then
	n=$(awk -v s="$ostart" '{ split($2, a, "+") } a[1] >= s && a[1] < s + 104' "$OLD" | wc -l)
	[ "$n" -le 4 ] || fail "$n regions cover the extent that grew in place 6 times, want at most 4"
	[ "$CARRIED" -gt "$c0" ] || fail "6 appends in place, carried_regions still $CARRIED: regions never made one again"
	log "after 6 appends in place: $n regions on that extent, carried_regions $c0 -> $CARRIED"
fi

# 5. growth elsewhere: a block far past the end
dd if=/dev/zero of="$F" bs=4k seek=200 count=1 oflag=direct conv=notrunc status=none || fail "dd at block 200"
check "write far past EOF"
io r 200:2 w 200
check "I/O on the new extent"
log "final: $ER reads, $EW writes, carried_regions $CARRIED"
