#!/bin/sh
# t-restart-fdstore: under a service manager (fake-systemd.py stands in for
# systemd: socket activation, NOTIFY_SOCKET, a file descriptor store) every
# monitored file's fd is kept in the store as "monitor-ID", so monitors
# survive a SIGKILL of the supervisor even when their files were renamed or
# unlinked (still held open) while none ran (dmfilemap-supervisord(8),
# RESTARTS). Four monitors: A (follow inode, renamed while down), B (follow
# inode, renamed into another directory while up, grown while down), C
# (follow inode, held open by another process, unlinked while down), D
# (follow path). After the restart all four are back within 2 s: A under its
# new name, B with a matching group within 3 s, C "unlinked" until the holder
# exits, then ended (reason unlinked); the store holds exactly the new
# monitors' names. A plain restart (no NOTIFY_SOCKET, state file only) drops
# a file renamed while down: the store is what saves it.
# timeout: 180
. "$DMF_KT_DIR/lib.sh"
require_supervisor

STATE=${DMFILEMAP_SOCKET%.sock}.state
SLOG=$DMF_RESULTS/$DMF_TEST.supervisord.log
FSD=$DMF_TMP/fsd
mkdir -p "$DMF_MNT/d1" "$DMF_MNT/d2"
A=$DMF_MNT/fa.img A2=$DMF_MNT/fa-renamed.img A3=$DMF_MNT/fa-again.img
B=$DMF_MNT/d1/fb.img B2=$DMF_MNT/d2/fb-moved.img
C=$DMF_MNT/fc.img D=$DMF_MNT/fd.img
diag_file "$A2" "$B2" "$D"

cleanup() {
	stop_watch
	[ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null
	# a failure left fake-systemd (and its supervisor) running: stop both
	if [ -n "$FSD_PID" ] && kill -0 "$FSD_PID" 2>/dev/null; then
		fsd_send quit
		wait_until 15 fsd_replied
	fi
	[ -n "$PLAIN" ] && supervisor_alive && kill -TERM "$DMF_SUPERVISOR_PID"
}
trap cleanup EXIT

# ----------------------------------------------------------- fake-systemd
# fsd CMD: send CMD (start, kill, stop, dump, quit) to fake-systemd and wait
# for its reply; fails unless it is "ok ...". The reply is in FSD_REPLY. (Its
# own loop, not wait_until: store_is, which calls it, runs in wait_until.)
FSD_N=0
fsd_send() { FSD_N=$((FSD_N + 1)); echo "$1" > "$FSD/ctl"; }
fsd_replied() { read -r _fr_n FSD_REPLY 2>/dev/null < "$FSD/reply" && [ "$_fr_n" = "$FSD_N" ]; }
fsd() {
	kill -0 "$FSD_PID" 2>/dev/null || fail "fake-systemd (pid $FSD_PID) is gone"
	fsd_send "$1"
	_dmf_now
	_fs_end=$((_dmf_cs + 1500))
	until fsd_replied; do
		_dmf_now
		[ "$_dmf_cs" -lt "$_fs_end" ] || fail "fake-systemd did not answer '$1' within 15 s"
		sleep 0.1
	done
	case $FSD_REPLY in ok*) ;; *) fail "fake-systemd $1: $FSD_REPLY" ;; esac
}
# store_is NAME...: the store holds exactly these names (any order).
store_is() {
	fsd dump
	printf '%s\n' "$@" | sort > "$DMF_TMP/store.want"
	cmp -s "$FSD/store" "$DMF_TMP/store.want"
}
store_names() { tr '\n' ' ' < "$FSD/store"; }
# monitor_names: "monitor-ID" of every monitor listed.
monitor_names() { mon_jq '.monitors[] | "monitor-\(.id)"' | tr '\n' ' '; }

# the supervisor guest-init started goes; fake-systemd takes the socket
supervisor_takeover
supervisor_stop_detached
echo "=== fake-systemd.py and the supervisors it starts" >> "$SLOG"
python3 "$DMF_KT_DIR/fake-systemd.py" "$FSD" "$DMFILEMAP_SOCKET" "$STATE" >> "$SLOG" 2>&1 &
FSD_PID=$!
wait_until 10 test -p "$FSD/ctl" || fail "fake-systemd did not make $FSD/ctl within 10 s"
fsd start
wait_until 10 eval 'dmfilemapctl info > /dev/null 2>&1' || fail "supervisor started by fake-systemd does not answer within 10 s"

# ----------------------------------------------------------- four monitors
make_fragmented "$A" 3
make_fragmented "$B" 3
make_fragmented "$C" 2
make_fragmented "$D" 2
add_create "$A" --follow inode; IA=$MON_ID
add_create "$B" --follow inode; IB=$MON_ID GB=$MON_GROUP
add_create "$C" --follow inode; IC=$MON_ID
add_create "$D" --follow path; ID=$MON_ID
DEVINO_C=$(stat -c '%d %i' "$C")
sleep 1000 < "$C" &
HOLDER=$!
wait_until 3 eval '[ "$(readlink "/proc/$HOLDER/fd/0")" = "$C" ]' || fail "setup: holder does not hold $C"
mv "$B" "$B2" || fail "mv $B $B2"
wait_until 3 eval '[ "$(mon_field_by_id "$IB" path)" = "$B2" ]' ||
	fail "monitor $IB lists path '$(mon_field_by_id "$IB" path)' after its file was renamed, want $B2"

OLD="monitor-$IA monitor-$IB monitor-$IC monitor-$ID"
# shellcheck disable=SC2086
wait_until 3 store_is $OLD || fail "fd store holds '$(store_names)', want '$OLD'"
# the state file names the stored fds (and B's new path) before the kill
# shellcheck disable=SC2086
printf '%s\n' $OLD | sort > "$DMF_TMP/old.names"
state_ok() {
	jq -r '.monitors[] | .fdname' "$STATE" 2>/dev/null | sort > "$DMF_TMP/state.names"
	cmp -s "$DMF_TMP/state.names" "$DMF_TMP/old.names" &&
		jq -e --arg p "$B2" 'any(.monitors[]; .path == $p)' "$STATE" > /dev/null 2>&1
}
wait_until 5 state_ok || fail "state file $STATE: $(head -c 1000 "$STATE" 2>/dev/null), want fdnames '$OLD' and $B2"

# ------------------------------------------------ changes with no supervisor
# expected after the restart, "PATH MODE STATE" of A, B, C and D, all in one list
WANT=$(printf '%s\n' "$A2 inode active" "$B2 inode active" "$C inode unlinked" "$D path active" | sort | tr '\n' ';')
WANT=${WANT%;}
# all_back: one list has them all; sets GBN, the group of B there (for the
# next check), and HAVE
all_back() {
	HAVE=$(dmfilemapctl list --json 2>/dev/null | jq -r --arg b "$B2" '"\(first(.monitors[] |
		select(.path == $b) | .group_id) // "none") " + ([.monitors[] | "\(.path) \(.mode) \(.state)"] | sort | join(";"))' 2>/dev/null)
	GBN=${HAVE%% *}
	HAVE=${HAVE#* }
	[ "$HAVE" = "$WANT" ]
}

fsd kill
log "supervisor killed (fd store kept); renaming $A, unlinking $C, growing $B2"
mv "$A" "$A2" || fail "mv $A $A2"
rm -f "$C"
append_blocks "$B2" 4
group_matches_file "$GB" "$B2" && fail "setup: group $GB still matches $B2 after it grew"

# the clock starts when fake-systemd has started the supervisor (its exec)
fsd start
_dmf_now; t0=$_dmf_cs
log "fake-systemd started supervisor pid ${FSD_REPLY#ok }"
within "$t0" 200 all_back ||
	fail "2 s after the restart, monitors (path mode state) '$HAVE', want '$WANT' (last check from $(cs_fmt "$WITHIN_START") to $(cs_fmt "$WITHIN_END") s)"
log "all four back in a check from $(cs_fmt "$WITHIN_START") to $(cs_fmt "$WITHIN_END") s after the start"
b_matches() { # keeps the first mismatch: a later check may start too late to count
	group_matches_file "$GBN" "$B2" && return 0
	[ -s "$DMF_TMP/first-mismatch" ] || cp "$DMF_TMP/mismatch" "$DMF_TMP/first-mismatch"
	return 1
}
within "$t0" 300 b_matches ||
	fail "3 s after the restart, group $GBN of $B2 does not match the file grown while no supervisor ran: $(tr '\n' ' ' < "$DMF_TMP/first-mismatch" 2>/dev/null) (last check from $(cs_fmt "$WITHIN_START") to $(cs_fmt "$WITHIN_END") s)"
NEW=$(monitor_names)
# shellcheck disable=SC2086
wait_until 3 store_is $NEW || fail "fd store after the restart holds '$(store_names)', want the new monitors' '$NEW'"
mon_jq '.monitors[] | .id' | grep -qx -e "$IA" -e "$IB" -e "$IC" -e "$ID" &&
	fail "a re-adopted monitor kept an old id: '$NEW', old '$OLD' (a stale name could not be told apart)"

# C ends when its holder does
ICN=$(mon_id_by_path "$C")
start_watch
kill "$HOLDER"
wait "$HOLDER" 2>/dev/null
HOLDER=
# holders_of_c: "PID(COMMAND)" of every process that holds C open.
holders_of_c() {
	find -L /proc/[0-9]*/fd -maxdepth 1 -inum "${DEVINO_C#* }" 2>/dev/null | while read -r _hf; do
		[ "$(stat -L -c '%d %i' "$_hf" 2>/dev/null)" = "$DEVINO_C" ] || continue
		_hp=${_hf#/proc/}
		_hp=${_hp%%/*}
		printf '%s(%s) ' "$_hp" "$(cat "/proc/$_hp/comm" 2>/dev/null)"
	done
}
wait_until 10 mon_gone_id "$ICN" ||
	fail "monitor $ICN of the unlinked $C (state '$(mon_field_by_id "$ICN" state)') still listed 10 s after its last other holder exited; held by: $(holders_of_c)"
wait_until 3 eval '[ "$(event_field "$ICN" ended reason)" = unlinked ]' ||
	fail "ended event of monitor $ICN has reason '$(event_field "$ICN" ended reason)', want unlinked"
stop_watch
NEW=$(monitor_names)
# shellcheck disable=SC2086
wait_until 3 store_is $NEW || fail "fd store holds '$(store_names)' after monitor $ICN ended, want '$NEW'"

# SIGTERM: the monitors end with reason shutdown but stay in the store
fsd stop
# shellcheck disable=SC2086
store_is $NEW || fail "fd store holds '$(store_names)' after SIGTERM, want '$NEW' kept for the next start"
fsd quit
wait "$FSD_PID" || fail "fake-systemd exited with status $?"
FSD_PID=

# ------------------------------- without a service manager: the state file only
mv "$A2" "$A3" || fail "mv $A2 $A3"
supervisor_start
PLAIN=1
readopted() { # FILE MODE: a monitor of FILE in MODE is listed
	[ -n "$(mon_jq '.monitors[] | select(.path == $p and .mode == $m) | .id' --arg p "$1" --arg m "$2")" ]
}
wait_until 5 readopted "$B2" inode || fail "plain restart: $B2 not re-adopted"
wait_until 5 readopted "$D" path || fail "plain restart: $D not re-adopted"
[ "$(mon_count)" = 2 ] ||
	fail "plain restart: $(mon_count) monitors ($(mon_jq '.monitors[] | .path' | tr '\n' ' ')), want 2 ($A2, renamed to $A3 with no fd store, dropped)"
wait_until 3 grep -q "dropping $A2" "$SLOG" || fail "no log line naming the dropped $A2"
supervisor_stop
PLAIN=
