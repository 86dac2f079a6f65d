#!/bin/sh
# t-suspend: devices that stop answering. Two devices are monitored: vol and
# vol2 (linear on the guest's second disk /dev/ubdb, a DMF_FS filesystem),
# four files on each (grow.img, fsync.img, over.img, live.img). Each device
# in turn is stopped in three ways: "dmsetup suspend" (the filesystem frozen
# first), "dmsetup suspend --nolockfs" and "fsfreeze -f" of its filesystem.
# While it is stopped, its files are written in the background (buffered
# appends to grow.img, an append with conv=fsync to fsync.img, a buffered
# overwrite of over.img; frozen, all three block), and on the other device
# live.img is appended to and then written past its end. Checked while it
# is stopped: after each of these two changes live.img's group matches the
# file within 1 s (we allow 3 s; each monitor list these checks read must
# come within 2 s), and "dmfilemapctl list --json" (before, between and
# after these) and "dmfilemapctl stats --json" of live.img answer within
# 3 s. After "dmsetup resume" / "fsfreeze -u" the writers end (within 15 s)
# and every group of the stopped device matches its file within 5 s, those
# of the other device still. On a failure the supervisor's /proc state
# (wchan, stack, and syscall where the kernel has it) is printed before
# the device is resumed.
# timeout: 420
# shellcheck source=/dev/null # lib.sh, in the guest
. "$DMF_KT_DIR/lib.sh"
require_supervisor

[ -b /dev/ubdb ] || fail "harness: no second disk /dev/ubdb in the guest"
MNT2=/run/dmf-test/mnt2
MONS=$DMF_TMP/suspend.mons # "DEV ID PATH", one a monitor
STOPPED=                   # "MODE DEV MNT" while a device is stopped
WRITERS=                   # pids of the background writers

# ---------------------------------------------------------------- helpers

# proc_state PID: "STATE wchan=W syscall=S" of PID.
proc_state() {
	_ps=$(cat "/proc/$1/stat" 2>/dev/null) || { echo "gone"; return; }
	_ps=${_ps##*) }
	printf '%s wchan=%s syscall=%s' "${_ps%% *}" \
		"$(cat "/proc/$1/wchan" 2>/dev/null)" "$(cat "/proc/$1/syscall" 2>/dev/null)"
}

# stall_diag: what the supervisor (every thread) and the writers are doing.
stall_diag() {
	_sp=$DMF_SUPERVISOR_PID
	echo "=== supervisor $_sp at $(cs_fmt "$(elapsed_cs 0)") s uptime"
	for _t in /proc/"$_sp"/task/*; do
		[ -d "$_t" ] || continue
		echo "--- thread ${_t##*/}: $(proc_state "${_t#/proc/}")"
		head -n 30 "$_t/stack" 2>&1
		# the fd of a blocked call (its first argument), if it is one
		_sc=$(cat "$_t/syscall" 2>/dev/null)
		# shellcheck disable=SC2086 # "NR ARG0 ...": split on purpose
		set -- $_sc
		if [ $# -ge 2 ]; then
			_fd=$(($2))
			[ -e "/proc/$_sp/fd/$_fd" ] &&
				echo "    arg0 fd $_fd -> $(readlink "/proc/$_sp/fd/$_fd")"
		fi
	done
	for _w in $WRITERS; do
		echo "--- writer $_w: $(proc_state "$_w")"
	done
}

# stop_kind MODE DEV MNT: stop DEV as MODE says.
stop_kind() {
	case $1 in
	suspend) dmsetup suspend "$2" ;;
	nolockfs) dmsetup suspend --nolockfs "$2" ;;
	freeze) fsfreeze -f "$3" ;;
	esac
}

# restart_kind MODE DEV MNT: undo stop_kind.
restart_kind() {
	case $1 in
	suspend|nolockfs) dmsetup resume "$2" ;;
	freeze) fsfreeze -u "$3" ;;
	esac
}

# release: the stopped device (if any) is resumed, the writers waited for
# (at most 15 s). Returns 1 if the resume failed or a writer is left.
release() {
	_rl=0
	if [ -n "$STOPPED" ]; then
		# shellcheck disable=SC2086 # "MODE DEV MNT"
		restart_kind $STOPPED || { echo "release: cannot undo $STOPPED"; _rl=1; }
		STOPPED=
	fi
	for _w in $WRITERS; do
		wait_until 15 eval "! [ -d /proc/$_w ] || case \$(proc_state $_w) in Z*) true ;; *) false ;; esac" ||
			{ echo "release: writer $_w still running 15 s after the resume: $(proc_state "$_w")"; _rl=1; }
	done
	return $_rl
}

# fail REASON: as lib.sh's, but the supervisor's state is shown first (while
# the device is still stopped), the device is resumed before the
# diagnostics, and these are skipped if the supervisor does not answer.
fail() {
	echo "FAIL: $*"
	stall_diag
	release
	if timeout 5 dmfilemapctl info > /dev/null 2>&1; then
		diagnose
	else
		echo "=== diagnostics skipped: the supervisor does not answer Info within 5 s after the resume"
		stall_diag
	fi
	exit 1
}

cleanup() {
	release > /dev/null 2>&1
	for _w in $WRITERS; do kill "$_w" 2>/dev/null; done
	if awk -v m="$MNT2" '$2 == m { f = 1 } END { exit !f }' /proc/mounts; then
		umount "$MNT2" 2>/dev/null || umount -l "$MNT2" 2>/dev/null
	fi
	dmsetup remove vol2 2>/dev/null
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# list_json: the monitor list into $DMF_TMP/list.json, answered within 2 s.
list_json() {
	timeout 2 dmfilemapctl list --json > "$DMF_TMP/list.json" 2> "$DMF_TMP/list.err" && return 0
	_lj=$?
	if [ "$_lj" = 124 ]; then
		echo "dmfilemapctl list --json did not answer within 2 s" > "$DMF_TMP/mismatch"
	else
		echo "dmfilemapctl list --json: exit $_lj: $(head -c 200 "$DMF_TMP/list.err")" > "$DMF_TMP/mismatch"
	fi
	return 1
}

# mon_matches_on DEV ID FILE: monitor ID's group on DEV matches FILE (the
# list answered within 2 s).
mon_matches_on() {
	list_json || return 1
	_mg=$(jq -r --arg n "$2" '.monitors[] | select(.id == ($n|tonumber)) | .group_id' "$DMF_TMP/list.json")
	[ -n "$_mg" ] || { echo "monitor $2 ($3) not listed" > "$DMF_TMP/mismatch"; return 1; }
	on_dev "$1" group_matches_file "$_mg" "$3"
}

# dev_all_match DEV: every monitor of DEV (in $MONS) matches its file, in
# one list, one filefrag and one @stats_list.
dev_all_match() {
	_dd=$1
	list_json || return 1
	jq -r '.monitors[] | "\(.id) \(.group_id) \(.path)"' "$DMF_TMP/list.json" > "$DMF_TMP/listed" ||
		{ echo "jq failed on the list" > "$DMF_TMP/mismatch"; return 1; }
	awk -v d="$_dd" 'NR == FNR { if ($1 == d) w[$2] = 1; next } ($1 in w) { print $2, $3 }' \
		"$MONS" "$DMF_TMP/listed" > "$DMF_TMP/pairs"
	_want=$(awk -v d="$_dd" '$1 == d' "$MONS" | wc -l) _got=$(wc -l < "$DMF_TMP/pairs")
	[ "$_got" = "$_want" ] || { echo "$_got of the $_want monitors of $_dd listed" > "$DMF_TMP/mismatch"; return 1; }
	set --
	while read -r _g _p; do set -- "$@" "$_p"; done < "$DMF_TMP/pairs"
	filefrag -s -v -b512 "$@" > "$DMF_TMP/ffm" 2>&1
	dmsetup message "$_dd" 0 @stats_list |
		awk -f "$_DMF_AWK" -v mode=comparemany -v pairs="$DMF_TMP/pairs" -v ff="$DMF_TMP/ffm" 2> "$DMF_TMP/mismatch"
}

# answers WHAT SECONDS CMD...: CMD (a dmfilemapctl call) exits 0 within
# SECONDS; its output is in $DMF_TMP/answer. Fails the test if not.
answers() {
	_aw=$1 _as=$2
	shift 2
	_dmf_now
	# shellcheck disable=SC2154 # set by lib.sh's _dmf_now
	_a0=$_dmf_cs
	timeout "$_as" "$@" > "$DMF_TMP/answer" 2>&1
	_ar=$?
	[ "$_ar" = 124 ] && fail "$_aw: $* did not answer within $_as s"
	[ "$_ar" = 0 ] || fail "$_aw: $* failed (exit $_ar): $(head -c 300 "$DMF_TMP/answer")"
	log "$_aw: $1 $2 answered in $(cs_fmt "$(elapsed_cs "$_a0")") s"
}

# size_blocks FILE: FILE's size in 4 KiB blocks (rounded up).
size_blocks() { echo $(( ($(stat -c %s "$1") + 4095) / 4096 )); }

# ------------------------------------------------------------------ setup

second_device "$MNT2"

: > "$MONS"
# setup_files DEV MNT: four monitored files on DEV; LIVE_ID: live.img's monitor.
setup_files() {
	for f in grow fsync over live; do
		write_blocks "$2/$f.img" 0 16
		add_create "$2/$f.img"
		[ "$(mon_field_by_id "$MON_ID" dm_name)" = "$1" ] ||
			fail "setup: monitor $MON_ID of $2/$f.img is on '$(mon_field_by_id "$MON_ID" dm_name)', want $1"
		echo "$1 $MON_ID $2/$f.img" >> "$MONS"
	done
	LIVE_ID=$MON_ID
}
setup_files "$DMF_DEV" "$DMF_MNT"
LIVE1=$LIVE_ID
setup_files vol2 "$MNT2"
LIVE2=$LIVE_ID
dev_all_match "$DMF_DEV" || fail "setup: the groups of $DMF_DEV do not match: $(mismatch)"
dev_all_match vol2 || fail "setup: the groups of vol2 do not match: $(mismatch)"

# ------------------------------------------------------------------ rounds

# start_writers MNT: writes to the files on MNT, in the background.
start_writers() {
	_g=$1/grow.img _s=$1/fsync.img _o=$1/over.img
	_sb=$(size_blocks "$_s")
	(
		i=0
		while [ $i -lt 5 ]; do
			dd if=/dev/zero of="$_g" bs=4k count=4 oflag=append conv=notrunc status=none || exit 1
			i=$((i + 1))
			sleep 0.2
		done
	) &
	WRITERS="$WRITERS $!"
	dd if=/dev/zero of="$_s" bs=4k count=8 seek="$_sb" conv=notrunc,fsync status=none &
	WRITERS="$WRITERS $!"
	dd if=/dev/zero of="$_o" bs=4k count=4 conv=notrunc status=none &
	WRITERS="$WRITERS $!"
}

# change_live WHAT DEV MNT ID HOW: append to (HOW=append) or write past the
# end of (HOW=sparse) MNT/live.img; its group matches within 3 s.
change_live() {
	_f=$3/live.img
	_b=$(file_extents "$_f")
	if [ "$5" = append ]; then
		append_blocks "$_f" 4
	else
		write_blocks "$_f" $(( $(size_blocks "$_f") + 64 )) 2
	fi
	[ "$_b" != "$(file_extents "$_f")" ] || fail "$1: setup: the $5 write did not change the extents of $_f"
	_dmf_now
	_c0=$_dmf_cs
	wait_until 3 mon_matches_on "$2" "$4" "$_f" ||
		fail "$1: the group of $_f on $2 does not match 3 s after a $5 write: $(mismatch)"
	log "$1: the group of $_f on $2 matches $(cs_fmt "$(elapsed_cs "$_c0")") s after a $5 write"
}

# round MODE SDEV SMNT ODEV OMNT OID: stop SDEV as MODE says, write to its
# files; the other device ODEV's live.img (monitor OID) is followed and
# the socket answers; after the restart SDEV's groups match.
round() {
	_rw="$1 of $2"
	log "=== $_rw (other device $4)"
	wait_until 5 dev_all_match "$2" || fail "$_rw: before: the groups of $2 do not match: $(mismatch)"
	wait_until 5 dev_all_match "$4" || fail "$_rw: before: the groups of $4 do not match: $(mismatch)"
	stop_kind "$1" "$2" "$3" || fail "$_rw: cannot stop $2 ($1)"
	STOPPED="$1 $2 $3"
	WRITERS=
	start_writers "$3"
	sleep 1 # the writes' events reach the supervisor
	for _x in $WRITERS; do log "$_rw: writer $_x: $(proc_state "$_x")"; done
	log "$_rw: supervisor: $(proc_state "$DMF_SUPERVISOR_PID")"
	answers "$_rw: while stopped" 3 dmfilemapctl list --json
	change_live "$_rw" "$4" "$5" "$6" append
	answers "$_rw: while stopped" 3 dmfilemapctl stats "$5/live.img" --json
	[ "$(jq -r '.files | length' "$DMF_TMP/answer")" = 1 ] ||
		fail "$_rw: dmfilemapctl stats $5/live.img --json: $(head -c 300 "$DMF_TMP/answer")"
	change_live "$_rw" "$4" "$5" "$6" sparse
	answers "$_rw: while stopped, at the end" 3 dmfilemapctl list --json
	require_supervisor
	log "$_rw: restarting $2"
	release > "$DMF_TMP/release.out" 2>&1 || fail "$_rw: $(tail -n 1 "$DMF_TMP/release.out")"
	for _x in $WRITERS; do
		wait "$_x" || fail "$_rw: writer $_x (to $3) failed: exit $?"
	done
	WRITERS=
	_dmf_now
	_r0=$_dmf_cs
	wait_until 5 dev_all_match "$2" ||
		fail "$_rw: the groups of $2 do not match its files 5 s after the restart: $(mismatch)"
	log "$_rw: the groups of $2 match $(cs_fmt "$(elapsed_cs "$_r0")") s after the restart"
	dev_all_match "$4" || fail "$_rw: the groups of $4 do not match after the restart: $(mismatch)"
}

for mode in suspend nolockfs freeze; do
	round "$mode" vol2 "$MNT2" "$DMF_DEV" "$DMF_MNT" "$LIVE1"
	round "$mode" "$DMF_DEV" "$DMF_MNT" vol2 "$MNT2" "$LIVE2"
done
require_supervisor
