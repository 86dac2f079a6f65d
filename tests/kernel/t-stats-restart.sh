#!/bin/sh
# t-stats-restart: per-file I/O totals survive restarts of the supervisor
# (dmfilemapd(8), Counters: the ledger is saved in the state file before a
# region goes, "so that neither the replacement nor a SIGKILL at any point
# of it loses them"): after SIGTERM and after SIGKILL the re-adopted monitor
# has exactly the I/O done; a truncate (regions carried) followed by a
# SIGKILL 0 to 1.5 s later, at the state file's write, or just after the
# regions went, and a SIGKILL just after the leader's extent is freed, lose
# nothing either (the I/O just before each change is read by no Stats
# call); carried_regions never goes back across a restart.
# timeout: 400
# shellcheck source=/dev/null # lib.sh, in the guest
. "$DMF_KT_DIR/lib.sh"
require_supervisor

F=$DMF_MNT/restart.img
diag_file "$F"
make_fragmented "$F" 24 # blocks 0, 2, ..., 46
STATE=${DMFILEMAP_SOCKET%.sock}.state # dmfilemap-supervisord(8), FILES
add_create "$F"
ER=0 EW=0
# io_n R W SPEC...: the O_DIRECT I/O SPEC that makes R reads and W writes
io_n() { _r=$1 _w=$2; shift 2; dio "$F" "$@"; ER=$((ER + _r)) EW=$((EW + _w)); }

readopted() { # one monitor of F, following the inode, its group matching
	_ids=$(mon_id_by_path "$F")
	case $_ids in
	"") echo "no monitor of $F listed" > "$DMF_TMP/mismatch"; return 1 ;;
	*[!0-9]*) echo "several monitors of $F: $_ids" > "$DMF_TMP/mismatch"; return 1 ;;
	esac
	MON_ID=$_ids
	mon_matches "$MON_ID" "$F"
}
# restarted WHAT CARRIED_MIN: a new supervisor re-adopts F at once, with
# exactly the I/O done and carried_regions >= CARRIED_MIN
restarted() {
	supervisor_start
	wait_until 10 readopted || fail "$1: $F not re-adopted with a matching group within 10 s: $(mismatch)"
	stats_expect "$F" "$1" "$ER" "$EW"
	[ "$ST_CARRIED" -ge "$2" ] || fail "$1: carried_regions got $ST_CARRIED, want >= $2"
}

i=0 spec=
while [ $i -lt 48 ]; do spec="$spec $i:4"; i=$((i + 2)); done
# shellcheck disable=SC2086 # words
io_n 100 20 r $spec 0:4 w 0:2 2:2 4:2 6:2 8:2 10:2 12:2 14:2 16:2 18:2
stats_expect "$F" "before any restart" "$ER" "$EW"
sleep 1 # the state file is written shortly after each change

# ---- SIGTERM
supervisor_takeover
supervisor_kill TERM
restarted "after SIGTERM" 0

# Before each change there is I/O on the regions that go that no Stats
# call reads: the supervisor must read them itself before they go.
# ---- a carry, then SIGKILL once it is done
io_n 6 2 r 40:3 46:3 w 42 44
truncate -s $((40 * 4096)) "$F" # blocks 40..46 go: 4 regions
wait_until 3 mon_matches "$MON_ID" "$F" || fail "truncate: group does not match: $(mismatch)"
stats_expect "$F" "after the truncate" "$ER" "$EW"
[ "$ST_CARRIED" -ge 4 ] || fail "truncate: carried_regions got $ST_CARRIED, want >= 4"
carried=$ST_CARRIED
supervisor_kill KILL
restarted "after SIGKILL" "$carried"
carried=$ST_CARRIED

# ---- SIGKILL right after a carry: the last two extents get I/O and go,
# and the supervisor is killed WHEN: DELAY s later; "saved": the moment the
# state file is renamed into place (the ledger is saved before the regions
# are deleted); "gone": as soon as the last extent's region is deleted
last=38
for when in 0 0.3 0.8 1.5 saved gone saved gone; do
	prev=$((last - 2))
	R=$(group_region_at "$(mon_group_by_id "$MON_ID")" "$(file_block_phys "$F" "$last")") ||
		fail "setup: no region holds block $last"
	touch "$DMF_TMP/ref"
	io_n 9 3 r "$last:4" "$prev:5" w "$last:2" "$prev"
	truncate -s $((prev * 4096)) "$F"
	_dmf_now
	# shellcheck disable=SC2154 # set by _dmf_now
	t0=$_dmf_cs n=0
	case $when in
	saved)
		[ -f "$STATE" ] || fail "no state file $STATE"
		# builtins only, to be quick (test -nt: in dash, the guest's
		# /bin/sh, as in bash and busybox)
		# shellcheck disable=SC3013
		until [ "$STATE" -nt "$DMF_TMP/ref" ]; do
			n=$((n + 1))
			[ $((n % 500)) = 0 ] && [ "$(elapsed_cs "$t0")" -gt 500 ] && fail "state file not written within 5 s of the truncate"
		done ;;
	gone)
		while l=$(dmsetup message "$DMF_DEV" 0 @stats_list); do
			case "
$l" in
			*"
$R: "*) ;;
			*) break ;;
			esac
			[ "$(elapsed_cs "$t0")" -gt 500 ] && fail "region $R (block $last) not deleted within 5 s of the truncate"
		done ;;
	*) sleep "$when" ;;
	esac
	kill -KILL "$DMF_SUPERVISOR_PID"
	wait_until 10 eval '! supervisor_alive' || fail "supervisor still alive 10 s after SIGKILL"
	log "SIGKILL ($when) $(cs_fmt "$(elapsed_cs "$t0")") s after the truncate; $(all_regions | wc -l) regions left (the file has $(file_extent_count "$F") extents)"
	restarted "truncate + SIGKILL ($when)" $((carried + 2))
	carried=$ST_CARRIED
	last=$((prev - 2))
done

# ---- SIGKILL right after the leader's extent (block 0) is freed
G=$(mon_group_by_id "$MON_ID")
io_n 5 1 r 0:3 2:2 w 0
punch "$F" 0 1
sleep 0.5
supervisor_kill KILL
restarted "leader freed + SIGKILL" $((carried + 1))
log "group $G -> $(mon_group_by_id "$MON_ID")"

# ---- and the re-adopted monitor goes on counting
io_n 4 2 r 2:2 4:2 w 6:2
stats_expect "$F" "I/O after the restarts" "$ER" "$EW"
supervisor_stop
log "final: $ER reads, $EW writes, carried_regions $ST_CARRIED"
