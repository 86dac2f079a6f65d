#!/bin/sh
# t-stats-reset: a counter clear by another program (dmfilemapd(8),
# Counters: "the totals do not go back ... resets goes up by one") after
# the supervisor has read the counters: `dmstats clear --regionid ID` and
# `dmsetup message DEV 0 @stats_clear ID` on live regions leave the totals
# as they were, resets >= 1 (one more each time), and later I/O adds on top
# exactly, also when the I/O comes before the supervisor reads again.
# Then `dmfilemapctl stats FILE` (text): its header and one row with the
# right READS, RKB, WRITES, WKB and PATH; and
# `stats --interval 0.5 --count 2`: two reports, r/s > 0 while an O_DIRECT
# dd loop reads the file.
# timeout: 200
# shellcheck source=/dev/null # lib.sh, in the guest
. "$DMF_KT_DIR/lib.sh"
require_supervisor

BG=
trap '[ -n "$BG" ] && kill "$BG" 2>/dev/null' EXIT

F=$DMF_MNT/reset.img
diag_file "$F"
make_fragmented "$F" 4 # blocks 0, 2, 4, 6
add_create "$F"
dio "$F" r 0:40 2:30 4:20 6:10 w 0:5 2:5 4:5 6:5
stats_expect "$F" "before any clear" 100 20
[ "$ST_RESETS" = 0 ] || fail "resets $ST_RESETS before any clear, want 0"

# region_of BLOCK: the member region holding the file's block BLOCK
region_of() { group_region_at "$(mon_group_by_id "$MON_ID")" "$(file_block_phys "$F" "$1")"; }
# cleared ID WHAT: the kernel's counters of region ID are 0 now
cleared() {
	_c=$(region_io "$1")
	case $_c in
	*" 0 0 0 0") ;;
	*) fail "$2: region $1 not cleared: @stats_print gives $_c" ;;
	esac
}

# 1. dmstats clear on the region of block 0 (40 reads, 5 writes)
R0=$(region_of 0)
[ -n "$R0" ] || fail "setup: no region holds block 0"
out=$(dmstats clear --regionid "$R0" "$DMF_DEV" 2>&1) || fail "dmstats clear --regionid $R0 $DMF_DEV: exit $?: $out"
cleared "$R0" "dmstats clear"
stats_expect "$F" "after dmstats clear of region $R0" 100 20
[ "$ST_RESETS" -ge 1 ] || fail "after dmstats clear: resets got $ST_RESETS, want >= 1"
resets=$ST_RESETS
stats_expect "$F" "read again" 100 20
dio "$F" r 0:7 2 w 0:3
stats_expect "$F" "I/O after the clear" 108 23

# 2. @stats_clear on the region of block 2, then on that of block 0 again
R2=$(region_of 2)
[ -n "$R2" ] || fail "setup: no region holds block 2"
dmsetup message "$DMF_DEV" 0 @stats_clear "$R2" || fail "@stats_clear $R2"
cleared "$R2" "@stats_clear"
stats_expect "$F" "after @stats_clear of region $R2" 108 23
[ "$ST_RESETS" -gt "$resets" ] || fail "after @stats_clear $R2: resets got $ST_RESETS, want > $resets"
resets=$ST_RESETS
dmsetup message "$DMF_DEV" 0 @stats_clear "$R0" || fail "@stats_clear $R0"
stats_expect "$F" "after @stats_clear of region $R0 again" 108 23
[ "$ST_RESETS" -gt "$resets" ] || fail "after the second clear of $R0: resets got $ST_RESETS, want > $resets"
dio "$F" r 2:3 6 w 4
stats_expect "$F" "I/O after the clears" 112 24
resets=$ST_RESETS

# 3. a clear, then (fewer) I/O before the supervisor reads the counters
R6=$(region_of 6) # 11 reads, 5 writes
[ -n "$R6" ] || fail "setup: no region holds block 6"
dmsetup message "$DMF_DEV" 0 @stats_clear "$R6" || fail "@stats_clear $R6"
dio "$F" r 6:2 w 6
stats_expect "$F" "@stats_clear of region $R6, then 2 reads and 1 write" 114 25
[ "$ST_RESETS" -gt "$resets" ] || fail "after the clear of $R6: resets got $ST_RESETS, want > $resets"

# 4. the text form: a header and one row
out=$(dmfilemapctl stats "$F") || fail "dmfilemapctl stats $F: exit $?: $out"
log "dmfilemapctl stats $F:"
printf '%s\n' "$out"
[ "$(printf '%s\n' "$out" | wc -l)" = 2 ] || fail "stats (text): got $(printf '%s\n' "$out" | wc -l) lines, want a header and one row: $out"
hdr=$(printf '%s\n' "$out" | head -n 1 | tr -s ' ')
[ "$hdr" = "ID READS RKB WRITES WKB INFLIGHT IO_MS PATH" ] || fail "stats (text) header: got '$hdr', want 'ID READS RKB WRITES WKB INFLIGHT IO_MS PATH'"
row=$(printf '%s\n' "$out" | sed -n 2p | awk '{ print $1, $2, $3, $4, $5, $6, $8 }')
[ "$row" = "$MON_ID 114 456 25 100 0 $F" ] || fail "stats (text) row: got '$row' (ID READS RKB WRITES WKB INFLIGHT PATH), want '$MON_ID 114 456 25 100 0 $F'"

# 5. rates: --interval 0.5 --count 2 while dd reads the file (O_DIRECT)
(while :; do dd if="$F" of=/dev/null bs=4k count=8 iflag=direct status=none || exit 1; done) &
BG=$!
sleep 0.5
out=$(dmfilemapctl stats "$F" --interval 0.5 --count 2 2>&1) || fail "stats --interval 0.5 --count 2: exit $?: $out"
kill "$BG"; wait "$BG" 2>/dev/null; BG=
log "dmfilemapctl stats $F --interval 0.5 --count 2:"
printf '%s\n' "$out"
n=$(printf '%s\n' "$out" | grep -c '^ID  *r/s  *w/s  *rkB/s  *wkB/s  *rrqm/s  *wrqm/s  *r_await  *w_await  *aqu-sz  *%util  *PATH$')
[ "$n" = 2 ] || fail "stats --interval: got $n report headers, want 2: $out"
rows=$(printf '%s\n' "$out" | awk -v id="$MON_ID" -v p="$F" '$1 == id && $NF == p { print $2 }')
[ "$(printf '%s\n' "$rows" | wc -l)" = 2 ] || fail "stats --interval: rows of monitor $MON_ID: got '$rows', want 2: $out"
for r in $rows; do
	awk -v r="$r" 'BEGIN { exit !(r + 0 > 0) }' || fail "stats --interval: r/s got $r while dd reads $F, want > 0: $out"
done
stats_read "$F" || fail "$(mismatch)"
[ "$ST_READS" -gt 114 ] || fail "after the dd loop: reads got $ST_READS, want > 114"
log "r/s: $(printf "%s " "$rows" | tr "\n" " ")reads now $ST_READS, resets $ST_RESETS"
