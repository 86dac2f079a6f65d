#!/bin/sh
# t-fallback: the dmfilemapd shim's fallback when it can neither reach nor
# start a supervisor: it says so in one line on stderr ("dmfilemapd: no
# supervisor on SOCK (REASON): monitoring PATH in this process") and monitors
# the file itself, in a detached process (comm dmfilemapd), with the same code
# as a monitor of the supervisor:
# (a) dmstats create --filemap: exits 0, the detached process holds the file
#     open, the group matches and follows an append; the test's own
#     supervisor (on its own socket) does not get the file;
# (b) --foreground: SIGTERM ends it with status 0 and the line "stopped after
#     T s: N @stats_list, M other dm ioctls", about one @stats_list per 1 s
#     check interval (N between 1 and T + 2);
# (c) follow inode: the file unlinked, held by no other process: the process
#     ends by itself; the group stays (dmfilemapd(8): "The regions stay in
#     the kernel when a monitor ends");
# (d) a file not on device-mapper: exit status 1 and one line "cannot monitor
#     PATH: not on a device-mapper device", in foreground and detached mode;
#     no process left.
. "$DMF_KT_DIR/lib.sh"
require_supervisor

NOSOCK=/run/dmf-nowhere.sock
BG='' FGP='' FGD=''
cleanup() {
	for _p in $BG $FGD $FGP; do
		alive "$_p" && kill -KILL "$_p" 2>/dev/null
	done
}
trap cleanup EXIT

# alive PID: PID exists and is not a zombie
alive() {
	[ -n "$1" ] || return 1
	_al=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	_al=${_al##*) }
	[ "${_al%% *}" != Z ]
}

# holders FILE: pids of the processes that have FILE open (one ls for all)
holders() {
	ls -l /proc/[0-9]*/fd 2>/dev/null | awk -v f="$1" '
		/^\/proc\/[0-9]+\/fd:$/ { split($0, a, "/"); pid = a[3]; next }
		{ i = index($0, " -> "); if (i && substr($0, i + 4) == f) print pid }' | sort -un
}

# shim_holder FILE: set SHIM_PID to the one process with comm dmfilemapd that
# has FILE open; false if there is not exactly one
shim_holder() {
	SHIM_PID=
	for _p in $(holders "$1"); do
		read -r _c < "/proc/$_p/comm" 2>/dev/null || continue
		[ "$_c" = dmfilemapd ] || continue
		[ -z "$SHIM_PID" ] || return 1
		SHIM_PID=$_p
	done
	[ -n "$SHIM_PID" ]
}

# fallback_lines TEXTFILE FILE: number of lines that are exactly the
# fallback's announcement for FILE
fallback_lines() {
	awk -v p="dmfilemapd: no supervisor on $NOSOCK (" -v s="): monitoring $2 in this process" '
		substr($0, 1, length(p)) == p && length($0) > length(p) + length(s) &&
		substr($0, length($0) - length(s) + 1) == s { n++ }
		END { print n + 0 }' "$1"
}

ppid_of() { _pp=$(cat "/proc/$1/stat" 2>/dev/null) && _pp=${_pp##*) } && set -- $_pp && echo "$2"; }
sid_of() { _pp=$(cat "/proc/$1/stat" 2>/dev/null) && _pp=${_pp##*) } && set -- $_pp && echo "$4"; }

# detached_holder FILE: shim_holder FILE, and that process is the detached
# one (not the shim before it forked): in a session of its own, child of
# init, its stderr on /dev/null (after it said it was ready)
detached_holder() {
	shim_holder "$1" || return 1
	[ "$(sid_of "$SHIM_PID")" != "$(sid_of $$)" ] && [ "$(ppid_of "$SHIM_PID")" = 1 ] &&
		[ "$(readlink "/proc/$SHIM_PID/fd/2")" = /dev/null ]
}

# ------------------------------------------------------------------- (a)
F=$DMF_MNT/solo.img
diag_file "$F"
make_fragmented "$F" 3
DMFILEMAP_SOCKET=$NOSOCK DMFILEMAP_SUPERVISORD=/nonexistent \
	dmstats create --filemap "$F" > "$DMF_TMP/a.out" 2>&1
rc=$?
[ "$rc" = 0 ] || fail "dmstats create --filemap exited $rc with the fallback: $(cat "$DMF_TMP/a.out")"
# dmstats does not wait for the shim it starts: its lines may come later
wait_until 3 eval '[ "$(fallback_lines "$DMF_TMP/a.out" "$F")" -ge 1 ]'
log "dmstats create --filemap $F (no supervisor reachable): exit $rc: $(cat "$DMF_TMP/a.out")"
[ "$(fallback_lines "$DMF_TMP/a.out" "$F")" = 1 ] ||
	fail "want exactly one line 'dmfilemapd: no supervisor on $NOSOCK (REASON): monitoring $F in this process', got: $(cat "$DMF_TMP/a.out")"
G=$(sed -n 's/.*as group ID \([0-9][0-9]*\)\..*/\1/p' "$DMF_TMP/a.out" | tail -n 1)
[ -n "$G" ] || fail "no group id in dmstats output: $(cat "$DMF_TMP/a.out")"

wait_until 5 detached_holder "$F" ||
	fail "no single detached dmfilemapd process (own session, parent init, stderr on /dev/null) holds $F open 5 s after dmstats returned (holders: $(holders "$F" | tr '\n' ' '))"
BG=$SHIM_PID
log "fallback process $BG holds $F"
[ -z "$(mon_id_by_path "$F")" ] || fail "the test's supervisor got $F although the shim was pointed at $NOSOCK"
[ "$(mon_count)" = 0 ] || fail "the test's supervisor has $(mon_count) monitors, want 0"

group_matches_file "$G" "$F" || fail "group $G does not match $F after dmstats create: $(mismatch)"
before=$(file_extents "$F")
append_blocks "$F" 6
[ "$before" != "$(file_extents "$F")" ] || fail "setup: appending did not change the extents"
wait_until 3 group_matches_file "$G" "$F" ||
	fail "the fallback process did not update group $G within 3 s after an append: $(mismatch)"
alive "$BG" || fail "the fallback process $BG ended after the append"
[ "$(fallback_lines "$DMF_TMP/a.out" "$F")" = 1 ] ||
	fail "want exactly one line 'dmfilemapd: no supervisor on $NOSOCK (REASON): monitoring $F in this process', got: $(cat "$DMF_TMP/a.out")"

# ------------------------------------------------------------------- (b)
F2=$DMF_MNT/solo-fg.img
diag_file "$F2"
make_fragmented "$F2" 2
DMFILEMAP_SOCKET=$NOSOCK DMFILEMAP_SUPERVISORD=/nonexistent \
	dmstats -v create --filemap --foreground "$F2" > "$DMF_TMP/fg.out" 2> "$DMF_TMP/fg.err" &
FGP=$!
fg_started() { shim_holder "$F2" && [ "$(fallback_lines "$DMF_TMP/fg.err" "$F2")" = 1 ]; }
wait_until 5 fg_started ||
	fail "dmstats --foreground: no single dmfilemapd holding $F2 with the fallback line within 5 s; stderr: $(cat "$DMF_TMP/fg.err")"
FGD=$SHIM_PID
log "foreground fallback: dmstats pid $FGP, dmfilemapd pid $FGD"
sleep 3
alive "$FGD" || fail "the foreground fallback process ended by itself: $(cat "$DMF_TMP/fg.err")"
kill -TERM "$FGD"
wait_until 5 eval '! alive "$FGD"' || fail "the foreground fallback process $FGD still alive 5 s after SIGTERM"
wait "$FGP"
rc=$?
FGP=
log "foreground fallback stderr: $(cat "$DMF_TMP/fg.err")"
[ "$rc" = 0 ] || fail "foreground fallback exited $rc after SIGTERM, want 0: $(cat "$DMF_TMP/fg.err")"
line=$(grep 'stopped after [0-9.]* s: [0-9]* @stats_list, [0-9]* other dm ioctls' "$DMF_TMP/fg.err")
[ -n "$line" ] || fail "no 'stopped after T s: N @stats_list, M other dm ioctls' line: $(cat "$DMF_TMP/fg.err")"
set -- $(printf '%s\n' "$line" | sed -n 's/.*stopped after \([0-9.]*\) s: \([0-9]*\) @stats_list, \([0-9]*\) other.*/\1 \2 \3/p')
[ $# = 3 ] || fail "cannot parse: $line"
T=$1 N=$2
Tmax=$(awk -v t="$T" 'BEGIN { c = int(t); if (c < t) c++; print c + 2 }')
log "idle for $T s: $N @stats_list (at most $Tmax allowed), $3 other dm ioctls"
[ "$N" -ge 1 ] || fail "no @stats_list in $T s: $line"
[ "$N" -le "$Tmax" ] || fail "$N @stats_list in $T s while idle: more than one per 1 s check interval (at most $Tmax allowed): $line"

# ------------------------------------------------------------------- (c)
alive "$BG" || fail "the fallback process $BG of $F ended before its file was unlinked"
rm -f "$F"
wait_until 5 eval '! alive "$BG"' ||
	fail "fallback process $BG (follow inode) still alive 5 s after its file was unlinked and no other process held it"
BG=
group_exists "$G" || fail "group $G was deleted when the monitor of the unlinked $F ended (the regions stay when a monitor ends)"

# ------------------------------------------------------------------- (d)
NF=$DMF_TMP/not-dm.txt
printf 'not on device-mapper\n' > "$NF"
for fg in 1 0; do
	DMFILEMAP_SOCKET=$NOSOCK DMFILEMAP_SUPERVISORD=/nonexistent \
		dmfilemapd 4 0 "$NF" inode "$fg" 0 4< "$NF" > "$DMF_TMP/d.out" 2>&1
	rc=$?
	log "dmfilemapd 4 0 $NF inode $fg 0 (tmpfs): exit $rc: $(cat "$DMF_TMP/d.out")"
	[ "$rc" = 1 ] || fail "fallback for a file on tmpfs (foreground $fg): exit $rc, want 1: $(cat "$DMF_TMP/d.out")"
	[ "$(grep -c -F "cannot monitor $NF: not on a device-mapper device" "$DMF_TMP/d.out")" = 1 ] ||
		fail "fallback for a file on tmpfs (foreground $fg): want one line 'cannot monitor $NF: not on a device-mapper device', got: $(cat "$DMF_TMP/d.out")"
	wait_until 3 eval '[ -z "$(holders "$NF")" ]' ||
		fail "fallback for a file on tmpfs (foreground $fg): processes $(holders "$NF" | tr '\n' ' ')still hold $NF"
done
wait_until 3 no_process dmfilemapd || fail "a dmfilemapd process is left at the end"
require_supervisor
[ "$(mon_count)" = 0 ] || fail "the test's supervisor has $(mon_count) monitors at the end, want 0"
