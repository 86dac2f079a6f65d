#!/bin/sh
# t-restart-many: 20 monitors (10 follow inode, 10 follow path; 6 registered
# by "dmstats create --filemap" through the dmfilemapd shim, 14 by
# "dmfilemapctl add --create") survive a SIGKILL of the supervisor. While no
# supervisor runs, 5 files change (grow, truncate, punch), one follow-inode
# file is renamed and one follow-path file is replaced at its path. Then a
# shim registration of a 21st file finds no supervisor, starts one (detached,
# as in production), which re-adopts from its state file
# (dmfilemap-supervisord(8), RESTARTS): every saved monitor whose path still
# names the same file, within 2 s of the start, each group corrected within
# 3 s; the renamed and the replaced files are dropped (no systemd fd store
# here), with a log line naming each.
# timeout: 300
. "$DMF_KT_DIR/lib.sh"
require_supervisor

STATE=${DMFILEMAP_SOCKET%.sock}.state
SLOG=$DMF_RESULTS/$DMF_TEST.supervisord.log
N=20
NSHIM=6
RENAMED=13   # follow inode
REPLACED=14  # follow path

cleanup() {
	syslog_capture_stop
	# a detached supervisor left by a failure: guest-init reports it; stop it
	[ -n "$DETACHED" ] && supervisor_alive && kill -TERM "$DMF_SUPERVISOR_PID"
}
trap cleanup EXIT

fname() { printf '%s/rm-%02d.img' "$DMF_MNT" "$1"; }
fmode() { if [ $(($1 % 2)) = 1 ]; then echo inode; else echo path; fi; }

# ------------------------------------------------------------- 20 monitors
: > "$DMF_TMP/table"   # "I PATH MODE GROUP"
i=1
while [ "$i" -le "$N" ]; do
	f=$(fname "$i"); m=$(fmode "$i")
	make_fragmented "$f" $((2 + i % 3))
	if [ "$i" -le "$NSHIM" ]; then
		if [ "$m" = path ]; then dmstats_filemap --follow path "$f"; else dmstats_filemap "$f"; fi
		g=$DMS_GROUP_ID
		wait_until 5 mon_present_group "$g" || fail "group $g made by dmstats create --filemap $f not registered within 5 s"
	else
		add_create "$f" --follow "$m"
		g=$MON_GROUP
	fi
	echo "$i $f $m $g" >> "$DMF_TMP/table"
	i=$((i + 1))
done
[ "$(mon_count)" = "$N" ] || fail "setup: $(mon_count) monitors, want $N"
mon_jq '.monitors[] | "\(.path) \(.mode)"' | sort > "$DMF_TMP/have"
awk '{ print $2, $3 }' "$DMF_TMP/table" | sort > "$DMF_TMP/want"
cmp -s "$DMF_TMP/have" "$DMF_TMP/want" || fail "setup: monitors (path mode) '$(tr '\n' ';' < "$DMF_TMP/have")', want '$(tr '\n' ';' < "$DMF_TMP/want")'"
# the state file is written shortly after each change
state_count() { jq '.monitors | length' "$STATE" 2>/dev/null; }
wait_until 5 eval '[ "$(state_count)" = "$N" ]' || fail "state file $STATE lists '$(state_count)' monitors, want $N"

# ------------------------------------------------- changes with no supervisor
supervisor_takeover
supervisor_kill KILL
log "supervisor killed; changing files"
append_blocks "$(fname 1)" 3                       # grow (shim, inode)
truncate -s 4096 "$(fname 2)" || fail "truncate"   # truncate (shim, path)
write_blocks "$(fname 9)" 40 2                     # grow with a hole (inode)
truncate -s 8192 "$(fname 10)" || fail "truncate"  # truncate (path)
punch "$(fname 11)" 0 1                            # punch and grow (inode)
append_blocks "$(fname 11)" 2
mv "$(fname $RENAMED)" "$DMF_MNT/rm-$RENAMED.moved" || fail "mv (rename)"
make_fragmented "$DMF_MNT/rm-new.img" 4
mv "$DMF_MNT/rm-new.img" "$(fname $REPLACED)" || fail "mv (replace)"
for c in 1 2 9 10 11; do
	g=$(awk -v i="$c" '$1 == i { print $4 }' "$DMF_TMP/table")
	group_matches_file "$g" "$(fname "$c")" && fail "setup: group $g still matches $(fname "$c") after the change"
done

# expected after the restart: every file but the renamed and the replaced
# one, with its mode, and the 21st file
awk -v a="$RENAMED" -v b="$REPLACED" '$1 != a && $1 != b { print $2, $3 }' "$DMF_TMP/table" > "$DMF_TMP/want"
F21=$DMF_MNT/rm-21.img
make_fragmented "$F21" 3
echo "$F21 inode" >> "$DMF_TMP/want"
sort -o "$DMF_TMP/want" "$DMF_TMP/want"
NWANT=$(awk 'END { print NR }' "$DMF_TMP/want")

# ------------------------------------------- a shim starts the supervisor
[ -S "$DMFILEMAP_SOCKET" ] && [ -z "$(dmfilemapctl info 2>/dev/null)" ] && log "stale socket left by the killed supervisor"
dmfilemapctl info > /dev/null 2>&1 && fail "setup: a supervisor still answers on $DMFILEMAP_SOCKET"
echo "=== supervisor started by the dmfilemapd shim (detached; its stderr until it listens, then syslog)" >> "$SLOG"
syslog_capture "$SLOG"
all_listed() {
	dmfilemapctl list --json 2>/dev/null | jq -r '.monitors[] | "\(.path) \(.mode)"' 2>/dev/null | sort > "$DMF_TMP/have"
	cmp -s "$DMF_TMP/have" "$DMF_TMP/want"
}
_dmf_now; t0=$_dmf_cs
dmstats create --filemap "$F21" > "$DMF_TMP/dmstats.out" 2>&1 || fail "dmstats create --filemap $F21: exit $?: $(cat "$DMF_TMP/dmstats.out")"
t_dmstats=$(elapsed_cs "$t0")
# All listed within 2 s of the supervisor's start and every group matching
# within 3 s. The checks start several processes each, slow in the guest:
# a check counts if it started within the limit plus a 3 s margin.
within "$t0" 1500 all_listed ||
	fail "monitors listed 15 s after the shim was run: '$(tr '\n' ';' < "$DMF_TMP/have")', want '$(tr '\n' ';' < "$DMF_TMP/want")'"
l0=$WITHIN_START l1=$WITHIN_END
within "$t0" 1500 monitors_all_match || fail "groups do not match their files 15 s after the shim was run: $(mismatch)"
m0=$WITHIN_START m1=$WITHIN_END
DETACHED=1
cat "$DMF_TMP/dmstats.out" >> "$SLOG"
cat "$DMF_TMP/dmstats.out"
supervisor_pid_from_info
# the supervisor's start: field 22 of /proc/PID/stat, in 1/100 s since boot
# (as /proc/uptime)
st=$(cat "/proc/$DMF_SUPERVISOR_PID/stat")
set -- ${st##*) }
t_sup=$(( ${20} - t0 ))
restored=$(awk -v f="$F21" '$1 != f' "$DMF_TMP/have" | awk 'END { print NR }')
echo "restored $restored of $N monitors (the renamed and the replaced one dropped), plus the new one;" \
	"seen all $NWANT listed by a check run $(cs_fmt $((l0 - t_sup)))-$(cs_fmt $((l1 - t_sup))) s and all groups matching" \
	"by a check run $(cs_fmt $((m0 - t_sup)))-$(cs_fmt $((m1 - t_sup))) s after the supervisor (pid $DMF_SUPERVISOR_PID) started;" \
	"it started $(cs_fmt "$t_sup") s after the shim was run (dmstats returned after $(cs_fmt "$t_dmstats") s)"
[ $((l0 - t_sup)) -le 500 ] || fail "the monitors were first seen all listed by a check started $(cs_fmt $((l0 - t_sup))) s after the supervisor started (limit 2 s + 3 s margin)"
[ $((m0 - t_sup)) -le 600 ] || fail "the groups were first seen all matching by a check started $(cs_fmt $((m0 - t_sup))) s after the supervisor started (limit 3 s + 3 s margin)"
[ "$restored" = $((N - 2)) ] || fail "restored $restored monitors, want $((N - 2))"
[ "$(mon_count)" = "$NWANT" ] || fail "$(mon_count) monitors listed, want $NWANT"

# the re-adopted monitors kept their groups (a correction may move a group
# to a new lowest member id, "regrouped"), none was made anew: the 20
# original groups (the dropped ones' stay in the kernel) and the new one
[ "$(all_groups | awk 'END { print NR }')" = $((N + 1)) ] || fail "$(all_groups | awk 'END { print NR }') groups on $DMF_DEV, want $((N + 1))"

# the dropped ones are named in the supervisor's log
for d in "$RENAMED" "$REPLACED"; do
	p=$(fname "$d")
	wait_until 3 grep -q "dropping $p" "$SLOG" ||
		fail "no log line naming the dropped $p in the supervisor log ($SLOG)"
	log "log: $(grep "dropping $p" "$SLOG" | head -n 1)"
done
mon_id_by_path "$DMF_MNT/rm-$RENAMED.moved" | grep -q . && fail "the renamed file was re-adopted under its new name"

# the re-adopted monitors work: a follow-inode and a follow-path file grow
for c in 3 4; do
	p=$(fname "$c")
	append_blocks "$p" 2
	wait_until 3 mon_matches "$(mon_id_by_path "$p")" "$p" || fail "re-adopted monitor of $p does not follow growth: $(mismatch)"
done

supervisor_stop_detached
DETACHED=
syslog_capture_stop
