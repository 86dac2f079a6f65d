#!/bin/sh
# t-killpoints: a SIGKILL at any point of an update leaves nothing half-done
# after a restart (issue 15). A scenario of seven updates, each followed by
# exact O_DIRECT I/O: 1: add --create of a file F1 of 4 extents (a group of
# several regions); 2: add --create of a one-extent file F2; 3: F1 grows by
# two blocks (new regions); 4: F1 is truncated (regions carried); 5: F1's
# first extent is punched out (the leader freed: a regroup); 6: F1 grows
# again (its new region takes the freed lowest id: a new leader); 7: remove
# F2 --delete-group. It is run against a supervisor started with
# DMFILEMAP_TEST_KILL_AT=N, which SIGKILLs itself just before its Nth change
# (@stats_create, @stats_delete, @stats_set_aux or state save), for N = 1,
# 2, ... until the first round whose supervisor lives through the scenario
# (N = K + 1: every change tried); each round starts from a clean slate (no
# region on the device, no state file, the files made again), and once the
# supervisor is dead the scenario stops (no more I/O). (A run without the
# hook first checks the scenario itself and logs its kernel messages, from
# Info.) Then a supervisor started without the hook must reach, within
# 15 s, a state where:
#  (a) no region's aux_data holds a mark (dmfilemap:new:);
#  (b) every region on the device is a member of exactly one group, whose
#      descriptor names only regions that exist (no orphan, no region of
#      two groups);
#  (c) a file whose add succeeded and was saved (the state file lists it,
#      the supervisor alive after that), and whose remove did not start, is
#      monitored, once, its group matching the file; a file whose add or
#      remove the kill cut short is monitored and matches, or has one whole
#      group that matches it and is listed as unmonitored, or (unless its
#      add had succeeded and its remove not started) no group; a file never
#      added, or removed and saved, has no monitor and no group; there are
#      no other groups;
#  (d) every monitored file's totals (dmfilemapctl stats) are exactly the
#      O_DIRECT reads and writes the test did to it.
# Each round prints "--- kill at N (WHAT): ok [step S: ...]", WHAT as the
# hook logged it, or "... FAILED" with the check that failed, the region
# list before and after the restart and the supervisor's log (the rounds go
# on, up to 4 failed kill points; the test fails at the end, naming them);
# at the end the number of rounds and of distinct WHATs.
# timeout: 600
# shellcheck source=/dev/null # lib.sh, in the guest
. "$DMF_KT_DIR/lib.sh"
require_supervisor

F1=$DMF_MNT/kp1.img
F2=$DMF_MNT/kp2.img
diag_file "$F1" "$F2"
STATE=${DMFILEMAP_SOCKET%.sock}.state # dmfilemap-supervisord(8), FILES
SLOG=$DMF_RESULTS/$DMF_TEST.supervisord.log
L=$DMF_TMP/kp.list
MAXROUNDS=${DMF_KP_MAXROUNDS:-80}
FAILED= # the kill points after which (a)-(d) failed
MAXFAILED=${DMF_KP_MAXFAILED:-4} # then the rounds stop

# ------------------------------------------------------------ supervisors

# kp_start [N]: start a supervisor (with the hook at change N); wait until
# it answers or is dead (the hook may kill it before it listens).
kp_start() {
	SLOG_AT=$(wc -l < "$SLOG")
	echo "=== supervisor started by $DMF_TEST${1:+ with DMFILEMAP_TEST_KILL_AT=$1}" >> "$SLOG"
	if [ -n "$1" ]; then
		DMFILEMAP_TEST_KILL_AT=$1 dmfilemap-supervisord -f -v --socket "$DMFILEMAP_SOCKET" >> "$SLOG" 2>&1 &
	else
		dmfilemap-supervisord -f -v --socket "$DMFILEMAP_SOCKET" >> "$SLOG" 2>&1 &
	fi
	DMF_SUPERVISOR_PID=$!
	wait_until 10 eval 'dmfilemapctl info > /dev/null 2>&1 || ! supervisor_alive' ||
		fail "supervisor (pid $DMF_SUPERVISOR_PID) does not answer within 10 s"
}

# slog_since: the supervisor log since the last kp_start
slog_since() { tail -n +$((SLOG_AT + 1)) "$SLOG"; }

# reap: the hooked supervisor died: collect it (no zombies pile up)
reap() {
	wait "$DMF_SUPERVISOR_PID" 2>/dev/null
	DMF_SUPERVISOR_PID=
	# a killed supervisor leaves its socket: the next one takes it over
}

# ------------------------------------------------------------ the scenario

# clean_slate: no region on the device, no state file, the files made again
clean_slate() {
	for _id in $(all_regions | awk '{ print $1 }'); do
		dmsetup message "$DMF_DEV" 0 "@stats_delete $_id" || fail "clean slate: @stats_delete $_id"
	done
	[ -z "$(stats_list)" ] || fail "clean slate: regions left: $(stats_list | head -n 5)"
	rm -f "$STATE" "$STATE.tmp" "$F1" "$F2"
	make_fragmented "$F1" 4                 # blocks 0, 2, 4, 6: 4 extents
	write_blocks "$F2" 0 4                  # blocks 0-3
	[ "$(file_extent_count "$F2")" = 1 ] || fail "setup: $F2 has $(file_extent_count "$F2") extents, want 1"
	R1=0 W1=0 R2=0 W2=0 # the O_DIRECT I/O done to F1 and F2
	ST1=none ST2=none   # none tried added saved rmtried removed
}

# io FILE R W SPEC...: dio FILE SPEC, which makes R reads and W writes
io() {
	_io_f=$1 _io_r=$2 _io_w=$3; shift 3
	dio "$_io_f" "$@"
	if [ "$_io_f" = "$F1" ]; then R1=$((R1 + _io_r)) W1=$((W1 + _io_w)); else R2=$((R2 + _io_r)) W2=$((W2 + _io_w)); fi
}

# kp_add FILE: add FILE --create; true if it printed success (MON_ID set)
kp_add() {
	_ka=$(dmfilemapctl add "$1" --create 2>&1) || { log "add $1: $_ka"; return 1; }
	parse_add_line "$_ka" || { log "add $1: $_ka"; return 1; }
	log "$_ka"
}

# matched_or_dead MON FILE: the group of monitor MON matches FILE, or the
# supervisor is dead
matched_or_dead() { ! supervisor_alive || mon_matches "$1" "$2" 2> /dev/null; }
region_gone_or_dead() { ! supervisor_alive || ! region_exists "$1"; }

# saved_or_dead FILE [gone]: wait until the state file lists FILE (with
# "gone": no longer lists it); false if the supervisor died meanwhile
state_says() {
	if grep -qF "\"path\":\"$1\"" "$STATE" 2> /dev/null; then [ -z "$2" ]; else [ -n "$2" ]; fi
}
saved_or_dead() {
	_sd_f=$1 _sd_g=${2:-}
	wait_until 5 said_or_dead ||
		fail "step $STEP: the state file does not say $1 is ${2:-listed} 5 s after the change"
	supervisor_alive
}
said_or_dead() { ! supervisor_alive || state_says "$_sd_f" "$_sd_g"; }

settle() { # MON FILE WHAT
	wait_until 10 matched_or_dead "$1" "$2" || fail "$3: the group of $2 does not match within 10 s: $(mismatch)"
}

step_1() {
	ST1=tried
	kp_add "$F1" || return 0
	ST1=added M1=$MON_ID
}
io_1() { io "$F1" 7 2 r 0:2 2 4 6:3 w 2 4; }
step_2() {
	ST2=tried
	kp_add "$F2" || return 0
	ST2=added M2=$MON_ID
}
io_2() { io "$F2" 4 2 r 0:3 3 w 1:2; io "$F1" 1 0 r 6; }
step_3() { # two new extents: blocks 8 and 10
	# O_DIRECT (-d): the blocks are written before the supervisor hears
	# of them, so no region it makes counts that write
	xfs_io -d -c "pwrite -q -S 0x44 $((8 * 4096)) 4096" -c "pwrite -q -S 0x44 $((10 * 4096)) 4096" -c fsync "$F1" > /dev/null ||
		fail "step 3: grow $F1"
	settle "$M1" "$F1" "step 3 (grow)"
}
io_3() { io "$F1" 4 1 r 8:2 10 0 w 10; }
step_4() { # blocks 8 and 10 go: their regions carried
	truncate -s $((8 * 4096)) "$F1" || fail "step 4: truncate $F1"
	settle "$M1" "$F1" "step 4 (truncate)"
}
io_4() { io "$F1" 3 1 r 0 2:2 w 6; io "$F2" 1 0 r 2; }
step_5() { # the leader's extent freed
	punch "$F1" 0 1
	settle "$M1" "$F1" "step 5 (leader freed)"
}
io_5() { io "$F1" 3 1 r 2 4:2 w 4; }
step_6() { # a new extent, whose region takes the lowest free id (the old leader's)
	xfs_io -d -c "pwrite -q -S 0x45 $((8 * 4096)) 4096" -c fsync "$F1" > /dev/null || fail "step 6: grow $F1"
	settle "$M1" "$F1" "step 6 (grow, new leader)"
}
io_6() { io "$F1" 4 1 r 8:3 2 w 8; }
step_7() {
	_g2=$(mon_group_by_id "$M2")
	ST2=rmtried
	_kr=$(dmfilemapctl remove "$F2" --delete-group 2>&1) || { log "remove $F2: $_kr"; return 0; }
	log "$_kr"
	[ -n "$_g2" ] && { wait_until 10 region_gone_or_dead "$_g2" || fail "step 7: region $_g2 of $F2 not deleted within 10 s"; }
	ST2=removing
}
io_7() { io "$F1" 2 1 r 6:2 w 2; }

step_name() {
	case $1 in
	0) echo start ;; 1) echo "add F1" ;; 2) echo "add F2" ;; 3) echo "grow F1" ;;
	4) echo "truncate F1" ;; 5) echo "punch F1's leader" ;;
	6) echo "grow F1, new leader" ;; 7) echo "remove F2 --delete-group" ;;
	*) echo "the end" ;;
	esac
}

# scenario: the seven steps, stopping once the supervisor is dead; STEP is
# the step it died in ("end": it lived through them all)
scenario() {
	STEP=0
	for _s in 1 2 3 4 5 6 7; do
		supervisor_alive || return 0
		STEP=$_s
		"step_$STEP"
		supervisor_alive || return 0
		sleep 1 # the state file is written shortly after each change
		supervisor_alive || return 0
		# saved: the state file says so (and the supervisor lived on)
		case $STEP:$ST1:$ST2 in
		1:added:*) saved_or_dead "$F1" || return 0; ST1=saved ;;
		2:*:added) saved_or_dead "$F2" || return 0; ST2=saved ;;
		7:*:removing) saved_or_dead "$F2" gone || return 0; ST2=removed ;;
		esac
		# a step whose add failed with the supervisor alive: a bug
		case $STEP:$ST1:$ST2 in
		1:tried:*|2:*:tried) fail "step $STEP: add failed, the supervisor alive" ;;
		7:*:rmtried) fail "step 7: remove failed, the supervisor alive" ;;
		esac
		"io_$STEP"
	done
	STEP=end
}

# ------------------------------------------------------------ the checks

# check: (a)-(d) on the current @stats_list and monitor list; false with
# the reason in $DMF_TMP/mismatch
check() {
	_mm=$DMF_TMP/mismatch
	dmsetup message "$DMF_DEV" 0 @stats_list > "$L" 2>&1 || { echo "@stats_list failed: $(cat "$L")" > "$_mm"; return 1; }
	# (a) no mark left
	if grep -q 'dmfilemap:new:' "$L"; then
		echo "(a) marks left: $(grep 'dmfilemap:new:' "$L" | tr '\n' ';')" > "$_mm"; return 1
	fi
	# (b) every region in exactly one valid group
	awk -f "$_DMF_AWK" -v mode=groups < "$L" > "$DMF_TMP/kp.groups"
	: > "$DMF_TMP/kp.claims"
	while read -r _g; do
		awk -f "$_DMF_AWK" -v mode=attrs -v g="$_g" < "$L" > "$DMF_TMP/kp.attrs" 2> "$DMF_TMP/kp.err" ||
			{ echo "(b) group $_g: $(cat "$DMF_TMP/kp.err")" > "$_mm"; return 1; }
		awk -v g="$_g" '{ print $1, g }' "$DMF_TMP/kp.attrs" >> "$DMF_TMP/kp.claims"
	done < "$DMF_TMP/kp.groups"
	awk -f "$_DMF_AWK" -v mode=regions < "$L" | awk -v claims="$DMF_TMP/kp.claims" '
		BEGIN { while ((getline l < claims) > 0) { split(l, f, " "); n[f[1]]++; by[f[1]] = by[f[1]] " " f[2] } }
		{ seen[$1] = 1; if (!n[$1]) { print "(b) region " $1 " (" $2 "+" $3 ") is in no group"; bad = 1 }
		  else if (n[$1] > 1) { print "(b) region " $1 " is claimed by groups" by[$1]; bad = 1 } }
		END { exit bad }' > "$_mm" || return 1
	# (c) the monitors and groups the files' histories allow
	dmfilemapctl list --json > "$DMF_TMP/kp.json" 2>&1 || { echo "(c) list failed: $(cat "$DMF_TMP/kp.json")" > "$_mm"; return 1; }
	_ngroups=$(wc -l < "$DMF_TMP/kp.groups")
	_accounted=0
	for _i in 1 2; do
		_f='' _st='' _r='' _w=''
		eval "_f=\$F$_i _st=\$ST$_i _r=\$R$_i _w=\$W$_i"
		_gs=$(jq -r --arg p "$_f" '.monitors[] | select(.path == $p) | .group_id' "$DMF_TMP/kp.json")
		# the unmonitored groups that match the file
		filefrag -s -v -b512 "$_f" > "$DMF_TMP/ff.kp" 2>&1
		_ug=
		for _u in $(jq -r '.unmonitored[] | .group_id' "$DMF_TMP/kp.json"); do
			awk -f "$_DMF_AWK" -v mode=compare -v g="$_u" -v ff="$DMF_TMP/ff.kp" < "$L" > /dev/null 2>&1 && _ug="$_ug $_u"
		done
		_ug=${_ug# }
		case $_gs in
		*[!0-9]*) echo "(c) $_f ($_st) has several monitors: groups $(echo "$_gs" | tr '\n' ' ')" > "$_mm"; return 1 ;;
		esac
		case $_st in
		saved) [ -n "$_gs" ] || { echo "(c) $_f (added and saved) is not monitored" > "$_mm"; return 1; } ;;
		none|removed) [ -z "$_gs$_ug" ] || { echo "(c) $_f ($_st) has a group: monitored in ${_gs:-none}, unmonitored ${_ug:-none}" > "$_mm"; return 1; } ;;
		esac
		if [ -n "$_gs" ]; then
			[ -z "$_ug" ] || { echo "(c) $_f is monitored (group $_gs) and has an unmonitored group $_ug too" > "$_mm"; return 1; }
			grep -qx "$_gs" "$DMF_TMP/kp.groups" || { echo "(c) $_f's group $_gs is not a group on the device" > "$_mm"; return 1; }
			awk -f "$_DMF_AWK" -v mode=compare -v g="$_gs" -v ff="$DMF_TMP/ff.kp" < "$L" > /dev/null 2> "$DMF_TMP/kp.err" ||
				{ echo "(c) $_f ($_st): $(cat "$DMF_TMP/kp.err")" > "$_mm"; return 1; }
			# (d) exact totals
			stats_read "$_f" || return 1
			[ "$ST_READS/$ST_WRITES/$ST_RBYTES/$ST_WBYTES" = "$_r/$_w/$((_r * 4096))/$((_w * 4096))" ] || {
				echo "(d) $_f ($_st): reads/writes/read_bytes/write_bytes got $ST_READS/$ST_WRITES/$ST_RBYTES/$ST_WBYTES, want $_r/$_w/$((_r * 4096))/$((_w * 4096)) (carried_regions $ST_CARRIED, resets $ST_RESETS, regions $ST_REGIONS)" > "$_mm"
				return 1; }
			_accounted=$((_accounted + 1))
			eval "SEEN$_i=\"monitored, group $_gs, $ST_READS reads, $ST_WRITES writes\""
		elif [ -n "$_ug" ]; then
			case $_ug in *[!0-9]*) echo "(c) $_f ($_st) has several unmonitored groups: $_ug" > "$_mm"; return 1 ;; esac
			_accounted=$((_accounted + 1))
			eval "SEEN$_i=\"unmonitored group $_ug\""
		else
			[ "$_st" != added ] || { echo "(c) $_f (added, not yet saved) has no group" > "$_mm"; return 1; }
			eval "SEEN$_i=\"no group\""
		fi
	done
	_nmon=$(jq '.monitors | length' "$DMF_TMP/kp.json")
	[ "$_ngroups" = "$_accounted" ] || { echo "(c) $_ngroups groups on the device ($(tr '\n' ' ' < "$DMF_TMP/kp.groups")), $_accounted accounted for by the files; $_nmon monitors" > "$_mm"; return 1; }
	return 0
}

# after_kill N: restart without the hook and wait for (a)-(d); if they are
# not reached, say why, what the kernel and the supervisor show, and add
# the kill point to FAILED (the rounds go on: all failing points are seen)
after_kill() {
	kp_start
	supervisor_alive || fail "kill at $1 ($WHAT): the supervisor started without the hook died: $(slog_since | tail -n 5)"
	SEEN1='' SEEN2=''
	ROUND_OK=1
	wait_until 15 check && return 0
	ROUND_OK=0
	echo "--- kill at $1 ($WHAT): FAILED [step $STEP: $STEPNAME; F1 $ST1, F2 $ST2]: $(mismatch)"
	echo "--- @stats_list before the restart:"; cat "$L.before"
	echo "--- @stats_list 15 s after the restart:"; stats_list
	echo "--- dmfilemapctl list --json:"; dmfilemapctl list --json | head -c 3000; echo
	echo "--- supervisor log of the hooked run and the restart:"
	tail -n +$((ROUND_AT + 1)) "$SLOG" | grep -v '^$' | tail -n 60
	echo "--- (end of kill at $1)"
	FAILED="$FAILED${FAILED:+; }$1 ($WHAT, step $STEP: $(mismatch | cut -c 1-120))"
}

# round N: one kill point; sets WHAT ("" if the supervisor lived through
# the whole scenario)
round() {
	clean_slate
	ROUND_AT=$(wc -l < "$SLOG")
	kp_start "$1"
	scenario
	if supervisor_alive; then
		WHAT=
		supervisor_stop
	else
		reap
		WHAT=$(slog_since | sed -n 's/.*test hook: SIGKILL before change [0-9]* (\(.*\))$/\1/p' | tail -n 1)
		[ -n "$WHAT" ] || fail "kill at $1: the supervisor died in step $STEP without the hook's line: $(slog_since | tail -n 5)"
	fi
	stats_list > "$L.before"
	STEPNAME=$(step_name "$STEP")
	after_kill "$1"
	supervisor_stop
}

supervisor_takeover
supervisor_kill TERM

# ---- the scenario without the hook: its kernel messages (Info; the state
# saves are not counted there: the rounds find K), and the checks on it
clean_slate
kp_start
io0=$(dmfilemapctl info --json | jq '.ioctls.stats_create + .ioctls.stats_delete + .ioctls.stats_set_aux')
_dmf_now
# shellcheck disable=SC2154 # _dmf_cs: set by _dmf_now
T0=$_dmf_cs
scenario
[ "$STEP" = end ] || fail "the scenario without the hook stopped in step $STEP"
io1=$(dmfilemapctl info --json | jq '.ioctls.stats_create + .ioctls.stats_delete + .ioctls.stats_set_aux')
log "the scenario without the hook: $((io1 - io0)) kernel changes, $(cs_fmt "$(elapsed_cs "$T0")") s; F1 $R1 reads $W1 writes, F2 $R2 reads $W2 writes"
WHAT=none STEP=end STEPNAME=$(step_name end)
stats_list > "$L.before"
ROUND_AT=$SLOG_AT
supervisor_stop
after_kill 0
supervisor_stop
[ -z "$FAILED" ] || fail "the scenario without the hook, after a SIGTERM: $FAILED"
[ "$DMF_KP_MEASURE" = 1 ] && exit 0

# ---- every kill point, until the supervisor lives through the scenario
n=1 rounds=0 nfailed=0
: > "$DMF_TMP/kp.whats"
while [ "$n" -le "$MAXROUNDS" ]; do
	_dmf_now; t=$_dmf_cs
	round "$n"
	rounds=$((rounds + 1))
	if [ -z "$WHAT" ]; then
		[ "$ROUND_OK" = 1 ] &&
			echo "--- kill at $n: not reached, the scenario made $((n - 1)) changes: ok ($(cs_fmt "$(elapsed_cs "$t")") s)"
		break
	fi
	echo "$WHAT" >> "$DMF_TMP/kp.whats"
	if [ "$ROUND_OK" = 1 ]; then
		echo "--- kill at $n ($WHAT): ok [step $STEP: $STEPNAME; F1 $SEEN1; F2 $SEEN2] ($(cs_fmt "$(elapsed_cs "$t")") s)"
	else
		nfailed=$((nfailed + 1))
		if [ "$nfailed" -ge "$MAXFAILED" ]; then
			FAILED="$FAILED (after $MAXFAILED failed kill points the later ones are not tried)"
			break
		fi
	fi
	n=$((n + 1))
done
kinds=$(sort -u "$DMF_TMP/kp.whats" | tr '\n' ',' | sed 's/,$//')
echo "--- $rounds rounds, $(wc -l < "$DMF_TMP/kp.whats") kill points ($nfailed failed), $(sort -u "$DMF_TMP/kp.whats" | wc -l) kinds of change: $kinds"
[ -z "$FAILED" ] || fail "after a SIGKILL at change $FAILED"
[ -z "$WHAT" ] || fail "the supervisor still died at change $MAXROUNDS: more changes than expected"
