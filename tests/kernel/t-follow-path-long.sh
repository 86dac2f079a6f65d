#!/bin/sh
# t-follow-path-long: a follow-path monitor survives 120 s of changes (growth,
# holes, truncation, replacement by rename) and the supervisor's number of
# open file descriptors does not grow (LVM2's dmfilemapd leaked an inotify
# instance every 0.5 s in follow-path mode).
# timeout: 400
. "$DMF_KT_DIR/lib.sh"
require_supervisor

DURATION=${DMF_LONG_SECONDS:-120}
F=$DMF_MNT/long.db
N=$DMF_MNT/long.db.new
diag_file "$F"
make_fragmented "$F" 3
add_create "$F" --follow path

_dmf_now; t0=$_dmf_cs
i=0
base=
while :; do
	i=$((i + 1))
	case $((i % 4)) in
	0) make_fragmented "$N" $((2 + i % 3)); mv "$N" "$F" ;;
	1) append_blocks "$F" 2 ;;
	2) sz=$(stat -c %s "$F"); [ "$sz" -gt 32768 ] && punch "$F" 1 2 || append_blocks "$F" 1 ;;
	3) sz=$(stat -c %s "$F"); [ "$sz" -gt 65536 ] && truncate -s 16384 "$F" || append_blocks "$F" 1 ;;
	esac
	if [ $((i % 8)) = 0 ]; then
		wait_until 3 mon_matches "$MON_ID" "$F" ||
			fail "cycle $i: group does not match 3 s after the last change: $(mismatch)"
		n=$(supervisor_fd_count)
		[ -n "$base" ] || base=$n
		log "cycle $i: $n fds (first count $base), $(mon_field_by_id "$MON_ID" updates) updates"
	fi
	sleep 0.5
	[ "$(elapsed_cs "$t0")" -ge $((DURATION * 100)) ] && break
done

mon_present_id "$MON_ID" || fail "monitor ended during the run"
wait_until 3 mon_matches "$MON_ID" "$F" || fail "group does not match at the end: $(mismatch)"
n=$(supervisor_fd_count)
log "end after $i cycles: $n fds (first count $base)"
[ "$n" -le $((base + 2)) ] || fail "supervisor fds grew from $base to $n over $i cycles: $(ls -l "/proc/$DMF_SUPERVISOR_PID/fd" | tail -n 20)"
[ "$i" -ge 20 ] || fail "only $i change cycles in ${DURATION} s"
