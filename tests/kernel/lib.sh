# lib.sh: helpers for the kernel tests; sourced by tests/kernel/t-*.sh inside
# the UML guest (POSIX sh: the guest runs them with /bin/sh). Process start-up
# is slow in the guest (ptrace), so helpers keep the number of processes small.
#
# Environment set by guest-init for every test:
#   DMF_DEV        dm device name ("vol"), fresh for each test
#   DMF_MNT        where its filesystem is mounted
#   DMF_FS         ext4 | xfs
#   DMF_KT_DIR     this directory
#   DMF_BUILD      the build dir (first in PATH)
#   DMF_RESULTS    host-visible results dir
#   DMF_TEST       test name
#   DMF_TMP        scratch dir for the test (tmpfs, not on DMF_MNT)
#   DMF_SUPERVISOR_PID   pid of the supervisor started for this test (or "")
#   DMFILEMAP_SOCKET     the supervisor's private socket
#
# Conventions: a test exits 0 on success; on failure it calls fail "reason"
# (prints "FAIL: reason" and diagnostics, exits 1); to skip it calls
# skip "reason" (prints "SKIP: reason", exits 77).

: "${DMF_DEV:=vol}"
: "${DMF_MNT:=/run/dmf-test/mnt}"
: "${DMF_TMP:=/run/dmf-tmp}"
: "${DMF_KT_DIR:=$(dirname "$0")}"
mkdir -p "$DMF_TMP"
_DMF_AWK="$DMF_KT_DIR/stats.awk"

# ---------------------------------------------------------------- reporting

log() { _dmf_now; printf -- '--- [%d.%02d] %s\n' $((_dmf_cs / 100)) $((_dmf_cs % 100)) "$*"; }

# Diagnostics printed on failure: the kernel's regions (of DMF_DEV and the
# devices in DMF_DIAG_DEVS), the monitors and the files in DMF_DIAG_FILES.
diagnose() {
	echo "=== diagnostics"
	for _dd in $DMF_DEV $DMF_DIAG_DEVS; do
		echo "--- @stats_list $_dd:"
		dmsetup message "$_dd" 0 @stats_list 2>&1 | head -n 60
	done
	if command -v dmfilemapctl >/dev/null 2>&1 && [ -S "${DMFILEMAP_SOCKET:-/nonexistent}" ]; then
		echo "--- dmfilemapctl list --json:"
		dmfilemapctl list --json 2>&1 | head -c 4000; echo
	fi
	for _f in $DMF_DIAG_FILES; do
		echo "--- filefrag -v -b512 $_f:"
		filefrag -s -v -b512 "$_f" 2>&1 | head -n 40
	done
	if [ -s "$DMF_TMP/events.json" ]; then
		echo "--- events:"
		tail -n 30 "$DMF_TMP/events.json"
	fi
	if [ -s "$DMF_TMP/mismatch" ]; then
		echo "--- last mismatch:"
		cat "$DMF_TMP/mismatch"
	fi
}

fail() {
	echo "FAIL: $*"
	diagnose
	exit 1
}

skip() {
	echo "SKIP: $*"
	exit 77
}

# mismatch: the last group/file mismatch on one line (at most 400 bytes).
mismatch() {
	tr '\n' ' ' < "$DMF_TMP/mismatch" 2>/dev/null | cut -c 1-400
}

# Add files to the diagnostics shown on failure.
diag_file() { DMF_DIAG_FILES="$DMF_DIAG_FILES $*"; }
# Add dm devices (besides DMF_DEV) whose regions are shown on failure.
diag_dev() { DMF_DIAG_DEVS="$DMF_DIAG_DEVS $*"; }

# ------------------------------------------------------------------- timing

# _dmf_now: set _dmf_cs to the uptime in centiseconds (no process started).
_dmf_now() {
	read -r _dmf_up _dmf_x < /proc/uptime
	_dmf_cs=$(( ${_dmf_up%.*} * 100 + 1${_dmf_up#*.} - 100 ))
}

# wait_until TIMEOUT_S CMD...: run CMD every 0.1 s until it succeeds (return
# 0) or TIMEOUT_S seconds (integer or with one or two decimals) have passed
# (return 1). CMD runs at least once, and once more at the deadline.
wait_until() {
	_wu_t=$1; shift
	case $_wu_t in
	*.?) _wu_t=$(( ${_wu_t%.*} * 100 + ${_wu_t#*.} * 10 )) ;;
	*.??) _wu_t=$(( ${_wu_t%.*} * 100 + 1${_wu_t#*.} - 100 )) ;;
	*) _wu_t=$(( _wu_t * 100 )) ;;
	esac
	_dmf_now
	_wu_end=$(( _dmf_cs + _wu_t ))
	while :; do
		"$@" && return 0
		_dmf_now
		[ "$_dmf_cs" -ge "$_wu_end" ] && break
		sleep 0.1
	done
	"$@"
}

# elapsed_since CS: print centiseconds since the _dmf_cs value CS.
elapsed_cs() { _dmf_now; echo $(( _dmf_cs - $1 )); }

# ---------------------------------------------------------------- dm-stats

# on_dev DEV CMD...: run CMD with DMF_DEV=DEV (the dm-stats helpers below work
# on DMF_DEV), then restore DMF_DEV; returns CMD's status.
on_dev() {
	_od_save=$DMF_DEV
	DMF_DEV=$1
	shift
	"$@"
	_od_rc=$?
	DMF_DEV=$_od_save
	return $_od_rc
}

stats_list() { dmsetup message "$DMF_DEV" 0 @stats_list; }

# _stats MODE [GROUP]: run stats.awk on the current @stats_list.
_stats() {
	dmsetup message "$DMF_DEV" 0 @stats_list | awk -f "$_DMF_AWK" -v mode="$1" -v g="${2:-0}"
}

# group_members G: member region ids of group G (from the leader's
# DMS_GROUP=alias:0-3,5#- or DMS_GROUP="alias":0-3#- descriptor).
group_members() { _stats members "$1"; }
# group_regions G: "START LEN" of G's member regions, sorted, adjacent merged.
group_regions() { _stats extents "$1"; }
# group_alias G: the alias of group G.
group_alias() { _stats alias "$1"; }
# group_attrs G: "ID PROGRAM_ID PRECISE HISTOGRAM" per member.
group_attrs() { _stats attrs "$1"; }
# region_aux ID: raw aux_data of region ID.
region_aux() { _stats aux "$1"; }
# all_regions: "ID START LEN" of every region on the device.
all_regions() { _stats regions; }
# all_groups: leader ids of all groups on the device.
all_groups() { _stats groups; }
# group_exists G: region G exists and holds a group descriptor.
group_exists() { _stats members "$1" >/dev/null 2>&1; }
region_exists() { _stats regions | awk -v id="$1" '$1 == id { f = 1 } END { exit !f }'; }

# file_extents FILE: "START LEN" of FILE's extents (filefrag -v -b512, after
# a sync of the file), sorted by START, physically adjacent ones merged.
file_extents() {
	filefrag -s -v -b512 "$1" > "$DMF_TMP/ff.$$" 2>&1
	awk -f "$_DMF_AWK" -v mode=fileext -v ff="$DMF_TMP/ff.$$" < /dev/null
}

# file_extent_count FILE: number of merged extents.
file_extent_count() { file_extents "$1" | awk 'END { print NR }'; }

# group_matches_file G FILE: the set of (start,len) of G's members, merged
# where adjacent, equals FILE's extents, merged where physically adjacent.
# A file without extents matches nothing. On mismatch the difference is in
# $DMF_TMP/mismatch (shown by fail).
group_matches_file() {
	filefrag -s -v -b512 "$2" > "$DMF_TMP/ff.$$" 2>&1 || {
		{ echo "filefrag $2 failed:"; cat "$DMF_TMP/ff.$$"; } > "$DMF_TMP/mismatch"
		return 1
	}
	dmsetup message "$DMF_DEV" 0 @stats_list |
		awk -f "$_DMF_AWK" -v mode=compare -v g="$1" -v ff="$DMF_TMP/ff.$$" 2> "$DMF_TMP/mismatch"
}

# monitors_all_match: the group of every monitor listed matches its file
# (group_matches_file for all of them at once: one list, one filefrag and one
# @stats_list, quick with many monitors; all on DMF_DEV). False if none is
# listed. On mismatch the reasons are in $DMF_TMP/mismatch.
monitors_all_match() {
	dmfilemapctl list --json | jq -r '.monitors[] | "\(.group_id) \(.path)"' > "$DMF_TMP/pairs.$$" || return 1
	set --
	while read -r _mam_g _mam_p; do set -- "$@" "$_mam_p"; done < "$DMF_TMP/pairs.$$"
	[ $# -gt 0 ] || { echo "no monitors listed" > "$DMF_TMP/mismatch"; return 1; }
	filefrag -s -v -b512 "$@" > "$DMF_TMP/ff.$$" 2>&1
	dmsetup message "$DMF_DEV" 0 @stats_list |
		awk -f "$_DMF_AWK" -v mode=comparemany -v pairs="$DMF_TMP/pairs.$$" -v ff="$DMF_TMP/ff.$$" 2> "$DMF_TMP/mismatch"
}

# within T0 LIMIT_CS CMD...: run CMD every 0.1 s until it succeeds; true if
# it succeeded in a run that started at most LIMIT_CS centiseconds after the
# _dmf_cs value T0 (a success in a later run does not count: nothing says
# when it became true). CMD runs at least once. Sets WITHIN_START and
# WITHIN_END: centiseconds from T0 to the start and end of the last run.
within() {
	_wi_t0=$1; _wi_l=$2; shift 2
	while :; do
		_dmf_now
		WITHIN_START=$(( _dmf_cs - _wi_t0 ))
		"$@"
		_wi_rc=$?
		_dmf_now
		WITHIN_END=$(( _dmf_cs - _wi_t0 ))
		[ "$WITHIN_START" -le "$_wi_l" ] || return 1
		[ "$_wi_rc" = 0 ] && return 0
		sleep 0.1
	done
}

# cs_fmt CS: centiseconds as seconds, "S.CC".
cs_fmt() { printf '%d.%02d' $(($1 / 100)) $(($1 % 100)); }

# group_has_attrs G PROG PRECISE HIST: every member has these attributes.
group_has_attrs() {
	_stats attrs "$1" > "$DMF_TMP/attrs.$$" || return 1
	awk -v p="$2" -v pr="$3" -v h="$4" '
		{ n++; if ($2 != p || $3 != pr || $4 != h) bad = 1 }
		END { exit (bad || n == 0) }' "$DMF_TMP/attrs.$$"
}

# ------------------------------------------------------------ supervisor

# mon_json: the supervisor's monitors as JSON.
mon_json() { dmfilemapctl list --json; }

# mon_jq FILTER [ARGS]: run jq -r FILTER on the monitor list.
mon_jq() {
	_mj_f=$1; shift
	dmfilemapctl list --json | jq -r "$@" "$_mj_f"
}

# mon_group_by_id N: current group id of monitor N (empty if none).
mon_group_by_id() { mon_jq '.monitors[] | select(.id == ($n|tonumber)) | .group_id' --arg n "$1"; }
# mon_field_by_id N FIELD
mon_field_by_id() { mon_jq '.monitors[] | select(.id == ($n|tonumber)) | .[$f]' --arg n "$1" --arg f "$2"; }
# mon_id_by_path PATH: monitor id(s) registered with PATH.
mon_id_by_path() { mon_jq '.monitors[] | select(.path == $p) | .id' --arg p "$1"; }
# mon_count_group G: number of monitors of group G.
mon_count_group() { mon_jq '[.monitors[] | select(.group_id == ($g|tonumber))] | length' --arg g "$1"; }
# mon_count: number of live monitors.
mon_count() { mon_jq '.monitors | length'; }

# mon_present_id N / mon_gone_id N: monitor N is listed / not listed.
mon_present_id() { [ -n "$(mon_group_by_id "$1")" ]; }
mon_gone_id() {
	_mg=$(dmfilemapctl list --json) || return 1
	[ -z "$(printf '%s' "$_mg" | jq -r --arg n "$1" '.monitors[] | select(.id == ($n|tonumber)) | .id')" ]
}
# mon_present_group G: some monitor has group G.
mon_present_group() { [ "$(mon_count_group "$1")" -ge 1 ] 2>/dev/null; }
# mon_state_is N STATE
mon_state_is() { [ "$(mon_field_by_id "$1" state)" = "$2" ]; }

# mon_matches N FILE: monitor N's current group matches FILE.
mon_matches() {
	_mm_g=$(mon_group_by_id "$1")
	[ -n "$_mm_g" ] || { echo "monitor $1 not listed" > "$DMF_TMP/mismatch"; return 1; }
	group_matches_file "$_mm_g" "$2"
}

# add_create FILE [ARGS...]: dmfilemapctl add FILE --create ARGS; sets
# MON_ID, MON_GROUP and MON_REGIONS from its output line
# "FILE: monitor N, group G on DMNAME (MAJ:MIN), R regions".
add_create() {
	_ac_f=$1; shift
	_ac_out=$(dmfilemapctl add "$_ac_f" --create "$@" 2>&1) ||
		fail "dmfilemapctl add $_ac_f --create $*: exit $?: $_ac_out"
	parse_add_line "$_ac_out" || fail "cannot parse add output: $_ac_out"
	log "$_ac_out"
}

# add_group FILE G [ARGS...]: dmfilemapctl add FILE --group G ARGS.
add_group() {
	_ag_f=$1; _ag_g=$2; shift 2
	_ac_out=$(dmfilemapctl add "$_ag_f" --group "$_ag_g" "$@" 2>&1) ||
		fail "dmfilemapctl add $_ag_f --group $_ag_g $*: exit $?: $_ac_out"
	parse_add_line "$_ac_out" || fail "cannot parse add output: $_ac_out"
	log "$_ac_out"
}

parse_add_line() {
	case $1 in
	*": monitor "*", group "*" on "*" regions"*) ;;
	*) return 1 ;;
	esac
	_pl=${1##*: monitor }
	MON_ID=${_pl%%,*}
	_pl=${_pl#*, group }
	MON_GROUP=${_pl%% on *}
	_pl=${_pl##*), }
	MON_REGIONS=${_pl%% regions*}
	case "$MON_ID$MON_GROUP$MON_REGIONS" in
	*[!0-9]*|"") return 1 ;;
	esac
	return 0
}

# dmstats_filemap ARGS... FILE: run dmstats create --filemap; sets
# DMS_GROUP_ID from "Created new group with N region(s) as group ID G.".
dmstats_filemap() {
	_df_out=$(dmstats create --filemap "$@" 2>&1) ||
		fail "dmstats create --filemap $*: exit $?: $_df_out"
	log "$_df_out"
	DMS_GROUP_ID=$(printf '%s\n' "$_df_out" | sed -n 's/.*as group ID \([0-9][0-9]*\)\..*/\1/p' | tail -n 1)
	[ -n "$DMS_GROUP_ID" ] || fail "no group id in dmstats output: $_df_out"
}

supervisor_alive() {
	[ -n "$DMF_SUPERVISOR_PID" ] || return 1
	_sa=$(cat "/proc/$DMF_SUPERVISOR_PID/stat" 2>/dev/null) || return 1
	_sa=${_sa##*) }
	[ "${_sa%% *}" != Z ]
}

require_supervisor() {
	supervisor_alive || fail "the supervisor is not running (pid '${DMF_SUPERVISOR_PID}')"
}

supervisor_fd_count() { ls "/proc/$DMF_SUPERVISOR_PID/fd" | wc -l; }

# start_watch: follow all events as JSON into $DMF_TMP/events.json. Call it
# before the registration whose events matter, then watch_wait_added N.
start_watch() {
	: > "$DMF_TMP/events.json"
	dmfilemapctl watch --json > "$DMF_TMP/events.json" 2>&1 &
	WATCH_PID=$!
	# No way to know when the Watch call has been handled: give it time.
	sleep 1
}
stop_watch() { [ -n "$WATCH_PID" ] && kill "$WATCH_PID" 2>/dev/null; WATCH_PID=; }

# event_field ID EVENT FIELD: FIELD of the last EVENT of monitor ID seen.
event_field() {
	jq -r --arg n "$1" --arg e "$2" --arg f "$3" \
		'select(.id == ($n|tonumber) and .event == $e) | .[$f]' \
		"$DMF_TMP/events.json" 2>/dev/null | tail -n 1
}
has_event() { [ -n "$(event_field "$1" "$2" event)" ]; }

# ------------------------------------------------------------ file shapes

# write_blocks FILE OFFSET_BLOCKS COUNT: write COUNT 4 KiB blocks of data at
# block OFFSET_BLOCKS and fsync.
write_blocks() {
	xfs_io -f -c "pwrite -q -S 0x5a $(( $2 * 4096 )) $(( $3 * 4096 ))" -c fsync "$1" >/dev/null ||
		fail "write_blocks $*"
}

# append_blocks FILE COUNT: append COUNT 4 KiB blocks and fsync.
append_blocks() {
	_ab_sz=$(stat -c %s "$1" 2>/dev/null || echo 0)
	xfs_io -f -c "pwrite -q -S 0x33 $_ab_sz $(( $2 * 4096 ))" -c fsync "$1" >/dev/null ||
		fail "append_blocks $*"
}

# make_fragmented FILE N: a file of 2N 4 KiB blocks of data with every second
# block punched out, so that it has N extents that are not physically
# adjacent (block 2i is kept, block 2i+1 is a hole). All in one process.
make_fragmented() {
	_mf_f=$1; _mf_n=$2
	_mf_cmds=$DMF_TMP/xfs_io.$$
	{
		echo "pwrite -q -S 0x61 0 $(( _mf_n * 2 * 4096 ))"
		echo "fsync"
		_mf_i=0
		while [ "$_mf_i" -lt "$_mf_n" ]; do
			echo "fpunch $(( (_mf_i * 2 + 1) * 4096 )) 4096"
			_mf_i=$(( _mf_i + 1 ))
		done
		echo "fsync"
	} > "$_mf_cmds"
	# xfs_io reads commands from stdin when given none with -c.
	xfs_io -f "$_mf_f" < "$_mf_cmds" >/dev/null || fail "make_fragmented $*"
	_mf_c=$(file_extent_count "$_mf_f")
	[ "$_mf_c" -ge "$_mf_n" ] || fail "make_fragmented: $_mf_f has $_mf_c extents, wanted $_mf_n"
}

# make_interleaved FILE OTHER N: write FILE and OTHER alternately, one 4 KiB
# block at a time with fsync, N blocks each: FILE gets up to N extents with
# no holes (the allocator decides; check with file_extent_count).
make_interleaved() {
	_mi_i=0
	_mi_cmds=$DMF_TMP/xfs_io.$$
	# one xfs_io process per file would not interleave; use two "open"ed
	# files in one xfs_io: "open" pushes a file, "file N" selects it.
	{
		echo "open -f $2"
		while [ "$_mi_i" -lt "$3" ]; do
			echo "file 0"; echo "pwrite -q -S 0x62 $(( _mi_i * 4096 )) 4096"; echo "fsync"
			echo "file 1"; echo "pwrite -q -S 0x63 $(( _mi_i * 4096 )) 4096"; echo "fsync"
			_mi_i=$(( _mi_i + 1 ))
		done
	} > "$_mi_cmds"
	xfs_io -f "$1" < "$_mi_cmds" >/dev/null || fail "make_interleaved $*"
}

# punch FILE OFFSET_BLOCKS COUNT: punch a hole of COUNT 4 KiB blocks.
punch() {
	xfs_io -c "fpunch $(( $2 * 4096 )) $(( $3 * 4096 ))" -c fsync "$1" >/dev/null || fail "punch $*"
}

# file_extent_logical FILE PHYS_START: "LOGICAL_START LEN" (512-byte units)
# of the extent of FILE that starts at physical sector PHYS_START.
file_extent_logical() {
	filefrag -s -v -b512 "$1" | awk -v p="$2" '
		/^ *[0-9]+: / { l = $0; gsub(/\.\./, " ", l); gsub(/:/, " ", l); split(l, f, /[ \t]+/)
			if (f[1] == "") { for (i = 1; i < 8; i++) f[i] = f[i + 1] }
			if (f[4] + 0 == p + 0) { print f[2], f[6]; exit } }'
}

# dev_majmin: "MAJ:MIN" of the test's dm device.
dev_majmin() { dmsetup info -c --noheadings -o major,minor "$DMF_DEV" | tr -d ' '; }

# same_attrs_as_leader G: every member of G has the leader's program id,
# precise_timestamps setting and histogram bounds.
same_attrs_as_leader() {
	_stats attrs "$1" > "$DMF_TMP/attrs.$$" || return 1
	awk -v g="$1" '
		$1 == g { lp = $2; lpr = $3; lh = $4; have = 1 }
		{ p[NR] = $2; pr[NR] = $3; h[NR] = $4 }
		END {
			if (!have) exit 1
			for (i = 1; i <= NR; i++)
				if (p[i] != lp || pr[i] != lpr || h[i] != lh) exit 1
		}' "$DMF_TMP/attrs.$$"
}

# leader_attrs G: "PROGRAM_ID PRECISE HISTOGRAM" of region G.
leader_attrs() { _stats attrs "$1" | awk -v g="$1" '$1 == g { print $2, $3, $4 }'; }

# no_process NAME: no process with this command name is running (zombies
# excepted).
no_process() {
	for _np in /proc/[0-9]*/stat; do
		read -r _np_l < "$_np" 2>/dev/null || continue
		case $_np_l in *" ($1) "[!Z]*) return 1 ;; esac
	done
	return 0
}

# ------------------------------------------------- restarting the supervisor
# A test that kills the supervisor guest-init started calls
# supervisor_takeover first; from then on it owns the supervisors: it starts
# them with supervisor_start and must stop the last one with supervisor_stop
# (which checks the exit status 0 of SIGTERM). Their logs are appended to the
# test's supervisor log.

supervisor_takeover() { : > "$DMF_TMP/supervisor-taken-over"; }

# supervisor_kill SIG: send SIG to the current supervisor, wait until it is gone.
supervisor_kill() {
	kill "-$1" "$DMF_SUPERVISOR_PID" || fail "kill -$1 $DMF_SUPERVISOR_PID"
	wait_until 10 eval '! supervisor_alive' || fail "supervisor $DMF_SUPERVISOR_PID still alive 10 s after SIG$1"
}

# supervisor_start [ARGS...]: start a supervisor (with ARGS) on the socket.
supervisor_start() {
	echo "=== supervisor started again by $DMF_TEST" >> "$DMF_RESULTS/$DMF_TEST.supervisord.log"
	dmfilemap-supervisord -f -v --socket "$DMFILEMAP_SOCKET" "$@" >> "$DMF_RESULTS/$DMF_TEST.supervisord.log" 2>&1 &
	DMF_SUPERVISOR_PID=$!
	wait_until 10 eval 'dmfilemapctl info > /dev/null 2>&1' ||
		fail "restarted supervisor (pid $DMF_SUPERVISOR_PID) does not answer within 10 s"
	log "supervisor restarted: pid $DMF_SUPERVISOR_PID"
}

# supervisor_stop: SIGTERM to a supervisor this test started; it must exit 0.
supervisor_stop() {
	kill -TERM "$DMF_SUPERVISOR_PID" || fail "kill -TERM $DMF_SUPERVISOR_PID"
	wait "$DMF_SUPERVISOR_PID"
	_ss=$?
	[ "$_ss" = 0 ] || fail "supervisor $DMF_SUPERVISOR_PID exited with status $_ss on SIGTERM"
	[ -e "$DMFILEMAP_SOCKET" ] && fail "supervisor left $DMFILEMAP_SOCKET behind after SIGTERM"
	DMF_SUPERVISOR_PID=
}

# supervisor_pid_from_info: a supervisor the test did not start itself (one
# a shim started, detached) serves the socket: put its pid, from Info, in
# DMF_SUPERVISOR_PID (for supervisor_alive and supervisor_stop_detached).
supervisor_pid_from_info() {
	DMF_SUPERVISOR_PID=$(dmfilemapctl info --json 2>/dev/null | jq -r '.pid // empty')
	case $DMF_SUPERVISOR_PID in
	""|*[!0-9]*) fail "cannot get the supervisor's pid from dmfilemapctl info --json" ;;
	esac
}

# supervisor_stop_detached: SIGTERM to a supervisor that is not this shell's
# child (its exit status cannot be seen): it must be gone within 10 s and
# have removed its socket.
supervisor_stop_detached() {
	kill -TERM "$DMF_SUPERVISOR_PID" || fail "kill -TERM $DMF_SUPERVISOR_PID"
	wait_until 10 eval '! supervisor_alive' ||
		fail "detached supervisor $DMF_SUPERVISOR_PID still alive 10 s after SIGTERM"
	[ -e "$DMFILEMAP_SOCKET" ] && fail "supervisor left $DMFILEMAP_SOCKET behind after SIGTERM"
	DMF_SUPERVISOR_PID=
}

# syslog_capture FILE: receive syslog datagrams on /dev/log (the guest runs
# no syslog daemon) and append them to FILE, one "syslog: MESSAGE" line
# each: the log of a detached supervisor. Stop with syslog_capture_stop.
# Needs perl (Debian's perl-base); without it, nothing is captured.
syslog_capture() {
	SYSLOG_PID=
	command -v perl >/dev/null 2>&1 || { log "no perl: syslog not captured"; return 1; }
	rm -f /dev/log
	perl -MSocket -e '
		socket(my $s, PF_UNIX, SOCK_DGRAM, 0) or die "socket: $!\n";
		bind($s, pack_sockaddr_un("/dev/log")) or die "bind /dev/log: $!\n";
		open(my $o, ">>", $ARGV[0]) or die "$ARGV[0]: $!\n";
		select($o); $| = 1;
		while (defined(recv($s, my $m, 65536, 0))) { $m =~ s/\n+$//; print "syslog: $m\n" }
	' "$1" &
	SYSLOG_PID=$!
	wait_until 3 test -S /dev/log || { log "syslog capture did not start"; return 1; }
}
syslog_capture_stop() {
	[ -n "$SYSLOG_PID" ] && kill "$SYSLOG_PID" 2>/dev/null
	SYSLOG_PID=
	rm -f /dev/log
}

# ------------------------------------------- per-file I/O counters (stats)
# Helpers of the t-stats-*.sh tests (dmfilemapctl stats, exact O_DIRECT I/O).

# dio FILE [r|w] BLOCK[:COUNT]...: O_DIRECT I/O of 4 KiB blocks, all in one
# xfs_io process, each block COUNT times (default 1), one 4 KiB request each:
# "r" (the default) makes the blocks after it reads, "w" writes. For exact
# dm-stats counts every block must be allocated (a hole costs no I/O) and,
# for a write, written before (an overwrite in place: no allocation).
# Example: dio F r 0:10 2 w 4:3 (11 reads, 3 writes).
dio() {
	_dio_f=$1; shift
	_dio_op=r
	_dio_cmds=$DMF_TMP/dio.$$
	: > "$_dio_cmds"
	for _dio_a in "$@"; do
		case $_dio_a in
		r|w) _dio_op=$_dio_a; continue ;;
		*:*) _dio_b=${_dio_a%%:*}; _dio_n=${_dio_a#*:} ;;
		*) _dio_b=$_dio_a; _dio_n=1 ;;
		esac
		while [ "$_dio_n" -gt 0 ]; do
			if [ "$_dio_op" = r ]; then
				echo "pread -q -b 4096 $((_dio_b * 4096)) 4096"
			else
				echo "pwrite -q -S 0x77 -b 4096 $((_dio_b * 4096)) 4096"
			fi
			_dio_n=$((_dio_n - 1))
		done >> "$_dio_cmds"
	done
	xfs_io -d "$_dio_f" < "$_dio_cmds" > "$DMF_TMP/dio.out.$$" 2>&1 || fail "dio $_dio_f $*: $(cat "$DMF_TMP/dio.out.$$")"
	[ -s "$DMF_TMP/dio.out.$$" ] && fail "dio $_dio_f $*: xfs_io said: $(head -c 400 "$DMF_TMP/dio.out.$$")"
	return 0
}

# stats_read FILE: dmfilemapctl stats FILE --json into ST_READS ST_WRITES
# ST_RBYTES ST_WBYTES ST_CARRIED ST_RESETS ST_REGIONS ST_GROUP. False (the
# reason in $DMF_TMP/mismatch) if the command or its JSON fails.
stats_read() {
	_sr=$(dmfilemapctl stats "$1" --json 2>&1) || {
		echo "dmfilemapctl stats $1 --json: exit $?: $_sr" > "$DMF_TMP/mismatch"; return 1; }
	_sr_v=$(printf '%s\n' "$_sr" | jq -r '.files | if length == 1 then .[0] | "\(.reads) \(.writes) \(.read_bytes) \(.write_bytes) \(.carried_regions) \(.resets) \(.regions) \(.group_id)" else error("\(length) files") end' 2>&1) || {
		echo "dmfilemapctl stats $1 --json: bad output ($_sr_v): $_sr" > "$DMF_TMP/mismatch"; return 1; }
	# shellcheck disable=SC2086 # eight numbers
	set -- $_sr_v
	ST_READS=$1 ST_WRITES=$2 ST_RBYTES=$3 ST_WBYTES=$4 ST_CARRIED=$5 ST_RESETS=$6 ST_REGIONS=$7 ST_GROUP=$8
}

# stats_expect FILE WHAT READS WRITES: FILE's totals are exactly READS 4 KiB
# reads and WRITES 4 KiB writes (reads, writes, read_bytes, write_bytes);
# logs the numbers seen (stats_read's variables are set).
stats_expect() {
	stats_read "$1" || fail "$2: $(mismatch)"
	_se_want="$3/$4/$(($3 * 4096))/$(($4 * 4096))"
	[ "$ST_READS/$ST_WRITES/$ST_RBYTES/$ST_WBYTES" = "$_se_want" ] ||
		fail "$2: stats of $1: reads/writes/read_bytes/write_bytes got $ST_READS/$ST_WRITES/$ST_RBYTES/$ST_WBYTES, want $_se_want (carried_regions $ST_CARRIED, resets $ST_RESETS, regions $ST_REGIONS)"
	log "$2: reads $ST_READS, writes $ST_WRITES, read_bytes $ST_RBYTES, write_bytes $ST_WBYTES, carried_regions $ST_CARRIED, resets $ST_RESETS, regions $ST_REGIONS, group $ST_GROUP"
}

# region_io ID: "START+LEN READS READ_SECTORS WRITES WRITE_SECTORS" of region
# ID from the kernel (@stats_print, its areas summed).
region_io() {
	dmsetup message "$DMF_DEV" 0 @stats_print "$1" |
		awk 'NR == 1 { s = $1 } { r += $2; rs += $4; w += $6; ws += $8 }
			END { if (NR) print s, r + 0, rs + 0, w + 0, ws + 0; else exit 1 }'
}

# group_io_snap G OUT: "ID START+LEN READS READ_SECTORS WRITES WRITE_SECTORS"
# of every member of G, from the kernel, into file OUT.
group_io_snap() {
	_gs=$(group_members "$1") || return 1
	: > "$2"
	for _gs_r in $_gs; do
		printf '%s %s\n' "$_gs_r" "$(region_io "$_gs_r")" >> "$2" || return 1
	done
}

# file_block_phys FILE BLOCK: physical sector of FILE's 4 KiB block BLOCK
# (empty if it is a hole).
file_block_phys() {
	filefrag -s -v -b512 "$1" | awk -v s=$(($2 * 8)) '
		/^ *[0-9]+: / { l = $0; gsub(/\.\./, " ", l); gsub(/:/, " ", l); n = split(l, f, /[ \t]+/)
			if (f[1] == "") { for (i = 1; i < n; i++) f[i] = f[i + 1] }
			if (f[2] + 0 <= s && s <= f[3] + 0) { print f[4] + s - f[2]; exit } }'
}

# group_region_at G SECTOR: id of the member of G that holds SECTOR.
group_region_at() {
	group_io_snap "$1" "$DMF_TMP/gra.$$" || return 1
	awk -v p="$2" '{ split($2, a, "+") } a[1] <= p && p < a[1] + a[2] { print $1; f = 1 } END { exit !f }' "$DMF_TMP/gra.$$"
}

# second_device MNT: a second dm device, vol2 (linear over the guest's
# second disk, /dev/ubdb), with a fresh filesystem of the test's type
# mounted on MNT. The test removes it (umount MNT; dmsetup remove vol2).
second_device() {
	dmsetup create vol2 --table "0 $(blockdev --getsz /dev/ubdb) linear /dev/ubdb 0" ||
		fail "dmsetup create vol2"
	diag_dev vol2
	case $DMF_FS in
	ext4) mkfs.ext4 -q -F -b 4096 -E nodiscard /dev/mapper/vol2 > "$DMF_TMP/mkfs.out" 2>&1 ;;
	xfs) mkfs.xfs -q -f -K /dev/mapper/vol2 > "$DMF_TMP/mkfs.out" 2>&1 ;;
	*) fail "harness: unknown DMF_FS '$DMF_FS'" ;;
	esac || fail "mkfs.$DMF_FS /dev/mapper/vol2: $(cat "$DMF_TMP/mkfs.out")"
	mkdir -p "$1" || fail "mkdir $1"
	mount -t "$DMF_FS" /dev/mapper/vol2 "$1" || fail "mount /dev/mapper/vol2 on $1"
}
