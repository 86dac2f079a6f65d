#!/bin/sh
# activation-check.sh: the supervisor serves a socket passed by systemd
# socket activation (LISTEN_PID/LISTEN_FDS, fd 3), as the shipped units
# do. Uses systemd-socket-activate(1) from Debian's systemd package.
set -u
B=${1:-build}
T=$(mktemp -d "${TMPDIR:-/tmp}/dmf-act.XXXXXX")
S=$T/act.sock
trap 'kill $act 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
if ! command -v systemd-socket-activate >/dev/null; then
	echo "FAIL activation: systemd-socket-activate not found (package systemd)"
	echo "activation: 0 passed, 1 failed"; exit 1
fi
systemd-socket-activate -l "$S" "$B/dmfilemap-supervisord" -f \
	--socket "$T/lockname.sock" 2>"$T/log" &
act=$!
i=0; while [ ! -S "$S" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
out=$(DMFILEMAP_SOCKET=$S "$B/dmfilemapctl" info --json 2>&1)
pass=0 fail=0
case $out in
*'"version"'*) echo "ok activation: first connection starts and is served"
	pass=1 ;;
*) echo "FAIL activation: $out"; cat "$T/log"; fail=1 ;;
esac
[ ! -e "$T/lockname.sock" ] && echo "ok activation: no socket of its own" &&
	pass=$((pass + 1)) || { echo "FAIL activation: bound --socket too"; fail=$((fail + 1)); }
echo "activation: $pass passed, $fail failed"
[ $fail -eq 0 ]
