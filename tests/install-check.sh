#!/bin/sh
# install-check.sh: make install PREFIX=P DESTDIR=D puts every file where
# it belongs, and the installed shim starts the installed supervisor from
# P/sbin when nothing listens (no environment override).
set -u
pass=0 fail=0
ok() { echo "ok $1"; pass=$((pass + 1)); }
no() { echo "FAIL $1: $2"; fail=$((fail + 1)); }

T=$(mktemp -d "${TMPDIR:-/tmp}/dmf-install.XXXXXX")
trap 'kill $(cat "$T/pid" 2>/dev/null) 2>/dev/null; rm -rf "$T"' EXIT
P=$T/prefix
make -s install PREFIX="$P" B="$T/build" >"$T/make.log" 2>&1 ||
	{ cat "$T/make.log"; no install "make install failed"; }
for f in sbin/dmfilemap-supervisord sbin/dmfilemapctl sbin/dmfilemapd \
	share/man/man8/dmfilemap-supervisord.8 share/man/man8/dmfilemapctl.8 \
	share/man/man8/dmfilemapd.8 share/man/man7/dmfilemap-protocol.7 \
	lib/systemd/system/dmfilemap-supervisord.socket \
	lib/systemd/system/dmfilemap-supervisord.service \
	share/bash-completion/completions/dmfilemapctl; do
	[ -f "$P/$f" ] && ok "installed $f" || no "installed $f" "missing"
done
grep -q "ExecStart=$P/sbin/dmfilemap-supervisord" \
	"$P/lib/systemd/system/dmfilemap-supervisord.service" &&
	ok "unit names the installed supervisor" ||
	no "unit names the installed supervisor" "ExecStart not substituted"

# DESTDIR staging: files under D, paths inside them still name PREFIX
make -s install PREFIX=/opt/dmf DESTDIR="$T/stage" B="$T/build2" \
	>"$T/make2.log" 2>&1 && [ -x "$T/stage/opt/dmf/sbin/dmfilemapd" ] &&
	grep -q "ExecStart=/opt/dmf/sbin/" \
		"$T/stage/opt/dmf/lib/systemd/system/dmfilemap-supervisord.service" &&
	ok "DESTDIR staging" || no "DESTDIR staging" "files or paths wrong"

# the installed shim starts the installed supervisor (found under PREFIX)
S=$T/run/sup.sock
echo data > "$T/file"
env -u DMFILEMAP_SUPERVISORD DMFILEMAP_SOCKET="$S" \
	"$P/sbin/dmfilemapd" 3 0 "$T/file" inode 0 0 3<"$T/file" \
	>"$T/shim.out" 2>&1
pid=$(env DMFILEMAP_SOCKET="$S" "$P/sbin/dmfilemapctl" info --json 2>/dev/null |
	sed -n 's/.*"pid":\([0-9]*\).*/\1/p')
if [ -n "$pid" ]; then
	echo "$pid" > "$T/pid"
	exe=$(readlink "/proc/$pid/exe")
	[ "$exe" = "$P/sbin/dmfilemap-supervisord" ] &&
		ok "shim starts PREFIX/sbin/dmfilemap-supervisord" ||
		no "shim starts PREFIX/sbin/dmfilemap-supervisord" "runs $exe"
	kill "$pid"
else
	no "shim starts PREFIX/sbin/dmfilemap-supervisord" \
		"no supervisor answers: $(cat "$T/shim.out")"
fi
echo "install: $pass passed, $fail failed"
[ $fail -eq 0 ]
