#!/bin/bash
# tests/systemd/guest-test.sh: the checks of tests/systemd-check.sh, run
# inside a User-Mode Linux guest whose PID 1 is Debian's own systemd, from a
# debootstrapped root of its own with the dmfilemap package installed by apt
# (so its units are enabled by the package's maintainer scripts, and by
# nothing here). It runs as the oneshot unit dmf-check.service, the unit
# asked for on the kernel command line (systemd.unit=), which wants and
# comes after sockets.target (as multi-user.target does, through
# basic.target): the sockets enabled there, the package's among them, listen.
#
# /dmf-check/config sets SUITE (bookworm or trixie). Results go to
# /dmf-check/out (in the guest's root, which the host reads after the guest
# has powered off): "results" has one "ok NAME" / "FAIL NAME: why" / "# info"
# per line, "plan" the names of every check, "done" is written last; the
# supervisor's journal, the whole journal and the logs are there too.
# The guest then powers off at once (systemctl poweroff -ff).
set -u

D=/dmf-check
OUT=$D/out
# shellcheck disable=SC1091
. "$D/config"
RES=$OUT/results
exec >> "$OUT/guest.log" 2>&1

export DM_DISABLE_UDEV=1 LC_ALL=C.UTF-8 HOME=/root
unset DMFILEMAP_SOCKET
SOCK=/run/dmfilemap/supervisor.sock
SVC=dmfilemap-supervisord.service
SKT=dmfilemap-supervisord.socket
DEV=vol
MNT=/mnt
F=$MNT/f
G=$MNT/g

case $SUITE in
bookworm) MIDDLE=(shim-on-path dmstats-filemap activated-by-dmstats monitor-listed) ;;
trixie) MIDDLE=(dmstats-filemap-disabled add-create-activates monitor-listed
	varlinkctl-info varlinkctl-list-interfaces varlinkctl-introspect
	varlinkctl-call-list varlinkctl-call-stats) ;;
*) MIDDLE=() ;;
esac
PLAN=(setup socket-enabled socket-active service-inactive-before-use
	"${MIDDLE[@]}"
	regions-match grow-followed stats-json
	restart-readopted stats-kept-after-restart follow-after-restart
	stop-clean journal-clean analyze-security)
printf '%s\n' "${PLAN[@]/#/$SUITE-}" > "$OUT/plan"

declare -A REPORTED=()
# centiseconds since boot
now_cs() { local u; read -r u _ < /proc/uptime; u=${u/./}; echo $((10#$u)); }
T_START=$(now_cs)
fmt_cs() { printf '%d.%02d' $(($1 / 100)) $(($1 % 100)); }
log() { echo "--- [$(fmt_cs "$(now_cs)")] $*"; }
ok() { REPORTED[$1]=1; echo "ok $SUITE-$1" >> "$RES"; log "ok $1"; }
nok() { REPORTED[$1]=1; echo "FAIL $SUITE-$1: $2" >> "$RES"; log "FAIL $1: $2"; }
info() { echo "# $SUITE: $*" >> "$RES"; log "$*"; }
oneline() { tr '\n' ' ' | sed 's/  */ /g; s/ $//' | cut -c1-300; }

collect() {
	journalctl --sync >/dev/null 2>&1
	journalctl --no-pager -o short-monotonic -u "$SVC" -u "$SKT" > "$OUT/supervisor-journal.txt" 2>&1
	journalctl --no-pager -o short-monotonic -b > "$OUT/journal.txt" 2>&1
	systemctl --no-pager status "$SVC" "$SKT" > "$OUT/status.txt" 2>&1
	dmsetup message "$DEV" 0 @stats_list > "$OUT/stats_list.txt" 2>&1
}

finish() {
	local n
	for n in "${PLAN[@]}"; do
		[ -n "${REPORTED[$n]:-}" ] || nok "$n" "not run: $1"
	done
	collect
	log "done in $(fmt_cs $(( $(now_cs) - T_START ))) s"
	echo "done" > "$OUT/done"
	sync
	systemctl poweroff -ff
	sleep 60
}

# wait_for SECONDS CMD...: run CMD every 0.1 s until it succeeds (at least
# once); false if it did not within SECONDS. Sets WAITED (centiseconds).
wait_for() {
	local lim=$(( $1 * 100 )) t0
	shift
	t0=$(now_cs)
	while :; do
		"$@" && { WAITED=$(( $(now_cs) - t0 )); return 0; }
		WAITED=$(( $(now_cs) - t0 ))
		[ "$WAITED" -lt "$lim" ] || return 1
		sleep 0.1
	done
}

# ---------------------------------------------------------------- helpers

# extents FILE...: "START LEN" of every extent of the FILEs (filefrag -v
# -b512: 512-byte sectors of the filesystem's device), sorted, physically
# adjacent ones merged
merge() {
	sort -n -k1,1 | awk '
		NF == 2 { if (n && $1 == s + l) { l += $2; next }
			  if (n) print s, l; s = $1; l = $2; n = 1 }
		END { if (n) print s, l }'
}
extents() {
	filefrag -v -b512 "$@" | awk '
		/^ *[0-9]+: +[0-9]+\.\. *[0-9]+: +[0-9]+\.\. *[0-9]+: +[0-9]+:/ {
			gsub(/\.\./, " "); gsub(/:/, " ")
			print $4, $6 }' | merge
}
# regions: "START LEN" of every dm-stats region on the device (the kernel's
# own @stats_list), sorted, adjacent ones merged
regions() {
	dmsetup message "$DEV" 0 @stats_list | awk '
		/^[0-9]+: [0-9]+\+[0-9]+ / { split($2, a, "+"); print a[1], a[2] }' | merge
}
# regions_match FILE...: the device's regions are exactly the FILEs' extents
regions_match() {
	local e r
	e=$(extents "$@") && r=$(regions) || return 1
	MISMATCH="extents [$(echo "$e" | oneline)] regions [$(echo "$r" | oneline)]"
	[ -n "$e" ] && [ "$e" = "$r" ]
}
nregions() { dmsetup message "$DEV" 0 @stats_list | grep -c '^[0-9]*: '; }

ctl() { timeout 20 dmfilemapctl "$@"; }
list_json() { ctl list --json; }
# mon FIELD: FIELD of the one monitor of $F (empty if not exactly one
# monitor, or not of $F)
mon() {
	list_json 2>/dev/null | jq -r --arg p "$F" --arg f "$1" \
		'if (.monitors | length) == 1 and .monitors[0].path == $p then .monitors[0][$f] else empty end' 2>/dev/null
}
one_monitor() { [ -n "$(mon id)" ]; }
svc_state() { systemctl is-active "$1" 2>/dev/null; }
svc_active() { [ "$(svc_state "$SVC")" = active ]; }
mainpid() { systemctl show -p MainPID --value "$SVC"; }

# write FILE CHUNK...: write 64 KiB at each 64 KiB chunk number, synced
write_chunks() {
	local f=$1 c
	shift
	for c in "$@"; do
		dd if=/dev/urandom of="$f" bs=64k count=1 seek="$c" conv=notrunc,fsync status=none || return 1
	done
}

# follows NAME FILE...: within 10 s the device's regions are the FILEs'
# extents again and the monitor counts as many regions as $F has extents
follows() {
	local name=$1
	shift
	if wait_for 10 follows_now "$@"; then
		ok "$name"
		info "$name: $(extents "$F" | wc -l) extents of $F, group followed in $(fmt_cs "$WAITED") s"
	else
		nok "$name" "the group did not follow within 10 s: $MISMATCH; monitor regions=$(mon regions)"
	fi
}
follows_now() {
	regions_match "$@" && [ "$(mon regions)" = "$(extents "$F" | wc -l)" ]
}

# ------------------------------------------------------------------ checks

trap 'finish "the guest script died (line $LINENO)"' EXIT

log "guest $(uname -r), $SUITE, systemd $(systemctl --version | head -n 1), PATH=$PATH"
info "systemd: $(systemctl --version | head -n 1)"

# setup: dm-mod, a dm device over /dev/ubda, ext4 on it, a file with a few
# extents (holes between them)
setup() {
	[ -e /sys/module/dm_mod ] || modprobe dm-mod || insmod "/lib/modules/$(uname -r)/kernel/drivers/md/dm-mod.ko" || return 1
	dmsetup version || return 1
	dmsetup create "$DEV" --table "0 $(blockdev --getsz /dev/ubda) linear /dev/ubda 0" || return 1
	[ -b "/dev/mapper/$DEV" ] || { echo "no /dev/mapper/$DEV"; return 1; }
	mkfs.ext4 -q -F -b 4096 -E nodiscard "/dev/mapper/$DEV" || return 1
	mount -t ext4 "/dev/mapper/$DEV" "$MNT" || return 1
	write_chunks "$F" 0 2 4 6
}
if setup > "$OUT/setup.log" 2>&1; then
	ok setup
	info "$F: $(extents "$F" | wc -l) extents"
else
	nok setup "$(tail -n 3 "$OUT/setup.log" | oneline)"
	finish "setup failed"
fi

v=$(systemctl is-enabled "$SKT" 2>&1)
[ "$v" = enabled ] && ok socket-enabled || nok socket-enabled "systemctl is-enabled $SKT: $v"
v=$(svc_state "$SKT")
[ "$v" = active ] && ok socket-active || nok socket-active "systemctl is-active $SKT: $v"
v=$(svc_state "$SVC")
if [ "$v" = inactive ]; then
	ok service-inactive-before-use
else
	nok service-inactive-before-use "systemctl is-active $SVC: $v (before any client)"
fi

# root's login shell, as an administrator would type it: its PATH is
# /etc/profile's, not changed here
as_root_login() { env -i HOME=/root TERM=dumb LC_ALL=C.UTF-8 DM_DISABLE_UDEV=1 /bin/bash -lc "$1"; }

case $SUITE in
bookworm)
	v=$(as_root_login 'echo "$PATH"; command -v dmfilemapd' 2>&1)
	info "root's login PATH: $(echo "$v" | head -n 1)"
	if [ "$(echo "$v" | tail -n 1)" = /usr/sbin/dmfilemapd ]; then
		ok shim-on-path
	else
		nok shim-on-path "command -v dmfilemapd in root's login shell: $(echo "$v" | tail -n 1)"
	fi

	t0=$(now_cs)
	out=$(timeout 30 bash -c "$(declare -f as_root_login); as_root_login 'dmstats create --filemap $F'" 2>&1)
	rc=$?
	t1=$(now_cs)
	echo "$out" > "$OUT/dmstats.txt"
	info "dmstats create --filemap $F ($(fmt_cs $((t1 - t0))) s): $(echo "$out" | oneline)"
	GID=$(echo "$out" | sed -n 's/.*as group ID \([0-9][0-9]*\).*/\1/p' | head -n 1)
	if [ "$rc" != 0 ]; then
		nok dmstats-filemap "exit status $rc: $(echo "$out" | oneline)"
	elif echo "$out" | grep -qi 'execvp\|failed\|error'; then
		nok dmstats-filemap "$(echo "$out" | oneline)"
	elif [ -z "$GID" ]; then
		nok dmstats-filemap "no group id in its output: $(echo "$out" | oneline)"
	else
		ok dmstats-filemap
	fi

	# socket activation by the shim alone: nothing else has connected
	if wait_for 5 svc_active; then
		ok activated-by-dmstats
		info "the shim's connection started $SVC $(fmt_cs $(( $(now_cs) - t1 ))) s after dmstats returned"
	else
		nok activated-by-dmstats "$SVC is $(svc_state "$SVC") 5 s after dmstats create --filemap"
	fi
	left=$(( 500 - ($(now_cs) - t1) ))
	[ "$left" -gt 0 ] || left=1
	if wait_for $(( (left + 99) / 100 )) one_monitor; then
		g=$(mon group_id)
		if [ -n "$GID" ] && [ "$g" != "$GID" ]; then
			nok monitor-listed "the monitor's group is $g, dmstats made group $GID"
		else
			ok monitor-listed
			info "monitor of $F listed $(fmt_cs $(( $(now_cs) - t1 ))) s after dmstats returned: $(list_json | jq -c '.monitors[0] | {id, group_id, regions, mode, state}')"
		fi
	else
		nok monitor-listed "no monitor of $F within 5 s of dmstats create --filemap: $(list_json 2>&1 | oneline)"
	fi
	FILES=("$F")
	;;
trixie)
	write_chunks "$G" 0 2
	out=$(timeout 30 dmstats create --filemap "$G" 2>&1)
	rc=$?
	echo "$out" > "$OUT/dmstats.txt"
	info "dmstats create --filemap $G (exit $rc): $(echo "$out" | oneline)"
	sleep 2
	procs=$(ps -eo comm= | grep -E '^dmfilemap' | oneline)
	if ! echo "$out" | grep -q 'dmfilemapd support disabled'; then
		nok dmstats-filemap-disabled "it did not say \"dmfilemapd support disabled\": $(echo "$out" | oneline)"
	elif [ "$(svc_state "$SVC")" != inactive ]; then
		nok dmstats-filemap-disabled "yet $SVC is $(svc_state "$SVC")"
	elif [ -n "$procs" ]; then
		nok dmstats-filemap-disabled "yet processes run: $procs"
	else
		ok dmstats-filemap-disabled
	fi

	t0=$(now_cs)
	out=$(ctl add "$F" --create 2>&1)
	rc=$?
	info "dmfilemapctl add $F --create (exit $rc, $(fmt_cs $(( $(now_cs) - t0 ))) s): $(echo "$out" | oneline)"
	if [ "$rc" != 0 ]; then
		nok add-create-activates "exit status $rc: $(echo "$out" | oneline)"
	elif ! svc_active; then
		nok add-create-activates "$SVC is $(svc_state "$SVC") after the add"
	else
		ok add-create-activates
	fi
	if wait_for 5 one_monitor; then
		ok monitor-listed
		info "monitor: $(list_json | jq -c '.monitors[0] | {id, group_id, regions, mode, state}')"
	else
		nok monitor-listed "no (single) monitor of $F: $(list_json 2>&1 | oneline)"
	fi
	FILES=("$F" "$G")
	;;
esac

if wait_for 5 regions_match "${FILES[@]}"; then
	ok regions-match
else
	nok regions-match "$MISMATCH"
fi

write_chunks "$F" 8 10
follows grow-followed "${FILES[@]}"

# exact counts: O_DIRECT reads of the file's first 64 KiB
dd if="$F" of=/dev/null bs=4k count=16 iflag=direct status=none
stats_reads() { ctl stats "$F" --json | jq -r '.files[0] | "\(.reads) \(.read_bytes)"'; }
v=$(stats_reads 2>&1)
ctl stats "$F" --json > "$OUT/stats-before-restart.json" 2>&1
if [ "$v" = "16 65536" ]; then
	ok stats-json
else
	nok stats-json "dmfilemapctl stats $F --json: reads and read_bytes '$v', expected '16 65536' after 16 O_DIRECT reads of 4 KiB"
fi

if [ "$SUITE" = trixie ]; then
	U=unix:$SOCK
	out=$(timeout 20 varlinkctl info "$U" 2>&1)
	rc=$?
	echo "$out" > "$OUT/varlinkctl-info.txt"
	if [ "$rc" = 0 ] && echo "$out" | grep -q 'io\.dmfilemap\.Supervisor'; then
		ok varlinkctl-info
		info "varlinkctl info: $(echo "$out" | oneline)"
	else
		nok varlinkctl-info "exit $rc: $(echo "$out" | oneline)"
	fi
	out=$(timeout 20 varlinkctl list-interfaces "$U" 2>&1)
	rc=$?
	echo "$out" > "$OUT/varlinkctl-list-interfaces.txt"
	if [ "$rc" = 0 ] && echo "$out" | grep -qx 'io\.dmfilemap\.Supervisor'; then
		ok varlinkctl-list-interfaces
	else
		nok varlinkctl-list-interfaces "exit $rc: $(echo "$out" | oneline)"
	fi
	out=$(timeout 20 varlinkctl introspect "$U" io.dmfilemap.Supervisor 2>&1)
	rc=$?
	echo "$out" > "$OUT/varlinkctl-introspect.txt"
	if [ "$rc" = 0 ] && echo "$out" | grep -q 'method Stats(' &&
	    echo "$out" | grep -q '^interface io\.dmfilemap\.Supervisor'; then
		ok varlinkctl-introspect
	else
		nok varlinkctl-introspect "exit $rc: $(echo "$out" | head -n 5 | oneline)"
	fi
	out=$(timeout 20 varlinkctl call "$U" io.dmfilemap.Supervisor.List '{}' 2>&1)
	rc=$?
	echo "$out" > "$OUT/varlinkctl-call-list.txt"
	n=$(echo "$out" | jq -r --arg p "$F" '[.monitors[] | select(.path == $p)] | length' 2>/dev/null)
	m=$(echo "$out" | jq -r '.monitors | length' 2>/dev/null)
	if [ "$rc" = 0 ] && [ "$m" = 1 ] && [ "$n" = 1 ]; then
		ok varlinkctl-call-list
	else
		nok varlinkctl-call-list "exit $rc, monitors ${m:-?}, of $F ${n:-?}: $(echo "$out" | oneline)"
	fi
	out=$(timeout 20 varlinkctl call "$U" io.dmfilemap.Supervisor.Stats '{}' 2>&1)
	rc=$?
	echo "$out" > "$OUT/varlinkctl-call-stats.txt"
	m=$(echo "$out" | jq -r '.files | length' 2>/dev/null)
	r=$(echo "$out" | jq -r '.files[0].reads' 2>/dev/null)
	if [ "$rc" = 0 ] && [ "$m" = 1 ] && [ "$r" = 16 ]; then
		ok varlinkctl-call-stats
	else
		nok varlinkctl-call-stats "exit $rc, files ${m:-?}, reads ${r:-?} (16 expected): $(echo "$out" | oneline)"
	fi
fi

# restart: the new supervisor re-adopts the monitor (state file, fd store)
old_pid=$(mainpid)
old_mon=$(mon id) old_group=$(mon group_id)
info "before restart: MainPID $old_pid, fd store $(systemctl show -p NFileDescriptorStore --value "$SVC" 2>&1), monitor $old_mon, group $old_group"
out=$(timeout 60 systemctl restart "$SVC" 2>&1)
rc=$?
new_pid=$(mainpid)
if [ "$rc" != 0 ]; then
	nok restart-readopted "systemctl restart $SVC: exit $rc: $(echo "$out" | oneline)"
elif [ "$new_pid" = "$old_pid" ] || [ "$new_pid" = 0 ]; then
	nok restart-readopted "MainPID $old_pid before, $new_pid after the restart"
elif ! wait_for 10 one_monitor; then
	nok restart-readopted "no monitor of $F 10 s after the restart: $(list_json 2>&1 | oneline)"
elif [ "$(mon group_id)" != "$old_group" ]; then
	nok restart-readopted "the monitor's group was $old_group, is $(mon group_id) after the restart"
else
	ok restart-readopted
	info "after restart: MainPID $new_pid, fd store $(systemctl show -p NFileDescriptorStore --value "$SVC" 2>&1), monitor $(list_json | jq -c '.monitors[0] | {id, group_id, regions, state}')"
fi
v=$(stats_reads 2>&1)
ctl stats "$F" --json > "$OUT/stats-after-restart.json" 2>&1
if [ "$v" = "16 65536" ]; then
	ok stats-kept-after-restart
else
	nok stats-kept-after-restart "reads and read_bytes '$v' after the restart, '16 65536' before"
fi
write_chunks "$F" 12 14
follows follow-after-restart "${FILES[@]}"

# stop: both units, a clean exit
out=$(timeout 60 systemctl stop "$SVC" "$SKT" 2>&1)
rc=$?
props=$(systemctl show -p Result -p ExecMainCode -p ExecMainStatus "$SVC" | oneline)
st=$(svc_state "$SVC")/$(svc_state "$SKT")
if [ "$rc" != 0 ]; then
	nok stop-clean "systemctl stop: exit $rc: $(echo "$out" | oneline)"
elif [ "$props" != "Result=success ExecMainCode=1 ExecMainStatus=0" ]; then
	nok stop-clean "after the stop: $props"
elif [ "$st" != inactive/inactive ]; then
	nok stop-clean "service/socket $st after the stop"
elif pgrep -x dmfilemap-super > /dev/null; then
	nok stop-clean "a supervisor still runs: $(pgrep -a -x dmfilemap-super | oneline)"
else
	ok stop-clean
fi

# the units' journal: no entry of priority warning or above (systemd's
# own about the units), and none of the supervisor's lines (its stderr,
# logged at priority info) says something went wrong
collect
journalctl --no-pager -o short-monotonic -p warning -u "$SVC" -u "$SKT" 2>&1 |
	grep -v '^-- ' > "$OUT/supervisor-journal-warnings.txt"
bad=$(grep -Ei 'error|fail|fatal|cannot|abort|assert|segv|dumped|warn|killed|timed out' "$OUT/supervisor-journal.txt")
if [ ! -s "$OUT/supervisor-journal.txt" ]; then
	nok journal-clean "no journal for $SVC"
elif [ -n "$bad" ]; then
	nok journal-clean "$(echo "$bad" | head -n 3 | oneline)"
elif [ -s "$OUT/supervisor-journal-warnings.txt" ]; then
	nok journal-clean "entries of priority warning or above: $(head -n 3 "$OUT/supervisor-journal-warnings.txt" | oneline)"
else
	ok journal-clean
fi

out=$(timeout 60 systemd-analyze security --no-pager "$SVC" 2>&1)
rc=$?
echo "$out" > "$OUT/analyze-security.txt"
score=$(echo "$out" | sed -n 's/.*Overall exposure level for [^:]*: *//p' | head -n 1)
if [ "$rc" = 0 ] && [ -n "$score" ]; then
	ok analyze-security
	info "systemd-analyze security $SVC: exposure $score"
else
	nok analyze-security "exit $rc: $(echo "$out" | tail -n 3 | oneline)"
fi

finish "the guest script ended early"
