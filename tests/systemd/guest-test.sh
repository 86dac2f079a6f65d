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
# The checks, in order: the socket enabled and listening, the service
# started by its first client (dmstats create --filemap on bookworm,
# dmfilemapctl add --create on trixie), the group following the file, its
# counts, STATUS=, the sandbox as the kernel sees it, varlinkctl (trixie:
# info, calls, an error reply, Watch, validate-idl), a restart re-adopting
# the monitor, the metrics file; then three more files (one renamed, one
# unlinked but held open by another user's process, one in follow-path mode
# in a directory only its owner may read), kept with their counts across a
# reinstall of the same package, an upgrade to a newer version of it
# (pkg-next: the same tree, one Debian revision later) and a kill -9
# (Restart=on-failure), and across a mount elsewhere; a clean stop that
# leaves the regions in the kernel, a clean journal, systemd-analyze
# security's exposure, and a purge that leaves no unit and no state.
#
# /dmf-check/config sets SUITE (bookworm or trixie), VERSION, DEB and
# NEXT_DEB (the packages in /dmf-check/pkg and /dmf-check/pkg-next) and
# NEXT_VERSION; /dmf-check/io.dmfilemap.Supervisor.varlink is the tree's
# IDL. Results go to
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
# renamed after registration (to R2), unlinked but held open, and a
# follow-path file in a directory only its owner (nobody) may read, in a
# home directory
R=$MNT/r
R2=$MNT/r2
U=$MNT/u
HOMEDIR=/home/alice
P=$HOMEDIR/private/p
METRICS_DIR=/var/lib/prometheus/node-exporter
HOLDER=

case $SUITE in
bookworm) MIDDLE=(shim-on-path dmstats-filemap activated-by-dmstats monitor-listed)
	VARLINK=() ;;
trixie) MIDDLE=(dmstats-filemap-disabled add-create-activates monitor-listed
	unmonitored-listed)
	VARLINK=(varlinkctl-info varlinkctl-list-interfaces varlinkctl-introspect
	varlinkctl-call-list varlinkctl-call-stats varlinkctl-call-info
	varlinkctl-error-reply varlinkctl-validate-idl
	varlinkctl-introspect-valid) ;;
*) MIDDLE=() VARLINK=() ;;
esac
[ "$SUITE" = trixie ] && WATCHED=(varlinkctl-watch-added) || WATCHED=()
PLAN=(setup socket-enabled socket-active service-inactive-before-use
	"${MIDDLE[@]}"
	regions-match grow-followed stats-json status-text sandboxed
	"${VARLINK[@]}"
	restart-readopted stats-kept-after-restart follow-after-restart
	metrics-written
	rename-followed unlinked-held private-path-monitored "${WATCHED[@]}"
	status-text-all
	reinstall-keeps-monitors reinstall-stats-kept
	upgrade-keeps-monitors upgrade-stats-kept upgrade-version
	kill9-restarted kill9-keeps-monitors kill9-stats-kept
	mount-change-keeps-monitors
	stop-clean stop-keeps-regions journal-clean analyze-security
	purge-removes-units purge-removes-state)
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
	[ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null
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

status_text() { systemctl show -p StatusText --value "$SVC"; }
# status_is N: the service's STATUS= says N monitors (on the one device)
status_is() { status_text | grep -Eqx "$1 monitors? on 1 devices?"; }

# snap NAME: the monitors and their stats now, in $OUT/NAME-list.json and
# $OUT/NAME-stats.json
snap() {
	list_json > "$OUT/$1-list.json" 2>&1
	ctl stats --json > "$OUT/$1-stats.json" 2>&1
}
# monitors_of FILE: what must stay the same of each monitor in FILE (a
# "list --json"): path, group, mode, state, regions; sorted by path
monitors_of() {
	jq -c '[.monitors[] | {path, group_id, mode, state, regions}] | sort_by(.path)' "$1" 2>/dev/null
}
# same_monitors NAME: the monitors now are those of snapshot NAME (else
# WHY says how they differ)
same_monitors() {
	local a b
	a=$(monitors_of "$OUT/$1-list.json")
	b=$(list_json 2>/dev/null | jq -c '[.monitors[] | {path, group_id, mode, state, regions}] | sort_by(.path)' 2>/dev/null)
	WHY="before: $a; now: ${b:-no list}"
	[ -n "$a" ] && [ "$a" != "[]" ] && [ "$a" = "$b" ]
}
# stats_kept NAME NEW: no counter of snapshot NAME's stats went back in
# NEW's (every one but in_flight only grows), and every file is there
stats_kept() {
	local bad
	bad=$(jq -rn --slurpfile a "$OUT/$1-stats.json" --slurpfile b "$OUT/$2-stats.json" '
		($b[0].files | map({key: .path, value: .}) | from_entries) as $now
		| $a[0].files[] as $o
		| if $now[$o.path] == null then "\($o.path): gone"
		  else ($o | to_entries[]
			| select((.value | type) == "number")
			| select(.key | test("^(reads|reads_merged|read_bytes|read_time_ns|writes|writes_merged|write_bytes|write_time_ns|io_time_ns|io_time_weighted_ns|read_busy_ns|write_busy_ns|carried_regions)$"))
			| select($now[$o.path][.key] < .value)
			| "\($o.path) \(.key) \(.value) -> \($now[$o.path][.key])")
		  end' 2>&1)
	WHY=$bad
	[ -z "$bad" ] && [ "$(jq '.files | length' "$OUT/$1-stats.json" 2>/dev/null)" -gt 0 ] 2>/dev/null
}
# reads_of FILE: "reads read_bytes" of the stats file FILE, summed
reads_of() { jq -r '[.files[].reads] | add' "$1" 2>/dev/null; }

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
	write_chunks "$F" 0 2 4 6 || return 1
	# a home directory on the device (ProtectHome=read-only must let the
	# supervisor see it), bound before the supervisor starts
	mkdir -p "$MNT/alice" "$HOMEDIR" && mount --bind "$MNT/alice" "$HOMEDIR" || return 1
	# the metrics file, in the directory the unit makes writable
	mkdir -p "$METRICS_DIR" || return 1
	echo "DMFILEMAP_SUPERVISORD_OPTS=\"--metrics-dir $METRICS_DIR\"" \
		> /etc/default/dmfilemap-supervisord
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
	# the group Debian 13's dmstats made and left: noticed, with its file
	# and the command that adopts it (list and the journal)
	ug=$(list_json | jq -r --arg p "$G" '.unmonitored[] | select(.path == $p) | .group_id' 2>/dev/null)
	line="is not monitored; adopt it with: dmfilemapctl add $G --group $ug"
	if [ -z "$ug" ]; then
		nok unmonitored-listed "dmstats's group of $G not listed as unmonitored: $(list_json 2>&1 | oneline)"
	elif ! ctl list | grep -qF "dmfilemapctl add $G --group $ug"; then
		nok unmonitored-listed "list's text has no adoption line for $G: $(ctl list | oneline)"
	elif ! journalctl -u "$SVC" --no-pager -o cat 2>/dev/null | grep -qF "$line"; then
		nok unmonitored-listed "the journal has no line \"$line\""
	else
		ok unmonitored-listed
		info "unmonitored: $(list_json | jq -c '.unmonitored')"
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

# STATUS=: the supervisor says how many monitors it keeps
if wait_for 5 status_is 1; then
	ok status-text
	info "StatusText: $(status_text)"
else
	nok status-text "systemctl show -p StatusText: '$(status_text)', expected '1 monitors on 1 devices'"
fi

# the sandbox, as the kernel sees the supervisor: only its three
# capabilities in its bounding set, no new privileges, a seccomp filter,
# a mount and a network namespace of its own
pid=$(mainpid)
st=/proc/$pid/status
v="CapBnd=$(awk '/^CapBnd:/ { print $2 }' "$st") NoNewPrivs=$(awk '/^NoNewPrivs:/ { print $2 }' "$st") Seccomp=$(awk '/^Seccomp:/ { print $2 }' "$st")"
ns=
[ "$(readlink /proc/"$pid"/ns/mnt)" != "$(readlink /proc/1/ns/mnt)" ] && ns="$ns mnt"
[ "$(readlink /proc/"$pid"/ns/net)" != "$(readlink /proc/1/ns/net)" ] && ns="$ns net"
# CAP_DAC_READ_SEARCH (2), CAP_SYS_PTRACE (19), CAP_SYS_ADMIN (21)
if [ "$v" = "CapBnd=0000000000280004 NoNewPrivs=1 Seccomp=2" ] && [ "$ns" = " mnt net" ]; then
	ok sandboxed
	info "supervisor $pid: $v, namespaces of its own:$ns, open files limit $(awk '/^Max open files/ { print $4 "/" $5 }' /proc/"$pid"/limits) (fs.nr_open $(cat /proc/sys/fs/nr_open))"
else
	nok sandboxed "supervisor $pid: $v (CapBnd=0000000000280004 NoNewPrivs=1 Seccomp=2 expected), namespaces of its own:${ns:- none} (mnt net expected)"
fi

if [ "$SUITE" = trixie ]; then
	VL=unix:$SOCK
	out=$(timeout 20 varlinkctl info "$VL" 2>&1)
	rc=$?
	echo "$out" > "$OUT/varlinkctl-info.txt"
	if [ "$rc" = 0 ] && echo "$out" | grep -q 'io\.dmfilemap\.Supervisor'; then
		ok varlinkctl-info
		info "varlinkctl info: $(echo "$out" | oneline)"
	else
		nok varlinkctl-info "exit $rc: $(echo "$out" | oneline)"
	fi
	out=$(timeout 20 varlinkctl list-interfaces "$VL" 2>&1)
	rc=$?
	echo "$out" > "$OUT/varlinkctl-list-interfaces.txt"
	if [ "$rc" = 0 ] && echo "$out" | grep -qx 'io\.dmfilemap\.Supervisor'; then
		ok varlinkctl-list-interfaces
	else
		nok varlinkctl-list-interfaces "exit $rc: $(echo "$out" | oneline)"
	fi
	out=$(timeout 20 varlinkctl introspect "$VL" io.dmfilemap.Supervisor 2>&1)
	rc=$?
	echo "$out" > "$OUT/varlinkctl-introspect.txt"
	if [ "$rc" = 0 ] && echo "$out" | grep -q 'method Stats(' &&
	    echo "$out" | grep -q '^interface io\.dmfilemap\.Supervisor'; then
		ok varlinkctl-introspect
	else
		nok varlinkctl-introspect "exit $rc: $(echo "$out" | head -n 5 | oneline)"
	fi
	out=$(timeout 20 varlinkctl call "$VL" io.dmfilemap.Supervisor.List '{}' 2>&1)
	rc=$?
	echo "$out" > "$OUT/varlinkctl-call-list.txt"
	n=$(echo "$out" | jq -r --arg p "$F" '[.monitors[] | select(.path == $p)] | length' 2>/dev/null)
	m=$(echo "$out" | jq -r '.monitors | length' 2>/dev/null)
	if [ "$rc" = 0 ] && [ "$m" = 1 ] && [ "$n" = 1 ]; then
		ok varlinkctl-call-list
	else
		nok varlinkctl-call-list "exit $rc, monitors ${m:-?}, of $F ${n:-?}: $(echo "$out" | oneline)"
	fi
	out=$(timeout 20 varlinkctl call "$VL" io.dmfilemap.Supervisor.Stats '{}' 2>&1)
	rc=$?
	echo "$out" > "$OUT/varlinkctl-call-stats.txt"
	m=$(echo "$out" | jq -r '.files | length' 2>/dev/null)
	r=$(echo "$out" | jq -r '.files[0].reads' 2>/dev/null)
	if [ "$rc" = 0 ] && [ "$m" = 1 ] && [ "$r" = 16 ]; then
		ok varlinkctl-call-stats
	else
		nok varlinkctl-call-stats "exit $rc, files ${m:-?}, reads ${r:-?} (16 expected): $(echo "$out" | oneline)"
	fi
	out=$(timeout 20 varlinkctl call "$VL" io.dmfilemap.Supervisor.Info '{}' 2>&1)
	rc=$?
	echo "$out" > "$OUT/varlinkctl-call-info.txt"
	v=$(echo "$out" | jq -r '"\(.version) \(.pid) \(.monitors) \(.devices)"' 2>/dev/null)
	if [ "$rc" = 0 ] && [ "$v" = "$VERSION $(mainpid) 1 1" ]; then
		ok varlinkctl-call-info
		info "varlinkctl call Info: $(echo "$out" | jq -c '{version, pid, uptime, monitors, devices, interval_ms}')"
	else
		nok varlinkctl-call-info "exit $rc, version pid monitors devices '$v' ('$VERSION $(mainpid) 1 1' expected): $(echo "$out" | oneline)"
	fi
	# an error reply: varlinkctl fails and names the error
	out=$(timeout 20 varlinkctl call "$VL" io.dmfilemap.Supervisor.Remove '{"id":999}' 2>&1)
	rc=$?
	echo "$out" > "$OUT/varlinkctl-error-reply.txt"
	if [ "$rc" != 0 ] && echo "$out" | grep -q 'io\.dmfilemap\.Supervisor\.NoSuchMonitor'; then
		ok varlinkctl-error-reply
		info "varlinkctl call Remove {\"id\":999}: exit $rc: $(echo "$out" | oneline)"
	else
		nok varlinkctl-error-reply "exit $rc (non-zero expected), io.dmfilemap.Supervisor.NoSuchMonitor expected: $(echo "$out" | oneline)"
	fi
	# the IDL in the tree, and the one the supervisor serves, as systemd's
	# own parser reads them: no error, no warning
	idl_valid() { # NAME FILE
		local o e rc
		o=$(timeout 20 varlinkctl validate-idl "$2" 2> "$OUT/$1.err")
		rc=$?
		e=$(oneline < "$OUT/$1.err")
		echo "$o" > "$OUT/$1.txt"
		if [ "$rc" = 0 ] && [ -z "$e" ] && echo "$o" | grep -q '^interface io\.dmfilemap\.Supervisor'; then
			ok "$1"
		else
			nok "$1" "varlinkctl validate-idl $2: exit $rc: ${e:-$(echo "$o" | head -n 3 | oneline)}"
		fi
	}
	idl_valid varlinkctl-validate-idl "$D/io.dmfilemap.Supervisor.varlink"
	timeout 20 varlinkctl introspect "$VL" io.dmfilemap.Supervisor > "$OUT/introspected.varlink" 2>&1
	idl_valid varlinkctl-introspect-valid "$OUT/introspected.varlink"
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

# the metrics file, written at each start (so with the re-adopted monitor)
# in the one directory of /var it may write, readable by node_exporter's
# user
prom=$METRICS_DIR/dmfilemap.prom
if wait_for 5 grep -q "^dmfilemap_file_reads_completed_total{.*\"$F\"" "$prom" &&
    [ "$(stat -c %a "$prom")" = 644 ]; then
	ok metrics-written
else
	nok metrics-written "$prom: $(ls -l "$prom" 2>&1 | oneline); $(grep -m1 '^dmfilemap_file_reads_completed_total' "$prom" 2>&1 | oneline)"
fi


# ------------------------------------------------ more files, and upgrades

path_listed() { list_json | jq -e --arg p "$1" 'any(.monitors[]; .path == $p)' >/dev/null 2>&1; }
state_of() { list_json | jq -r --arg p "$1" '.monitors[] | select(.path == $p) | .state' 2>/dev/null; }
mode_of() { list_json | jq -r --arg p "$1" '.monitors[] | select(.path == $p) | .mode' 2>/dev/null; }
regions_of() { list_json | jq -r --arg p "$1" '.monitors[] | select(.path == $p) | .regions' 2>/dev/null; }
holder_ready() { [ -e "/proc/$HOLDER/fd/3" ] && [ "$(cat "/proc/$HOLDER/comm" 2>/dev/null)" = sleep ]; }
# direct_reads FILE: 16 O_DIRECT reads of 4 KiB
direct_reads() { dd if="$1" of=/dev/null bs=4k count=16 iflag=direct status=none; }

if [ "$SUITE" = trixie ]; then
	# every monitor's events, from before the new files are added
	timeout 120 varlinkctl call --more "unix:$SOCK" io.dmfilemap.Supervisor.Watch '{}' \
		> "$OUT/varlinkctl-watch.txt" 2> "$OUT/varlinkctl-watch.err" &
	WATCH=$!
	sleep 1
fi
write_chunks "$R" 0 2 4
write_chunks "$U" 0 2 4
mkdir -p "$HOMEDIR/private"
write_chunks "$P" 0 2
chown -R nobody:nogroup "$HOMEDIR/private"
chmod 700 "$HOMEDIR/private"
chmod 600 "$P"
out=$(ctl add "$R" "$U" --create 2>&1)
info "dmfilemapctl add $R $U --create (exit $?): $(echo "$out" | oneline)"
out=$(ctl add "$P" --create --follow path 2>&1)
info "dmfilemapctl add $P --create --follow path (exit $?): $(echo "$out" | oneline)"

# follow-inode: the monitor takes the file's new name
mv "$R" "$R2"
if wait_for 5 path_listed "$R2" && ! path_listed "$R"; then
	ok rename-followed
else
	nok rename-followed "no monitor of $R2 after mv $R $R2: $(list_json 2>&1 | jq -c '[.monitors[] | {path, state}]' 2>&1 | oneline)"
fi

# unlinked, still held open by a process of another user (nobody): the
# supervisor finds it in /proc/PID/fd and keeps the monitor
setpriv --reuid=65534 --regid=65534 --clear-groups sleep 1000 3<"$U" &
HOLDER=$!
wait_for 5 holder_ready
rm "$U"
u_unlinked() { [ "$(state_of "$U")" = unlinked ]; }
if wait_for 5 u_unlinked && sleep 1 && u_unlinked; then
	ok unlinked-held
	info "$U unlinked, held open by process $HOLDER (uid $(stat -c %u /proc/$HOLDER)): monitor state $(state_of "$U")"
else
	nok unlinked-held "monitor of $U after rm (held open by $HOLDER): state '$(state_of "$U")', 'unlinked' expected"
fi

# follow-path, in a directory and a file that only nobody may read, in a
# home directory: listed, and a grow followed
write_chunks "$P" 6
pfollow() { [ "$(mode_of "$P")" = path ] && [ "$(state_of "$P")" = active ] &&
	[ "$(regions_of "$P")" = "$(extents "$P" | wc -l)" ]; }
if wait_for 10 pfollow; then
	ok private-path-monitored
	info "$P (mode $(stat -c %a "$P"), directory $(stat -c %a "$HOMEDIR/private"), owner $(stat -c %U "$P")): follow-path monitor of $(regions_of "$P") regions"
else
	nok private-path-monitored "monitor of $P: mode '$(mode_of "$P")', state '$(state_of "$P")', regions '$(regions_of "$P")', extents $(extents "$P" | wc -l)"
fi

# counts to keep: reads of each new file
direct_reads "$R2"
direct_reads "/proc/$HOLDER/fd/3"
direct_reads "$P"

if [ "$SUITE" = trixie ]; then
	watch_added() { tr -d '\036' < "$OUT/varlinkctl-watch.txt" | jq -r 'select(.event.event == "added") | .event.path' 2>/dev/null | grep -qx "$R"; }
	if wait_for 5 watch_added; then
		ok varlinkctl-watch-added
		info "varlinkctl call --more Watch: $(tr -d '\036' < "$OUT/varlinkctl-watch.txt" | jq -c '.event | {event, id, path}' 2>/dev/null | head -n 3 | oneline)"
	else
		nok varlinkctl-watch-added "no \"added\" event for $R in varlinkctl call --more Watch's output: $(head -c 300 "$OUT/varlinkctl-watch.txt" | oneline) $(oneline < "$OUT/varlinkctl-watch.err")"
	fi
	kill "$WATCH" 2>/dev/null
	wait "$WATCH" 2>/dev/null
fi

NMON=4
if wait_for 5 status_is "$NMON"; then
	ok status-text-all
	info "StatusText: $(status_text)"
else
	nok status-text-all "systemctl show -p StatusText: '$(status_text)', expected '$NMON monitors on 1 devices'"
fi

# pkg_update CHECK NAME DEB: dpkg -i DEB, whose postinst restarts the
# socket and so the supervisor (a restart: systemd keeps its fd store);
# then every monitor of snapshot NAME is there (CHECK-keeps-monitors),
# with counts that did not go back (CHECK-stats-kept)
pkg_update() {
	local check=$1 name=$2 deb=$3 out rc pid
	snap "$name"
	pid=$(mainpid)
	out=$(timeout 180 dpkg -i "$deb" 2>&1)
	rc=$?
	echo "$out" > "$OUT/dpkg-$check.txt"
	info "$check: dpkg -i $(basename "$deb") (exit $rc); MainPID $pid before, $(mainpid) after, $SVC $(svc_state "$SVC"), fd store $(systemctl show -p NFileDescriptorStore --value "$SVC")"
	if [ "$rc" != 0 ]; then
		nok "$check-keeps-monitors" "dpkg -i $(basename "$deb"): exit $rc: $(echo "$out" | tail -n 3 | oneline)"
	elif [ "$(mainpid)" = "$pid" ]; then
		# (a test of nothing: the old supervisor runs on, from a
		# deleted binary)
		nok "$check-keeps-monitors" "the supervisor was not restarted: MainPID $pid, running $(readlink "/proc/$pid/exe")"
	elif wait_for 15 same_monitors "$name"; then
		ok "$check-keeps-monitors"
	else
		nok "$check-keeps-monitors" "$WHY"
	fi
	snap "$name-after"
	if stats_kept "$name" "$name-after"; then
		ok "$check-stats-kept"
		info "$check: reads $(reads_of "$OUT/$name-stats.json") before, $(reads_of "$OUT/$name-after-stats.json") after"
	else
		nok "$check-stats-kept" "$(echo "$WHY" | head -n 5 | oneline)"
	fi
}
# the same package again, then a newer version built from the same tree
pkg_update reinstall before-reinstall "$D/pkg/$DEB"
pkg_update upgrade before-upgrade "$D/pkg-next/$NEXT_DEB"
v=$(dpkg-query -W -f '${Version}' dmfilemap 2>&1)
exe=$(readlink "/proc/$(mainpid)/exe")
if [ "$v" = "$NEXT_VERSION" ] && [ "$exe" = /usr/sbin/dmfilemap-supervisord ]; then
	ok upgrade-version
else
	nok upgrade-version "dmfilemap $v installed ($NEXT_VERSION expected), the supervisor runs '$exe'"
fi

# kill -9: Restart=on-failure starts it again, with the fd store
snap before-kill
old_pid=$(mainpid)
kill -KILL "$old_pid"
restarted() { local p; p=$(mainpid); [ "$p" != "$old_pid" ] && [ "$p" != 0 ] && svc_active; }
if wait_for 10 restarted; then
	ok kill9-restarted
	info "kill -9 $old_pid: MainPID $(mainpid) $(fmt_cs "$WAITED") s later, NRestarts=$(systemctl show -p NRestarts --value "$SVC"), fd store $(systemctl show -p NFileDescriptorStore --value "$SVC")"
else
	nok kill9-restarted "after kill -9 $old_pid: MainPID $(mainpid), $SVC $(svc_state "$SVC")"
fi
if wait_for 10 same_monitors before-kill; then
	ok kill9-keeps-monitors
else
	nok kill9-keeps-monitors "$WHY"
fi
snap after-kill
if stats_kept before-kill after-kill; then
	ok kill9-stats-kept
else
	nok kill9-stats-kept "$(echo "$WHY" | head -n 5 | oneline)"
fi

# a mount and an unmount elsewhere, on the host (the supervisor has a mount
# namespace of its own, where they propagate): every monitor stays
snap before-mount
# the mount of the supervisor's fd of $F, and /mnt's in its table and in
# the host's
pid=$(mainpid)
fd=
for l in "/proc/$pid/fd"/*; do
	[ "$(readlink "$l")" = "$F" ] && { fd=${l##*/}; break; }
done
fdmnt=$(awk '/^mnt_id:/ { print $2 }' "/proc/$pid/fdinfo/$fd" 2>/dev/null)
own=$(awk '$5 == "/mnt" { print $1 }' "/proc/$pid/mountinfo" | oneline)
host=$(awk '$5 == "/mnt" { print $1 }' /proc/1/mountinfo | oneline)
inown=no
awk '{ print $1 }' "/proc/$pid/mountinfo" | grep -qx "${fdmnt:-x}" && inown=yes
timeout 30 dmfilemapctl watch --json > "$OUT/watch-mount.txt" 2>&1 &
wpid=$!
sleep 1
mount -t tmpfs dmf-check /media && umount /media
sleep 2
kill "$wpid" 2>/dev/null
wait "$wpid" 2>/dev/null
if same_monitors before-mount; then
	ok mount-change-keeps-monitors
else
	ended=$(grep -o '"event":"ended".*"reason":"[^"]*"' "$OUT/watch-mount.txt" |
		sed 's/.*"path":"\([^"]*\)".*"reason":"\([^"]*\)".*/\1: \2/' | oneline)
	nok mount-change-keeps-monitors "after a mount and umount of a tmpfs on /media: ended [${ended:-?}], monitors now $(list_json 2>/dev/null | jq -c '[.monitors[].path]' 2>/dev/null); before, the supervisor's fd $fd of $F was on mount $fdmnt (in its own mount table: $inown), /mnt being mount $host in the host's table and $own in the supervisor's"
	grep '"ended"' "$OUT/watch-mount.txt" | head -n 4 | while IFS= read -r line; do
		info "  dmfilemapctl watch --json: $line"
	done
fi

regions > "$OUT/regions-before-stop.txt"

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
# the regions stay in the kernel: the groups are dmstats' as much as ours
regions > "$OUT/regions-after-stop.txt"
# (the groups of every monitor before the mount check: its monitors may
# have ended, their groups are still there)
groups=$(jq -r '.monitors[].group_id' "$OUT/before-mount-list.json" 2>/dev/null | sort -n | oneline)
missing=
for g in $groups; do
	dmsetup message "$DEV" 0 @stats_list | grep -q "^$g: " || missing="$missing $g"
done
if [ -s "$OUT/regions-before-stop.txt" ] && [ -n "$groups" ] && [ -z "$missing" ] &&
    cmp -s "$OUT/regions-before-stop.txt" "$OUT/regions-after-stop.txt"; then
	ok stop-keeps-regions
	info "after the stop: groups $groups listed by @stats_list, $(nregions) regions"
else
	nok stop-keeps-regions "groups [$groups], not listed [$missing]; regions before [$(oneline < "$OUT/regions-before-stop.txt")] after [$(oneline < "$OUT/regions-after-stop.txt")]"
fi

# the units' journal: no entry of priority warning or above (systemd's
# own about the units), and none of the supervisor's lines (its stderr,
# logged at priority info) says something went wrong
# (but systemd's two lines about the kill -9 above, once each)
collect
KILLED="Main process exited, code=killed, status=9/KILL|Failed with result 'signal'"
journalctl --no-pager -o short-monotonic -p warning -u "$SVC" -u "$SKT" 2>&1 |
	grep -v '^-- ' | grep -vE "$KILLED" > "$OUT/supervisor-journal-warnings.txt"
bad=$(grep -Ei 'error|fail|fatal|cannot|abort|assert|segv|dumped|warn|killed|timed out' "$OUT/supervisor-journal.txt" |
	grep -vE "$KILLED")
nkill=$(grep -cE "$KILLED" "$OUT/supervisor-journal.txt")
[ "$nkill" -le 2 ] || bad="$bad (the kill -9's lines $nkill times)"
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
# the unit's sandbox, as systemd rates it: 3.0 or below (9.4 unhardened)
MAX_EXPOSURE=3.0
if [ "$rc" != 0 ] || [ -z "$score" ]; then
	nok analyze-security "exit $rc: $(echo "$out" | tail -n 3 | oneline)"
elif ! awk -v s="${score%% *}" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s + 0 <= m + 0) }'; then
	nok analyze-security "exposure $score, above $MAX_EXPOSURE: $(echo "$out" | grep '✗' | head -n 5 | oneline)"
else
	ok analyze-security
fi
info "systemd-analyze security $SVC: exposure $score (at most $MAX_EXPOSURE)"
echo "$out" | grep '✗' | sed 's/  */ /g' | while IFS= read -r line; do
	info "  exposure: $line"
done

# purge: no unit, no enablement, no state left
out=$(timeout 120 dpkg --purge dmfilemap 2>&1)
rc=$?
echo "$out" > "$OUT/dpkg-purge.txt"
left=$(ls -d /lib/systemd/system/dmfilemap* /usr/lib/systemd/system/dmfilemap* \
	/etc/systemd/system/dmfilemap* /etc/systemd/system/*/dmfilemap* 2>/dev/null | oneline)
listed=$(systemctl list-unit-files --no-legend 'dmfilemap*' 2>&1 | oneline)
load=$(systemctl show -p LoadState --value "$SVC" "$SKT" | oneline)
if [ "$rc" != 0 ]; then
	nok purge-removes-units "dpkg --purge dmfilemap: exit $rc: $(echo "$out" | tail -n 3 | oneline)"
elif [ -n "$left" ] || [ -n "$listed" ] || [ "$load" != "not-found not-found" ]; then
	nok purge-removes-units "left: files [$left], list-unit-files [$listed], LoadState [$load]"
else
	ok purge-removes-units
fi
left=$(ls -d /run/dmfilemap /run/dmfilemap/* "$METRICS_DIR/dmfilemap.prom" 2>/dev/null | oneline)
if [ "$rc" = 0 ] && [ -z "$left" ]; then
	ok purge-removes-state
else
	nok purge-removes-state "left after dpkg --purge (exit $rc): $left"
fi

finish "the guest script ended early"
