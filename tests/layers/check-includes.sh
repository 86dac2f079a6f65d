#!/bin/sh
# check-includes.sh: fail when a file includes a header its layer must not
# (the rules are doc/architecture.md's table). Prints one line per breach,
# then "layers: N files checked, N breaches".
set -u
cd "$(dirname "$0")/../.."
files=0 bad=0

# allowed LAYER HEADER: is HEADER (as written in #include) allowed there?
allowed() {
	case "$1:$2" in
	# every layer: the logging API and the shared constants
	*:log.h|*:dmfilemap.h) return 0 ;;
	# the pure core: itself only, and no event loop or libraries
	core:core/*) return 0 ;;
	core:*) return 1 ;;
	# kernel I/O: the core's types; the fd store passes fds as peer.c does
	kernel:core/*|kernel:kernel/*) return 0 ;;
	kernel:peer.h) [ "$3" = kernel/fdstore.c ]; return ;;
	kernel:*) return 1 ;;
	# the monitor service: core and kernel I/O, but not the daemon's own
	# backend or fd store (its owner hands it those, through a table and
	# hooks)
	service:kernel/dmstats.h|service:kernel/fdstore.h) return 1 ;;
	service:core/*|service:kernel/*|service:service/*) return 0 ;;
	service:*) return 1 ;;
	# front ends: everything below them, and the protocol
	front:*) return 0 ;;
	# the protocol, shared by daemon and clients: nothing of the daemon's
	protocol:core/*|protocol:kernel/*|protocol:service/*|protocol:front/*) return 1 ;;
	protocol:*) return 0 ;;
	# clients: the protocol; the shim runs the one-file fallback
	client:front/solo.h) [ "$3" = client/dmfilemapd.c ]; return ;;
	client:core/*|client:kernel/*|client:service/*|client:front/*) return 1 ;;
	client:*) return 0 ;;
	esac
	return 1
}

# libraries a layer must not use: no libev in the core or in the dm-stats
# messages, no libdevmapper outside the dm-stats module (and log.c, which
# routes libdevmapper's messages), no cJSON below the front ends
banned_lib() {
	case "$1:$2" in
	core:ev.h|core:libdevmapper.h|core:cjson/*) return 0 ;;
	kernel:ev.h) case $3 in kernel/inotify.*|kernel/mounts.*) return 1 ;; esac; return 0 ;;
	kernel:libdevmapper.h) [ "$3" != kernel/dmstats.c ]; return ;;
	kernel:cjson/*|service:cjson/*|service:libdevmapper.h) return 0 ;;
	esac
	return 1
}

for f in daemon/*/*.[ch] protocol/*.[ch] client/*.[ch]; do
	case $f in
	daemon/*/*) layer=${f#daemon/}; layer=${layer%%/*}; rel=${f#daemon/} ;;
	protocol/*) layer=protocol; rel=$f ;;
	client/*) layer=client; rel=$f ;;
	esac
	files=$((files + 1))
	while IFS= read -r line; do
		h=$(printf '%s\n' "$line" | sed -n 's/^#include "\([^"]*\)".*/\1/p')
		if [ -n "$h" ]; then
			if ! allowed "$layer" "$h" "$rel"; then
				echo "layers: $f ($layer) must not include \"$h\""
				bad=$((bad + 1))
			fi
			continue
		fi
		h=$(printf '%s\n' "$line" | sed -n 's/^#include <\([^>]*\)>.*/\1/p')
		if [ -n "$h" ] && banned_lib "$layer" "$h" "$rel"; then
			echo "layers: $f ($layer) must not include <$h>"
			bad=$((bad + 1))
		fi
	done < "$f"
done
echo "layers: $files files checked, $bad breaches"
[ "$bad" -eq 0 ]
