#!/bin/bash
# The host integration suite: starts the real supervisor from DIR (default
# build) in the foreground on a temporary socket, runs tests/host/probes.py
# against it (protocol, fd passing, limits, permissions, dmfilemapctl, the
# dmfilemapd shim, the daemon's command line), then stops it with SIGTERM
# while a watcher is connected and checks it exited 0, removed its socket,
# and (with --valgrind, or a sanitizer build) reported no error, leak or
# leftover descriptor.
#
#   tests/host/run.sh [--build DIR] [--valgrind] [--keep] [--only TEST]...
#
# One line per test, "ok NAME" or "FAIL NAME: why" ("skip NAME: why" for a
# test that cannot run here), then exactly "N passed, N failed". Exit 0
# only if nothing failed. This machine has no device-mapper: every real file
# is refused with "not on a device-mapper device", and the tests expect it.
set -u

usage() {
	sed -n '2,/^set -u/{/^set -u/d;s/^# \{0,1\}//;p}' "$0"
}

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=build
valgrind=0
keep=0
only=()
while [ $# -gt 0 ]; do
	case $1 in
	--build) [ $# -ge 2 ] || { usage >&2; exit 2; }; build=$2; shift 2 ;;
	--build=*) build=${1#--build=}; shift ;;
	--valgrind) valgrind=1; shift ;;
	--keep) keep=1; shift ;;
	--only) [ $# -ge 2 ] || { usage >&2; exit 2; }; only+=(--only "$2"); shift 2 ;;
	-h|--help) usage; exit 0 ;;
	*) echo "run.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
	esac
done
if ! build=$(cd "$build" 2>/dev/null && pwd); then
	echo "run.sh: no build directory $build (run make first)" >&2
	exit 2
fi
for b in dmfilemap-supervisord dmfilemapctl dmfilemapd; do
	if [ ! -x "$build/$b" ]; then
		echo "run.sh: $build/$b missing (run make first)" >&2
		exit 2
	fi
done
# An interpreter every user can run (the permission test runs as nobody).
if [ -x /usr/bin/python3 ]; then
	PY=/usr/bin/python3
elif PY=$(command -v python3); then
	:
else
	echo "run.sh: python3 is needed" >&2
	exit 2
fi
if [ $valgrind = 1 ] && ! command -v valgrind >/dev/null; then
	echo "run.sh: --valgrind: valgrind is not installed" >&2
	exit 2
fi

# Sanitizer builds: leaks are errors; reports go to stderr (read below).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
unset DMFILEMAP_SOCKET DMFILEMAP_SUPERVISORD LISTEN_PID LISTEN_FDS

T=$(mktemp -d "${TMPDIR:-/tmp}/dmfilemap-host.XXXXXX")
chmod 0777 "$T" # the permission test connects as nobody
sock=$T/run/supervisor.sock
vglog=$T/valgrind.log
dlog=$T/daemon.log
dpid=
wpid=
pass=0
fail=0

ok() {
	echo "ok $1"
	pass=$((pass + 1))
}
bad() {
	echo "FAIL $1: $2"
	fail=$((fail + 1))
}

cleanup() {
	# only the processes this script started, by their pid
	[ -n "$wpid" ] && kill "$wpid" 2>/dev/null
	[ -n "$dpid" ] && kill -KILL "$dpid" 2>/dev/null
	if [ $keep = 1 ] || [ $fail -ne 0 ]; then
		echo "run.sh: logs kept in $T" >&2
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Run the daemon with only fds 0-2 open (so valgrind's fd report and the
# fd counts of the probes see the daemon's own descriptors only); exec
# keeps the pid.
clean_exec=("$PY" -c 'import os, sys
os.closerange(3, 1 << 16)
os.execvp(sys.argv[1], sys.argv[1:])')
cmd=("$build/dmfilemap-supervisord" -f -v -v --socket "$sock")
if [ $valgrind = 1 ]; then
	# shellcheck disable=SC2054 # the commas are valgrind's
	cmd=(valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect
	     --error-exitcode=99 --track-fds=yes --log-file="$vglog" "${cmd[@]}")
fi
mode=
[ $valgrind = 1 ] && mode=" under valgrind"
echo "# host suite: $build$mode, socket $sock"
"${clean_exec[@]}" "${cmd[@]}" </dev/null >"$T/daemon.out" 2>"$dlog" &
dpid=$!

# Wait for the socket (generously: valgrind starts slowly).
started=0
for _ in $(seq 1200); do
	if [ -S "$sock" ]; then
		started=1
		break
	fi
	kill -0 "$dpid" 2>/dev/null || break
	sleep 0.1
done
if [ $started = 0 ]; then
	bad daemon_start "no socket at $sock; log: $(tail -5 "$dlog" | tr '\n' ' ')"
	if [ "${nskip:-0}" -gt 0 ]; then
	echo "$pass passed, $fail failed, $nskip skipped"
else
	echo "$pass passed, $fail failed"
fi
	exit 1
fi
ok daemon_start

# The probes. Under valgrind the two throughput probes (megabytes of
# replies) are left to the sanitizer pass: they test no memory handling
# that pass does not, and take many minutes here.
slow=()
[ "$valgrind" = 1 ] && slow=(--skip client_that_does_not_read_is_dropped
	--skip pipelining_client_that_reads_gets_all_replies)
"$PY" "$here/probes.py" --socket "$sock" --build "$build" --pid "$dpid" \
	--tmp "$T" --repo "$repo" "${only[@]}" "${slow[@]}" >"$T/probes.out" 2>"$T/probes.err" &
ppid=$!
tail -n +1 -f --pid=$ppid "$T/probes.out" 2>/dev/null
wait $ppid
prc=$?
np=$(grep -c '^ok ' "$T/probes.out")
nf=$(grep -c '^FAIL ' "$T/probes.out")
nskip=$(grep -c '^skip ' "$T/probes.out")
pass=$((pass + np))
fail=$((fail + nf))
if [ $prc -ne 0 ] && [ "$nf" -eq 0 ]; then
	bad probes "probes.py exited $prc: $(tail -3 "$T/probes.err" | tr '\n' ' ')"
fi

# Shutdown with a watcher connected: the watcher sees its stream end.
"$PY" - "$sock" >"$T/watcher.out" 2>&1 <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(300)
s.connect(sys.argv[1])
s.sendall(b'{"method":"io.dmfilemap.Supervisor.Watch","more":true}\0')
print("watching", flush=True)
data = b""
while True:
    try:
        c = s.recv(65536)
    except ConnectionResetError:
        c = b""
    except socket.timeout:
        print("timeout: the stream never ended", flush=True)
        sys.exit(1)
    if not c:
        break
    data += c
print("eof after %d bytes" % len(data), flush=True)
EOF
wpid=$!
# the daemon logs each call at debug level: wait until it has the Watch
watching=0
for _ in $(seq 1200); do
	if grep -q "pid $wpid uid [0-9]*: io.dmfilemap.Supervisor.Watch" "$dlog"; then
		watching=1
		break
	fi
	kill -0 "$wpid" 2>/dev/null || break
	sleep 0.1
done
if [ $watching = 1 ]; then
	ok watcher_connected
else
	bad watcher_connected "the daemon never logged the Watch call: $(cat "$T/watcher.out")"
fi

kill -TERM "$dpid"
stopped=0
for _ in $(seq 1200); do
	if ! kill -0 "$dpid" 2>/dev/null; then
		stopped=1
		break
	fi
	# a zombie has stopped too; wait reaps it below
	case $(cut -d' ' -f3 "/proc/$dpid/stat" 2>/dev/null) in Z|X|'') stopped=1; break ;; esac
	sleep 0.1
done
if [ $stopped = 1 ]; then
	wait "$dpid"
	drc=$?
	dpid=
	if [ $drc -eq 0 ]; then
		ok daemon_exit_0_on_sigterm
	else
		bad daemon_exit_0_on_sigterm "exit status $drc$([ $drc = 99 ] && echo ' (valgrind found errors)')"
	fi
else
	bad daemon_exit_0_on_sigterm "still running 120 s after SIGTERM"
	kill -KILL "$dpid" 2>/dev/null
	wait "$dpid" 2>/dev/null
	dpid=
fi
if [ -e "$sock" ]; then
	bad socket_removed "$sock still exists"
else
	ok socket_removed
fi
if wait "$wpid" && grep -q '^eof' "$T/watcher.out"; then
	ok watcher_stream_ended
else
	bad watcher_stream_ended "$(tr '\n' ' ' <"$T/watcher.out")"
fi
wpid=

# Sanitizer reports in the daemon's log (ASan/UBSan builds).
if grep -qE 'ERROR: AddressSanitizer|runtime error|LeakSanitizer' "$dlog"; then
	bad daemon_log_sanitizer_clean "$(grep -m1 -E 'ERROR: AddressSanitizer|runtime error|LeakSanitizer' "$dlog")"
else
	ok daemon_log_sanitizer_clean
fi

# Valgrind's verdict: no error, no definite or indirect leak, and no fd
# open at exit but 0-2, valgrind's own log and the lock file (held, by
# design, until the process ends: it is what keeps a second supervisor off).
if [ $valgrind = 1 ]; then
	if ! grep -q 'ERROR SUMMARY:' "$vglog"; then
		bad valgrind_errors "no ERROR SUMMARY in $vglog"
	elif ! grep -q 'ERROR SUMMARY: 0 errors' "$vglog"; then
		first=$(grep -m1 -E '^==[0-9]+== (Invalid|Conditional|Syscall|Mismatched|Source and|Use of|Address|.* are definitely lost|.* are indirectly lost)' "$vglog" | sed 's/^==[0-9]*== //')
		where=$(grep -A30 -m1 -F "$first" "$vglog" | grep -v vg_replace | grep -m1 -E '\([a-z_]+\.c:[0-9]+\)' | sed 's/^==[0-9]*== *//')
		bad valgrind_errors "$(grep -m1 -o 'ERROR SUMMARY: .*' "$vglog"); first: $first ${where:+($where)}"
	else
		ok valgrind_errors
	fi
	leaks=$(grep -E '(definitely|indirectly) lost: [1-9]' "$vglog" | sed 's/^==[0-9]*== *//' | tr '\n' ';')
	if [ -n "$leaks" ]; then
		bad valgrind_leaks "$leaks"
	else
		ok valgrind_leaks
	fi
	openfds=$(sed -n 's/^==[0-9]*== Open \(file descriptor\|[A-Za-z0-9_]* socket\) \([0-9]*\):\(.*\)$/\2:\3/p' "$vglog" |
		while IFS=: read -r n what; do
			what=${what# }
			[ "$n" -le 2 ] && continue
			[ "$what" = "$vglog" ] && continue
			[ "$what" = "$sock.lock" ] && continue
			printf '%s ' "$n:${what:-?}"
		done)
	if ! grep -q 'FILE DESCRIPTORS:' "$vglog"; then
		bad valgrind_fds "no FILE DESCRIPTORS report in $vglog"
	elif [ -n "$openfds" ]; then
		bad valgrind_fds "open at exit: $openfds"
	else
		ok valgrind_fds
	fi
fi

if [ $fail -ne 0 ]; then
	echo "--- daemon log (last 20 lines) ---" >&2
	tail -20 "$dlog" >&2
	[ -s "$T/probes.err" ] && { echo "--- probes stderr ---" >&2; tail -20 "$T/probes.err" >&2; }
fi
if [ "${nskip:-0}" -gt 0 ]; then
	echo "$pass passed, $fail failed, $nskip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ $fail -eq 0 ]
