#!/bin/bash
# metrics-check.sh: the supervisor's metrics file for node_exporter's
# textfile collector (--metrics-dir), on this host (no device-mapper: no
# file is monitored, so only the supervisor's own series are there).
#
#   tests/host/metrics-check.sh [BUILD_DIR]     (default build)
#
# Starts the real supervisor in the foreground on a temporary socket with
# --metrics-dir DIR --metrics-interval 1 (under umask 077), then checks:
# the file appears within 2 s, mode 0644, passes `promtool check metrics`,
# has dmfilemap_build_info and no per-file sample; it is replaced
# atomically (a reader opening it 2000 times over ~5 s never sees a partial
# or malformed file; each write is a new inode, a published one is never
# written again); a write error (DIR removed) is said once, retried every
# interval and survived, and the file comes back with "written again" once
# DIR is back; a second outage is said once again; a stale temporary file
# is replaced; usage errors (--metrics-dir relative, --metrics-interval 0
# ...) exit 2 with one diagnostic line (and the usual "Try ... --help");
# a DIR absent at start is said once and written when it appears; after
# SIGTERM the supervisor exits 0 and leaves no temporary file in DIR.
#
# One line per check, "ok NAME" or "FAIL NAME: why", then exactly
# "metrics: N passed, N failed". Exit 0 only if nothing failed. Needs
# python3 and promtool (Debian package prometheus; tests/deps.sh).
set -u

B=${1:-build}
if ! B=$(cd "$B" 2>/dev/null && pwd); then
	echo "metrics-check.sh: no build directory ${1:-build} (run make first)" >&2
	exit 2
fi
for b in dmfilemap-supervisord dmfilemapctl; do
	if [ ! -x "$B/$b" ]; then
		echo "metrics-check.sh: $B/$b missing (run make first)" >&2
		exit 2
	fi
done
PY=$(command -v python3) || { echo "metrics-check.sh: python3 is needed" >&2; exit 2; }
unset DMFILEMAP_SOCKET DMFILEMAP_SUPERVISORD LISTEN_PID LISTEN_FDS
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

T=$(mktemp -d "${TMPDIR:-/tmp}/dmf-metrics.XXXXXX")
M=$T/metrics          # the metrics directory
F=$M/dmfilemap.prom
TMPF=$M/.dmfilemap.prom.tmp
S=$T/run/supervisor.sock
L=$T/daemon.log
pass=0 fail=0
dpid='' d2pid=''

ok() { echo "ok $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail + 1)); }
finish() {
	echo "metrics: $pass passed, $fail failed"
	[ $fail -eq 0 ]
	exit
}
cleanup() {
	# only the processes this script started, by their pid
	[ -n "$dpid" ] && kill -KILL "$dpid" 2>/dev/null
	[ -n "$d2pid" ] && kill -KILL "$d2pid" 2>/dev/null
	if [ $fail -ne 0 ]; then
		echo "metrics-check.sh: logs kept in $T" >&2
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ctl() { DMFILEMAP_SOCKET=$S "$B/dmfilemapctl" "$@"; }
# wait_for SECONDS COMMAND...: poll every 50 ms; 0 if COMMAND succeeded
wait_for() {
	local n=$(($1 * 20)) i=0
	shift
	while [ $i -lt $n ]; do
		"$@" && return 0
		sleep 0.05
		i=$((i + 1))
	done
	"$@"
}
nlines() { grep -c -- "$1" "$L"; }
oneline() { tr '\n' '|' | cut -c1-300; }

# ---- promtool itself ---------------------------------------------------
if ! command -v promtool >/dev/null; then
	bad promtool "promtool not found (Debian package prometheus; tests/deps.sh)"
	finish
fi

# ---- start, with a stale temporary file left by a crash ------------------
mkdir -p "$M" "$T/run"
printf 'partial garbage{' >"$TMPF"
t0=$(date +%s.%N)
( umask 077; exec "$B/dmfilemap-supervisord" -f -v --socket "$S" \
	--metrics-dir "$M" --metrics-interval 1 </dev/null >"$T/daemon.out" 2>"$L" ) &
dpid=$!
if wait_for 2 test -s "$F"; then
	t1=$(date +%s.%N)
	ok "file_within_2s ($(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }") s)"
else
	bad file_within_2s "no $F 2 s after start; log: $(oneline <"$L")"
	finish
fi
wait_for 5 test -S "$S" || bad socket "no socket $S; log: $(oneline <"$L")"

mode=$(stat -c %a "$F")
if [ "$mode" = 644 ] && [ "$(stat -c %u "$F")" = "$(id -u)" ]; then
	ok "mode_0644 (under umask 077)"
else
	bad mode_0644 "mode $mode, owner $(stat -c %u "$F")"
fi

cp "$F" "$T/first.prom"
out=$(promtool check metrics <"$T/first.prom" 2>&1)
rc=$?
if [ $rc -eq 0 ] && [ -z "$out" ]; then
	ok promtool_check_metrics
else
	bad promtool_check_metrics "exit $rc: $(printf '%s' "$out" | oneline)"
fi

if grep -Eq '^dmfilemap_build_info\{version="[^"]+"\} 1$' "$T/first.prom"; then
	ok "build_info ($(grep '^dmfilemap_build_info' "$T/first.prom"))"
else
	bad build_info "no dmfilemap_build_info{version=...} 1 in the file"
fi
# the families are declared, but no monitor: no sample of any
n=$(grep -c '^dmfilemap_file_' "$T/first.prom")
if [ "$n" -eq 0 ] && grep -q '^# TYPE dmfilemap_file_reads_completed_total counter$' "$T/first.prom" &&
   grep -Eq '^dmfilemap_monitors\{state="active"\} 0$' "$T/first.prom" &&
   grep -q '^dmfilemap_devices 0$' "$T/first.prom"; then
	ok no_per_file_samples
else
	bad no_per_file_samples "$n dmfilemap_file_ samples, or no monitors/devices 0"
fi
# every supervisor series the owner listed is there
missing=
for s in 'dmfilemap_monitors{state="active"}' 'dmfilemap_monitors{state="unlinked"}' \
	 'dmfilemap_monitors{state="missing"}' dmfilemap_monitors_in_error \
	 dmfilemap_monitor_errors_total dmfilemap_devices \
	 'dmfilemap_dm_ioctls_total{kind="stats_list"}' \
	 'dmfilemap_dm_ioctls_total{kind="stats_create"}' \
	 'dmfilemap_dm_ioctls_total{kind="stats_delete"}' \
	 'dmfilemap_dm_ioctls_total{kind="stats_set_aux"}' \
	 'dmfilemap_dm_ioctls_total{kind="stats_print"}' \
	 'dmfilemap_dm_ioctls_total{kind="info"}' \
	 dmfilemap_metrics_write_errors_total dmfilemap_metrics_read_errors_total \
	 dmfilemap_metrics_write_duration_seconds; do
	grep -qF -- "$s " "$T/first.prom" || missing="$missing $s"
done
grep -q '^# TYPE dmfilemap_pass_duration_seconds gauge$' "$T/first.prom" ||
	missing="$missing pass_duration(TYPE)"
if [ -z "$missing" ]; then
	ok supervisor_series
else
	bad supervisor_series "missing:$missing"
fi

if [ ! -e "$TMPF" ]; then
	ok stale_tmp_replaced
else
	bad stale_tmp_replaced "$TMPF still there: $(head -c 60 "$TMPF" | oneline)"
fi

# ---- atomic replacement -------------------------------------------------
"$PY" - "$F" >"$T/reader.out" 2>&1 <<'EOF'
import os, re, sys, time
path = sys.argv[1]
NAME = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
LVAL = r'"(?:[^"\\\n]|\\[\\"n])*"'
LABELS = r'\{(?:[a-zA-Z_][a-zA-Z0-9_]*=' + LVAL + r'(?:,[a-zA-Z_][a-zA-Z0-9_]*=' + LVAL + r')*)?\}'
VALUE = r'(?:[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?Inf|NaN)'
SAMPLE = re.compile('^' + NAME + '(?:' + LABELS + ')? ' + VALUE + '(?: -?[0-9]+)?$')
COMMENT = re.compile('^# (?:HELP ' + NAME + ' .*|TYPE ' + NAME +
                     ' (?:counter|gauge|histogram|summary|untyped))$')
bad = []
inodes = set()
first_fd = os.open(path, os.O_RDONLY)
first = os.read(first_fd, 1 << 20)
t0 = time.time()
n = 0
while n < 2000:
    fd = os.open(path, os.O_RDONLY)
    st = os.fstat(fd)
    data = b""
    while True:
        c = os.read(fd, 65536)
        if not c:
            break
        data += c
    os.close(fd)
    n += 1
    inodes.add(st.st_ino)
    why = None
    if st.st_size != len(data):
        why = "size %d, read %d" % (st.st_size, len(data))
    elif not data.endswith(b"\n"):
        why = "does not end with a newline"
    elif b"\ndmfilemap_build_info{" not in data:
        why = "no dmfilemap_build_info"
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            why = "not UTF-8: %s" % e
            text = ""
        for line in text.split("\n")[:-1]:
            if not (COMMENT.match(line) or SAMPLE.match(line)):
                why = "malformed line %r" % line[:120]
                break
    if why:
        bad.append("read %d: %s" % (n, why))
    time.sleep(0.0018)
elapsed = time.time() - t0
# a published inode is never written again (the writes go to new ones)
again = b""
os.lseek(first_fd, 0, 0)
while True:
    c = os.read(first_fd, 65536)
    if not c:
        break
    again += c
print("reads %d in %.1f s, %d inodes, %d bad" % (n, elapsed, len(inodes), len(bad)))
for b in bad[:5]:
    print("bad:", b)
if again != first:
    print("bad: the first file's inode changed after it was published")
if os.fstat(first_fd).st_nlink != 0:
    print("bad: the first file is still linked after %.1f s" % elapsed)
EOF
sum=$(head -1 "$T/reader.out")
nino=$(sed -n '1s/.* \([0-9]*\) inodes.*/\1/p' "$T/reader.out")
if grep -q '^bad' "$T/reader.out" || ! grep -q '^reads 2000 in .* 0 bad$' "$T/reader.out"; then
	bad atomic_replace "$(oneline <"$T/reader.out")"
elif [ "${nino:-0}" -lt 3 ]; then
	bad atomic_replace "$sum: expected a new inode per write (interval 1 s)"
else
	ok "atomic_replace ($sum)"
fi

# every write's file is 0644 (not only the first, made over the stale one)
mode=$(stat -c %a "$F")
if [ "$mode" = 644 ]; then
	ok mode_0644_after_rewrites
else
	bad mode_0644_after_rewrites "mode $mode after several writes (umask 077)"
fi

# ---- a write error: said once, retried, survived -------------------------
rm -rf "$M"
sleep 3.2 # three or four attempts
n=$(nlines 'metrics: cannot write')
line=$(grep -m1 'metrics: cannot write' "$L")
want="metrics: cannot write $F: No such file or directory (retried every 1 s)"
if [ "$n" -eq 1 ] && [[ $line == *"$want" ]]; then
	ok "write_error_said_once ($(echo "$line" | sed 's/^[0-9:.]* //'))"
else
	bad write_error_said_once "$n lines: $(grep 'metrics:' "$L" | oneline)"
fi
if kill -0 "$dpid" 2>/dev/null && out=$(ctl list 2>&1); then
	ok "alive_after_write_error (dmfilemapctl list: $(echo "$out" | head -1 | tr -s ' '))"
else
	bad alive_after_write_error "not running or list failed: $out"
fi
mkdir "$M"
if wait_for 3 test -s "$F"; then
	ok file_back_within_3s
else
	bad file_back_within_3s "no $F 3 s after the directory came back"
fi
if wait_for 2 grep -q "metrics: $F written again" "$L" &&
   [ "$(nlines 'written again')" -eq 1 ]; then
	ok written_again_said
else
	bad written_again_said "log: $(grep 'metrics:' "$L" | oneline)"
fi
# the failed attempts were counted (retried every second, not said each)
errs=$(sed -n 's/^dmfilemap_metrics_write_errors_total \([0-9]*\)$/\1/p' "$F")
if [ "${errs:-0}" -ge 2 ] && promtool check metrics <"$F" >/dev/null 2>&1; then
	ok "write_errors_counted (dmfilemap_metrics_write_errors_total $errs)"
else
	bad write_errors_counted "dmfilemap_metrics_write_errors_total '${errs}' after ~3 s of failures"
fi
# a second outage, of another kind (DIR now a plain file), after a
# success: said once again, and survived again
rm -rf "$M"
: >"$M"
sleep 2.2
n=$(nlines 'metrics: cannot write')
if [ "$n" -eq 2 ] && grep -q "metrics: cannot write $F: Not a directory (retried every 1 s)" "$L"; then
	ok second_outage_said_once
else
	bad second_outage_said_once "$n 'cannot write' lines: $(grep 'metrics:' "$L" | oneline)"
fi
rm -f "$M"
mkdir "$M"
if wait_for 3 test -s "$F" && wait_for 2 test "$(nlines 'written again')" -eq 2 &&
   kill -0 "$dpid" 2>/dev/null; then
	ok second_outage_survived
else
	bad second_outage_survived "file $(ls -A "$M" | oneline), log: $(grep 'metrics:' "$L" | oneline)"
fi

# ---- SIGTERM: exit 0, no temporary file left -----------------------------
# stopped at a random point of the write cycle: no temporary file is left
sleep 0.$((RANDOM % 10))
kill -TERM "$dpid"
stopped=0
for _ in $(seq 100); do
	kill -0 "$dpid" 2>/dev/null || { stopped=1; break; }
	sleep 0.05
done
if [ $stopped = 1 ]; then
	wait "$dpid"
	rc=$?
	dpid=
	left=$(ls -A "$M")
	if [ $rc -eq 0 ] && [ "$left" = dmfilemap.prom ]; then
		ok "sigterm_no_tmp_left (exit 0; $M holds: $left)"
	else
		bad sigterm_no_tmp_left "exit $rc; $M holds: $(echo "$left" | oneline)"
	fi
else
	bad sigterm_no_tmp_left "still running 5 s after SIGTERM"
fi
if grep -qE 'ERROR: AddressSanitizer|runtime error|LeakSanitizer' "$L"; then
	bad log_sanitizer_clean "$(grep -m1 -E 'ERROR: AddressSanitizer|runtime error|LeakSanitizer' "$L")"
fi

# ---- a directory absent at start ------------------------------------------
M2=$T/later
S2=$T/run/second.sock
L2=$T/second.log
"$B/dmfilemap-supervisord" -f --socket "$S2" --metrics-dir "$M2" \
	--metrics-interval 1 </dev/null >/dev/null 2>"$L2" &
d2pid=$!
wait_for 5 test -S "$S2"
sleep 1.5
n=$(grep -c 'metrics: cannot write' "$L2")
if kill -0 "$d2pid" 2>/dev/null && [ "$n" -eq 1 ] && mkdir "$M2" &&
   wait_for 3 test -s "$M2/dmfilemap.prom"; then
	ok dir_absent_at_start
else
	bad dir_absent_at_start "$n 'cannot write' lines, file: $(ls -A "$M2" 2>&1 | oneline); log: $(oneline <"$L2")"
fi
kill -TERM "$d2pid"
wait "$d2pid"
rc=$?
d2pid=
[ $rc -eq 0 ] || bad dir_absent_at_start "exit $rc after SIGTERM"

# ---- usage errors ---------------------------------------------------------
for u in "dir_relative:--metrics-dir relative" "dir_empty:--metrics-dir ''" \
	 "interval_0:--metrics-dir \$T/u --metrics-interval 0" \
	 "interval_3601:--metrics-dir \$T/u --metrics-interval 3601" \
	 "interval_-1:--metrics-dir \$T/u --metrics-interval -1" \
	 "interval_abc:--metrics-dir \$T/u --metrics-interval abc" \
	 "interval_empty:--metrics-dir \$T/u --metrics-interval ''"; do
	name=usage_${u%%:*} args=${u#*:}
	eval "set -- $args"
	mkdir -p "$T/u"
	err=$(timeout 10 "$B/dmfilemap-supervisord" -f --socket "$T/run/u.sock" "$@" \
		2>&1 >"$T/u.out" </dev/null)
	rc=$?
	first=$(printf '%s\n' "$err" | head -1)
	nl=$(printf '%s\n' "$err" | wc -l)
	second=$(printf '%s\n' "$err" | sed -n 2p)
	case $args in *interval*) opt=--metrics-interval ;; *) opt=--metrics-dir ;; esac
	if [ $rc -eq 2 ] && [ "$nl" -eq 2 ] && [ ! -s "$T/u.out" ] &&
	   [[ $first == "dmfilemap-supervisord: $opt "* ]] &&
	   [ "$second" = "Try 'dmfilemap-supervisord --help'." ] &&
	   [ ! -e "$T/run/u.sock" ] && [ -z "$(ls -A "$T/u")" ]; then
		ok "$name (exit 2: $first)"
	else
		bad "$name" "exit $rc, stderr: $(printf '%s' "$err" | oneline)"
	fi
done

finish
