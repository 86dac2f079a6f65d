#!/bin/sh
# run.sh SECONDS: build the libFuzzer targets (clang, libclang-rt-14-dev)
# and fuzz each for SECONDS; print executions and crashes. make check runs
# a 60-second session; "make fuzz FUZZ_SECONDS=600" a longer one.
set -u
SECS=${1:-60}
cd "$(dirname "$0")/../.."
B=build/fuzz
mkdir -p "$B/corpus-decoder" "$B/corpus-aux" "$B/crashes"
CC=${FUZZ_CC:-clang}
FL="-g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Iinclude -Iprotocol -Idaemon -I$B"
printf '#define DMF_SBINDIR "/usr/local/sbin"\n' > "$B/config.h"
make -s B="$B" "$B/idl.c" || exit 1
DSRC="$(make -s print-daemon-src | tr " " "\n" | grep -v "^daemon/front/server.c$" | tr "\n" " ") $B/idl.c"
# shellcheck disable=SC2086
$CC $FL -include "$B/config.h" tests/fuzz/fuzz_decoder.c $DSRC -o "$B/fuzz_decoder" \
	-ldevmapper -lev -lcjson -lm || exit 1
# shellcheck disable=SC2086
$CC $FL tests/fuzz/fuzz_aux.c daemon/core/auxdata.c -o "$B/fuzz_aux" || exit 1
# seeds: real calls and real @stats_list text
printf '{"method":"io.dmfilemap.Supervisor.List"}\0{"method":"io.dmfilemap.Supervisor.Add","parameters":{"fd":0,"path":"/a","group_id":1,"mode":"inode"}}\0' > "$B/corpus-decoder/seed1"
printf '{"method":"io.dmfilemap.Supervisor.Create","parameters":{"fd":0,"path":"/a","alias":"x y","bounds":[1000000,2000000]},"more":true}\0{"method":"io.dmfilemap.Supervisor.Watch","more":true,"parameters":{"id":3}}\0{"method":"org.varlink.service.GetInterfaceDescription","parameters":{"interface":"io.dmfilemap.Supervisor"}}\0' > "$B/corpus-decoder/seed2"
printf '0: 262664+800 800 dmstats DMS_GROUP=myb:0-3,5#-\n1: 17016+800 800 dmstats - precise_timestamps histogram:10,20\n2: 8+8 8 - DMS_GROUP="a \\"b\\":c":2#user\n' > "$B/corpus-aux/seed1"
status=0
for t in decoder aux; do
	out=$("$B/fuzz_$t" -max_total_time="$SECS" -max_len=70000 -timeout=10 \
		-rss_limit_mb=4096 -print_final_stats=1 \
		-artifact_prefix="$B/crashes/$t-" "$B/corpus-$t" 2>&1)
	rc=$?
	execs=$(printf '%s\n' "$out" | sed -n 's/^stat::number_of_executed_units: *//p')
	crashes=$(ls "$B/crashes" 2>/dev/null | grep -c "^$t-")
	echo "fuzz $t: ${SECS}s, ${execs:-?} executions, $crashes crashes, exit $rc"
	if [ $rc -ne 0 ]; then
		printf '%s\n' "$out" | tail -n 40
		status=1
	fi
done
exit $status
