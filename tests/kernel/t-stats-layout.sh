#!/bin/sh
# t-stats-layout: layout changes that keep a file's size and block count
# (dmfilemapd(8): "a defragmenter, a copy-on-write overwrite" replace
# regions): e4defrag (ext4) / xfs_fsr (xfs) on an interleaved file, an O_DIRECT
# overwrite of a reflinked file (xfs), fallocate --zero-range (xfs), and
# fallocate --collapse-range (both). After each the group matches the file
# within 15 s (write events within about 1 s, the rolling re-read every
# 10 s), the counts done before are all still there (exactly, or, for the
# defragmenters, which read and write the data themselves, at least them
# and at most one request per block more), carried_regions grows, and new
# O_DIRECT I/O adds exactly.
# timeout: 300
# shellcheck source=/dev/null # lib.sh, in the guest
. "$DMF_KT_DIR/lib.sh"
require_supervisor

# follow ID FILE WHAT: the group matches within 15 s (shown with the time taken)
follow() {
	_dmf_now
	# shellcheck disable=SC2154 # set by lib.sh's _dmf_now
	_f0=$_dmf_cs
	wait_until 15 mon_matches "$1" "$2" || fail "$3: group does not match $2 within 15 s: $(mismatch)"
	log "$3: group matches after $(cs_fmt "$(elapsed_cs "$_f0")") s"
}
# expect FILE WHAT DR DW: FILE's totals are exactly the base (B_R B_W B_RB
# B_WB: requests and bytes) plus DR reads and DW writes of 4 KiB; the base
# becomes the totals
expect() {
	stats_read "$1" || fail "$2: $(mismatch)"
	_want="$((B_R + $3))/$((B_W + $4))/$((B_RB + $3 * 4096))/$((B_WB + $4 * 4096))"
	[ "$ST_READS/$ST_WRITES/$ST_RBYTES/$ST_WBYTES" = "$_want" ] ||
		fail "$2: stats of $1: reads/writes/read_bytes/write_bytes got $ST_READS/$ST_WRITES/$ST_RBYTES/$ST_WBYTES, want $_want (carried_regions $ST_CARRIED, regions $ST_REGIONS)"
	log "$2: reads $ST_READS, writes $ST_WRITES, read_bytes $ST_RBYTES, write_bytes $ST_WBYTES, carried_regions $ST_CARRIED, regions $ST_REGIONS"
	B_R=$ST_READS B_W=$ST_WRITES B_RB=$ST_RBYTES B_WB=$ST_WBYTES
}
# exact_after ID FILE WHAT: follow, then the totals are the same and
# carried_regions grew (regions were replaced)
exact_after() {
	_c0=$ST_CARRIED
	follow "$1" "$2" "$3"
	expect "$2" "$3" 0 0
	[ "$ST_CARRIED" -gt "$_c0" ] || fail "$3: carried_regions got $ST_CARRIED, want > $_c0 (regions were replaced)"
}

# ---- 1. the defragmenter on an interleaved (fragmented) file
F=$DMF_MNT/frag.img O=$DMF_MNT/other.img
diag_file "$F"
make_interleaved "$F" "$O" 32
sync
n0=$(file_extent_count "$F")
log "$F: $n0 extents"
[ "$n0" -ge 4 ] || fail "setup: make_interleaved gave $n0 extents, want >= 4"
add_create "$F"
FID=$MON_ID
i=0 spec=
while [ $i -lt 32 ]; do spec="$spec $i:3"; i=$((i + 1)); done
# shellcheck disable=SC2086 # the spec is words
dio "$F" r $spec 0:4 # 100 reads
i=0 spec=
while [ $i -lt 20 ]; do spec="$spec $i"; i=$((i + 1)); done
# shellcheck disable=SC2086
dio "$F" w $spec # 20 writes
B_R=0 B_W=0 B_RB=0 B_WB=0
expect "$F" "before the defragmenter" 100 20
c0=$ST_CARRIED
if [ "$DMF_FS" = ext4 ]; then tool="e4defrag"; else tool="xfs_fsr"; fi
out=$($tool "$F" 2>&1) || fail "$tool $F: exit $?: $out"
n1=$(file_extent_count "$F")
log "$tool: $n0 -> $n1 extents"
[ "$n1" -lt "$n0" ] || fail "setup: $tool did not defragment $F ($n0 -> $n1 extents): $out"
follow "$FID" "$F" "$tool"
stats_read "$F" || fail "$tool: $(mismatch)"
log "$tool: reads $ST_READS, writes $ST_WRITES, read_bytes $ST_RBYTES, write_bytes $ST_WBYTES, carried_regions $ST_CARRIED"
{ [ "$ST_READS" -ge 100 ] && [ "$ST_WRITES" -ge 20 ] && [ "$ST_RBYTES" -ge 409600 ] && [ "$ST_WBYTES" -ge 81920 ]; } ||
	fail "$tool: counts lost: reads/writes/read_bytes/write_bytes got $ST_READS/$ST_WRITES/$ST_RBYTES/$ST_WBYTES, want at least 100/20/409600/81920"
{ [ "$ST_READS" -le 132 ] && [ "$ST_WRITES" -le 52 ] && [ "$ST_RBYTES" -le 540672 ] && [ "$ST_WBYTES" -le 212992 ]; } ||
	fail "$tool: counted twice? reads/writes/read_bytes/write_bytes got $ST_READS/$ST_WRITES/$ST_RBYTES/$ST_WBYTES, want at most 132/52/540672/212992 (the I/O done plus at most one request per block by the tool itself)"
[ "$ST_CARRIED" -gt "$c0" ] || fail "$tool: carried_regions got $ST_CARRIED, want > $c0"
B_R=$ST_READS B_W=$ST_WRITES B_RB=$ST_RBYTES B_WB=$ST_WBYTES
dio "$F" r 0:5 31:5 w 7:3
expect "$F" "I/O after $tool" 10 3

# ---- 2. collapse-range (both): blocks 8..11 of the defragmented file go
if out=$(fallocate --collapse-range -o $((8 * 4096)) -l $((4 * 4096)) "$F" 2>&1); then
	exact_after "$FID" "$F" "collapse-range"
	dio "$F" r 0:2 20:2 w 9
	expect "$F" "I/O after collapse-range" 4 1
else
	log "collapse-range not supported on $DMF_FS: $out"
fi

# ---- 3. reflink copy, then an O_DIRECT overwrite of one block (xfs)
G=$DMF_MNT/shared.img
diag_file "$G"
write_blocks "$G" 0 16
add_create "$G"
GID=$MON_ID
dio "$G" r 0:10 5:10 10:10 w 5:5
B_R=0 B_W=0 B_RB=0 B_WB=0
expect "$G" "before the reflink" 30 5
if out=$(cp --reflink=always "$G" "$G.copy" 2>&1); then
	before=$(file_extents "$G")
	dd if=/dev/zero of="$G" bs=4k seek=5 count=1 oflag=direct conv=notrunc status=none || fail "dd overwrite"
	[ "$before" != "$(file_extents "$G")" ] || fail "setup: the overwrite of a shared block did not move it"
	exact_after "$GID" "$G" "COW overwrite"
	# reads only: xfs keeps a copy-on-write reservation around the block
	# written, through which later writes would go as well
	dio "$G" r 5:3 6
	expect "$G" "I/O after the COW overwrite" 4 0
else
	log "no reflink on $DMF_FS: $out"
fi

# ---- 4. zero-range (xfs: reallocates the range)
if [ "$DMF_FS" = xfs ]; then
	before=$(file_extents "$G")
	fallocate --zero-range -o $((8 * 4096)) -l $((4 * 4096)) "$G" || fail "fallocate --zero-range"
	if [ "$before" != "$(file_extents "$G")" ]; then
		exact_after "$GID" "$G" "zero-range"
	else
		log "zero-range left the extents as they were"
		follow "$GID" "$G" "zero-range"
		expect "$G" "zero-range" 0 0
	fi
	dio "$G" r 0:2 14:2
	expect "$G" "I/O after zero-range" 4 0
else
	log "zero-range: not a layout change on ext4 (converts in place), not tried"
fi
log "done"
