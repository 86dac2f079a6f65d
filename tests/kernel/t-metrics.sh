#!/bin/sh
# t-metrics: the metrics file (dmfilemap-supervisord --metrics-dir, for
# node_exporter's textfile collector) as node_exporter serves it. A
# supervisor with --metrics-dir DIR --metrics-interval 1 and Debian's
# prometheus-node-exporter reading DIR on 127.0.0.1:9100. After known
# O_DIRECT I/O (exact dm-stats counts) dmfilemap_file_*{path="F"} in the
# scrape equal the I/O done and every field of `dmfilemapctl stats F --json`
# (times ns -> s, bytes), with the labels path, alias, device, mode; a
# truncate (regions carried) and the leader's extent freed (the group
# re-formed under a new id) never make the counter go back, sampled while
# they happen, and the I/O after them adds up. A file named with a space, a
# quote, a backslash and a tab, then renamed to end in a byte that is not
# UTF-8 (the protocol carries only UTF-8; the monitor follows the inode) is
# exported with the escaped labels (\\xff for the byte), and
# node_textfile_scrape_error stays 0; a group with histogram bounds has its
# _bucket/_sum/_count. The supervisor's own series are there (monitors,
# devices, pass duration, build_info). With 9 files, every one's new I/O
# reaches the file within a few intervals without any Stats call (the
# supervisor reads them itself, a few at a time); removed files leave it.
# After a restart with --metrics-exclude GLOB and --metrics-exclude-alias
# GLOB the files they match are left out of the file (still monitored) and
# the others have their totals (kept across the restart). Ends with
# node_exporter stopped and the supervisor's SIGTERM exit 0 (no temporary
# file left in DIR). A few lines of the scrape after the known I/O are kept
# in results/t-metrics.FS.sample-scrape.txt.
# timeout: 400
# shellcheck source=/dev/null # lib.sh, in the guest
. "$DMF_KT_DIR/lib.sh"
require_supervisor

command -v prometheus-node-exporter >/dev/null 2>&1 ||
	skip "prometheus-node-exporter is not installed (tests/deps.sh installs it)"
if command -v curl >/dev/null 2>&1; then
	fetch() { curl -sf --max-time 10 -o "$1" http://127.0.0.1:9100/metrics; }
elif command -v wget >/dev/null 2>&1; then
	fetch() { wget -q -T 10 -O "$1" http://127.0.0.1:9100/metrics; }
else
	fetch() { python3 -c 'import sys, urllib.request
open(sys.argv[1], "wb").write(urllib.request.urlopen("http://127.0.0.1:9100/metrics", timeout=10).read())' "$1"; }
fi

MD=$DMF_TMP/metrics        # the metrics directory
PROM=$MD/dmfilemap.prom
SCRAPE=$DMF_TMP/scrape.txt
NE_LOG=$DMF_RESULTS/$DMF_TEST.node-exporter.log
NE_PID=
mkdir -p "$MD"
ne_stop() { [ -n "$NE_PID" ] && kill "$NE_PID" 2>/dev/null && wait "$NE_PID" 2>/dev/null; NE_PID=; }
# when the test ends: stop node_exporter; after a failure also the
# supervisor this test started (supervisor_stop did not run)
on_exit() {
	_rc=$?
	ne_stop
	[ "$_rc" != 0 ] && [ -e "$DMF_TMP/supervisor-taken-over" ] && supervisor_alive &&
		kill -TERM "$DMF_SUPERVISOR_PID" && wait "$DMF_SUPERVISOR_PID"
	exit "$_rc"
}
trap on_exit EXIT

# ---------------------------------------------------------------- helpers

scrape() { fetch "$SCRAPE.new" && mv "$SCRAPE.new" "$SCRAPE"; }

# metric NAME ESC_PATH [FILE]: the value of NAME's sample whose path label is
# ESC_PATH (as escaped in the text) in FILE (default the last scrape).
metric() {
	MN=$1 MP=$2 awk '
		BEGIN { n = ENVIRON["MN"] "{"; p = "path=\"" ENVIRON["MP"] "\"" }
		index($0, n) == 1 && (index($0, p ",") || index($0, p "}")) {
			print $NF; found = 1; exit }
		END { exit !found }' "${3:-$SCRAPE}"
}
# count_path ESC_PATH [FILE]: samples of any dmfilemap_file_ series with
# that path label.
count_path() {
	MP=$1 awk '
		BEGIN { p = "path=\"" ENVIRON["MP"] "\"" }
		/^dmfilemap_file_/ && (index($0, p ",") || index($0, p "}")) { n++ }
		END { print n + 0 }' "${2:-$SCRAPE}"
}
# plain NAME: the value of a series without labels (or with the labels
# given in NAME) in the last scrape.
plain() { awk -v n="$1" '$1 == n { print $2; f = 1; exit } END { exit !f }' "$SCRAPE"; }
# same A B [EPS]: A and B are the same number (within a relative EPS).
same() { awk -v a="$1" -v b="$2" -v e="${3:-0}" 'BEGIN {
	d = a - b; if (d < 0) d = -d; m = b < 0 ? -b : b
	exit !(a != "" && b != "" && d <= e * m) }'; }

# counts_are ESC_PATH READS WRITES: in a fresh scrape, and in the file.
counts_are() {
	scrape || return 1
	same "$(metric dmfilemap_file_reads_completed_total "$1")" "$2" &&
	same "$(metric dmfilemap_file_writes_completed_total "$1")" "$3" &&
	same "$(metric dmfilemap_file_reads_completed_total "$1" "$PROM")" "$2" &&
	same "$(metric dmfilemap_file_writes_completed_total "$1" "$PROM")" "$3"
}

# check_vs_stats WHAT ESC_PATH FILE|--id N: every per-file series of the
# file in the last scrape and in the metrics file equals `dmfilemapctl
# stats FILE --json` (or --id N, for a name that is not UTF-8): counts and
# bytes exactly, times (ns -> s; %.12g in the file) within 1e-11.
check_vs_stats() {
	_cw=$1 _cx=$2
	shift 2
	dmfilemapctl stats "$@" --json > "$DMF_TMP/st.json" 2>&1 ||
		fail "$_cw: dmfilemapctl stats $* --json: $(cat "$DMF_TMP/st.json")"
	jq -r '.files | if length == 1 then .[0] | to_entries[] | select(.value | type == "number") |
		"\(.key) \(.value)" else error("\(length) files") end' "$DMF_TMP/st.json" > "$DMF_TMP/st.txt" 2>&1 ||
		fail "$_cw: dmfilemapctl stats $* --json: $(cat "$DMF_TMP/st.txt"): $(head -c 600 "$DMF_TMP/st.json")"
	_cv=$(MP=$_cx awk -v prom="$PROM" -v scr="$SCRAPE" '
	BEGIN {
		# metric (after dmfilemap_file_), stats --json field, scale
		n = split("reads_completed_total:reads:1 reads_merged_total:reads_merged:1 " \
			"read_bytes_total:read_bytes:1 read_time_seconds_total:read_time_ns:1e-9 " \
			"writes_completed_total:writes:1 writes_merged_total:writes_merged:1 " \
			"written_bytes_total:write_bytes:1 write_time_seconds_total:write_time_ns:1e-9 " \
			"io_now:in_flight:1 io_time_seconds_total:io_time_ns:1e-9 " \
			"io_time_weighted_seconds_total:io_time_weighted_ns:1e-9 " \
			"regions:regions:1 carried_regions_total:carried_regions:1", maps, " ")
		p = "path=\"" ENVIRON["MP"] "\""
	}
	FILENAME == ARGV[1] { st[$1] = $2; next }
	index($0, "dmfilemap_file_") == 1 && (index($0, p ",") || index($0, p "}")) {
		val[FILENAME, substr($0, 1, index($0, "{") - 1)] = $NF
	}
	END {
		for (i = 1; i <= n; i++) {
			split(maps[i], m, ":")
			name = "dmfilemap_file_" m[1]
			if (!(m[2] in st)) { print "stats --json has no " m[2]; bad = 1; continue }
			want = st[m[2]] * m[3]
			for (k = 1; k <= 2; k++) {
				src = k == 1 ? prom : scr
				what = k == 1 ? "the file" : "the scrape"
				if (!((src, name) in val)) { print "no " name " in " what; bad = 1; continue }
				got = val[src, name]
				d = got - want
				if (d < 0) d = -d
				if (d > (m[3] == 1 ? 0 : 1e-11 * want)) {
					printf "%s in %s is %s, stats --json %s %s (want %.17g); ", name, what, got, m[2], st[m[2]], want
					bad = 1
				}
			}
			line = line " " m[1] "=" val[scr, name]
		}
		if (!bad) print "ok" line
		exit bad
	}' "$DMF_TMP/st.txt" "$PROM" "$SCRAPE") || fail "$_cw: $_cv"
	log "$_cw: the scrape and the file = stats --json:${_cv#ok}"
}

# watch_not_back ESC_PATH READS WRITES SECONDS: sample the file every 0.1 s
# (and a scrape every 0.5 s) for SECONDS: the counts never go below
# READS/WRITES. One process per sample.
watch_not_back() {
	_wn_end=$(( $4 * 10 )) _wn_i=0 _wn_n=0
	while [ $_wn_i -lt $_wn_end ]; do
		_wn_src=$PROM
		if [ $((_wn_i % 5)) = 0 ]; then
			scrape || fail "scrape failed"
			_wn_src=$SCRAPE
		fi
		# shellcheck disable=SC2046 # two numbers
		set -- "$1" "$2" "$3" "$4" $(MP=$1 awk '
			BEGIN { p = "path=\"" ENVIRON["MP"] "\"" }
			(index($0, p ",") || index($0, p "}")) {
				if (index($0, "dmfilemap_file_reads_completed_total{") == 1) r = $NF
				if (index($0, "dmfilemap_file_writes_completed_total{") == 1) w = $NF }
			END { print r "", w "" }' "$_wn_src")
		[ $# = 6 ] || fail "$(basename "$_wn_src"): no reads/writes samples for $1 at $_wn_i/10 s"
		[ "$5" -ge "$2" ] && [ "$6" -ge "$3" ] ||
			fail "counter went back in $(basename "$_wn_src"): reads $5 (was $2), writes $6 (was $3) at $_wn_i/10 s"
		_wn_n=$((_wn_n + 1))
		sleep 0.1
		_wn_i=$((_wn_i + 1))
	done
	log "counts never went back: $_wn_n samples of the file and the scrape over $4 s"
}

scrape_error_0() {
	[ "$(plain node_textfile_scrape_error)" = 0 ] ||
		fail "$1: node_textfile_scrape_error is '$(plain node_textfile_scrape_error)' (node_exporter: $(tail -n 3 "$NE_LOG" | tr '\n' ' '))"
}

# ----------------------------------------- node_exporter and the supervisor

ip link set lo up || fail "ip link set lo up"
prometheus-node-exporter --web.listen-address=127.0.0.1:9100 --collector.disable-defaults \
	--collector.textfile --collector.textfile.directory="$MD" > "$NE_LOG" 2>&1 &
NE_PID=$!
wait_until 20 scrape || fail "node_exporter does not answer on 127.0.0.1:9100 within 20 s: $(tail -n 5 "$NE_LOG")"

supervisor_takeover
supervisor_kill TERM
supervisor_start --metrics-dir "$MD" --metrics-interval 1
wait_until 3 test -s "$PROM" || fail "no $PROM 3 s after the supervisor started"
[ "$(stat -c %a "$PROM")" = 644 ] || fail "$PROM has mode $(stat -c %a "$PROM"), want 644"
ver=$(dmfilemapctl info --json | jq -r .version)
wait_until 3 eval 'scrape && [ "$(plain "dmfilemap_build_info{version=\"$ver\"}")" = 1 ]' ||
	fail "no dmfilemap_build_info{version=\"$ver\"} 1 in the scrape: $(grep '^dmfilemap_build_info' "$SCRAPE")"
log "$(grep '^dmfilemap_build_info' "$SCRAPE")"
grep -q "^node_textfile_mtime_seconds{file=\"$PROM\"} " "$SCRAPE" ||
	fail "no node_textfile_mtime_seconds{file=\"$PROM\"}: $(grep node_textfile "$SCRAPE")"
scrape_error_0 "at start"

# ---------------------------------------------- known I/O, then stats --json

F=$DMF_MNT/metrics.img
diag_file "$F"
write_blocks "$F" 0 64
add_create "$F" --alias mfile
FID=$MON_ID
wait_until 5 counts_are "$F" 0 0 || fail "no zero counts for $F in the scrape within 5 s: $(grep "$F" "$SCRAPE" | head -n 3)"
want="dmfilemap_file_reads_completed_total{alias=\"mfile\",device=\"$DMF_DEV\",mode=\"inode\",path=\"$F\"} 0"
grep -qxF "$want" "$SCRAPE" || fail "scrape: want the line '$want', got: $(grep "^dmfilemap_file_reads_completed_total" "$SCRAPE")"
want="dmfilemap_file_reads_completed_total{path=\"$F\",alias=\"mfile\",device=\"$DMF_DEV\",mode=\"inode\"} 0"
grep -qxF "$want" "$PROM" || fail "file: want the line '$want', got: $(grep "^dmfilemap_file_reads_completed_total" "$PROM")"
[ "$(plain 'dmfilemap_monitors{state="active"}')" = 1 ] && [ "$(plain dmfilemap_devices)" = 1 ] &&
	grep -q "^dmfilemap_pass_duration_seconds{device=\"$DMF_DEV\"} " "$SCRAPE" ||
	fail "supervisor series: monitors{active} '$(plain 'dmfilemap_monitors{state="active"}')', devices '$(plain dmfilemap_devices)', pass_duration: $(grep '^dmfilemap_pass_duration' "$SCRAPE")"

ER=100 EW=20
dio "$F" r 0:40 8:30 32:30 w 40:20
wait_until 5 counts_are "$F" $ER $EW ||
	fail "after $ER reads and $EW writes: the scrape says reads '$(metric dmfilemap_file_reads_completed_total "$F")', writes '$(metric dmfilemap_file_writes_completed_total "$F")'"
stats_expect "$F" "after the I/O" $ER $EW
check_vs_stats "after the I/O" "$F" "$F"
same "$(metric dmfilemap_file_read_bytes_total "$F")" $((ER * 4096)) || fail "read_bytes is not $((ER * 4096))"
same "$(metric dmfilemap_file_written_bytes_total "$F")" $((EW * 4096)) || fail "written_bytes is not $((EW * 4096))"
grep -F "path=\"$F\"" "$SCRAPE" | head -n 14 > "$DMF_RESULTS/$DMF_TEST.$DMF_FS.sample-scrape.txt"
log "node_exporter's /metrics for $F after $ER reads and $EW writes:"
sed 's/^/    /' "$DMF_RESULTS/$DMF_TEST.$DMF_FS.sample-scrape.txt"
scrape_error_0 "after the I/O"

# ------------------------------------------ a truncate: regions carried

C0=$ST_CARRIED
truncate -s $((16 * 4096)) "$F"
sync
watch_not_back "$F" $ER $EW 3
wait_until 5 mon_matches "$FID" "$F" || fail "truncate: group does not match: $(mismatch)"
wait_until 3 eval 'scrape && [ "$(metric dmfilemap_file_carried_regions_total "$F")" -gt "$C0" ]' ||
	fail "truncate: carried_regions_total still '$(metric dmfilemap_file_carried_regions_total "$F")' (was $C0)"
wait_until 5 counts_are "$F" $ER $EW || fail "after the truncate: reads '$(metric dmfilemap_file_reads_completed_total "$F")', writes '$(metric dmfilemap_file_writes_completed_total "$F")', want $ER, $EW"
dio "$F" r 4:10 w 5:2
ER=$((ER + 10)) EW=$((EW + 2))
wait_until 5 counts_are "$F" $ER $EW || fail "I/O after the truncate: reads '$(metric dmfilemap_file_reads_completed_total "$F")', want $ER"
stats_expect "$F" "after the truncate" $ER $EW
check_vs_stats "after the truncate" "$F" "$F"

# ------------------------------- a regroup: the leader's extent freed

G=$(mon_group_by_id "$FID")
lstart=$(all_regions | awk -v g="$G" '$1 == g { print $2 }')
# shellcheck disable=SC2046 # two numbers
set -- $(file_extent_logical "$F" "$lstart")
[ $# -eq 2 ] || fail "setup: no extent of $F starts at sector $lstart (the leader $G)"
log "leader region $G at sector $lstart = file sector $1: punching its first block"
xfs_io -c "fpunch $(($1 * 512)) 4096" -c fsync "$F" || fail "fpunch"
watch_not_back "$F" $ER $EW 3
regrouped() { NG=$(mon_group_by_id "$FID"); [ -n "$NG" ] && [ "$NG" != "$G" ] && mon_matches "$FID" "$F"; }
wait_until 5 regrouped || fail "group not re-formed (still '$NG', was $G) or does not match: $(mismatch)"
log "regrouped: $G -> $NG"
wait_until 5 counts_are "$F" $ER $EW || fail "after the regroup: reads '$(metric dmfilemap_file_reads_completed_total "$F")', want $ER"
[ "$(count_path "$F")" = 13 ] || fail "after the regroup: $(count_path "$F") samples with path $F, want 13 (one series each): $(grep -F "path=\"$F\"" "$SCRAPE" | head -n 20)"
dio "$F" r 2:5 w 3
ER=$((ER + 5)) EW=$((EW + 1))
wait_until 5 counts_are "$F" $ER $EW || fail "I/O after the regroup: reads '$(metric dmfilemap_file_reads_completed_total "$F")', want $ER"
stats_expect "$F" "after the regroup" $ER $EW
check_vs_stats "after the regroup" "$F" "$F"
scrape_error_0 "after the regroup"

# ---------------------------------------------- a name that needs escaping

# space, double quote, backslash, tab, then 0xff (not UTF-8): the protocol
# (JSON) carries only UTF-8, so the file is added under a UTF-8 name and
# renamed; the monitor follows the inode and takes the new name
W0=$(printf '%s/we ird"q\\b\tt.img' "$DMF_MNT")
W=$(printf '%s/we ird"q\\b\tt\377.img' "$DMF_MNT")
WE0=$(printf '%s/we ird\\"q\\\\b\tt.img' "$DMF_MNT") # as escaped in the text
WE=$(printf '%s/we ird\\"q\\\\b\tt\\\\xff.img' "$DMF_MNT")
AE=$(printf 'we ird\\"q\\\\b\tt.img') # the alias (the first name), escaped
write_blocks "$W0" 0 8
add_create "$W0"
WID=$MON_ID
dio "$W0" r 0:3
wait_until 5 counts_are "$WE0" 3 0 || {
	grep -a 'we ird' "$PROM" | head -n 3 | cat -A
	fail "no reads 3 for the escaped path $WE0 in the scrape: $(grep -a 'we ird' "$SCRAPE" | head -n 2 | cat -A)"; }
mv "$W0" "$W" || fail "mv to the name with 0xff"
dio "$W" r 0:4
wait_until 5 counts_are "$WE" 7 0 || {
	grep -a 'we ird' "$PROM" | head -n 3 | cat -A
	fail "no reads 7 for the escaped path $WE in the scrape: $(grep -a 'we ird' "$SCRAPE" | head -n 2 | cat -A)"; }
[ "$(count_path "$WE0")" = 0 ] || fail "the old name is still in the scrape after the rename"
want="dmfilemap_file_reads_completed_total{alias=\"$AE\",device=\"$DMF_DEV\",mode=\"inode\",path=\"$WE\"} 7"
grep -qxF "$want" "$SCRAPE" || fail "scrape: no line '$want': $(grep -a 'we ird' "$SCRAPE" | head -n 2 | cat -A)"
want="dmfilemap_file_reads_completed_total{path=\"$WE\",alias=\"$AE\",device=\"$DMF_DEV\",mode=\"inode\"} 7"
grep -qxF "$want" "$PROM" || fail "file: no line '$want': $(grep -a 'we ird' "$PROM" | head -n 2 | cat -A)"
log "escaped, in the scrape: $(grep -a "^dmfilemap_file_reads_completed_total.*we ird" "$SCRAPE" | cat -A)"
log "escaped, in the file: $(grep -a "^dmfilemap_file_reads_completed_total.*we ird" "$PROM" | cat -A)"
check_vs_stats "the escaped name" "$WE" --id "$WID"
scrape_error_0 "with the escaped name"
out=$(promtool check metrics < "$PROM" 2>&1) || fail "promtool check metrics on $PROM: $out"
grep -q "^node_textfile_mtime_seconds{file=\"$PROM\"} " "$SCRAPE" ||
	fail "the file is no longer collected: $(grep node_textfile "$SCRAPE")"

# ---------------------------------------------- a group with histogram bounds

H=$DMF_MNT/hist.img
write_blocks "$H" 0 8
add_create "$H" --bounds 1ms,1s
dio "$H" r 0:10 w 1:5
wait_until 5 counts_are "$H" 10 5 || fail "histogram file: reads/writes not 10/5 in the scrape"
grep -q '^# TYPE dmfilemap_file_io_latency_seconds histogram$' "$SCRAPE" ||
	fail "no histogram family in the scrape: $(grep io_latency "$SCRAPE" | head -n 3)"
hb() { MP=$H MS=$1 awk 'BEGIN { p = "path=\"" ENVIRON["MP"] "\"" }
	index($0, "dmfilemap_file_io_latency_seconds" ENVIRON["MS"] "{") == 1 && index($0, p) { print $NF; exit }' "$SCRAPE"; }
b1=$(grep -F "path=\"$H\"" "$SCRAPE" | awk '/^dmfilemap_file_io_latency_seconds_bucket/ && /le="0.001"/ { print $NF }')
b2=$(grep -F "path=\"$H\"" "$SCRAPE" | awk '/^dmfilemap_file_io_latency_seconds_bucket/ && /le="1"/ { print $NF }')
b3=$(grep -F "path=\"$H\"" "$SCRAPE" | awk '/^dmfilemap_file_io_latency_seconds_bucket/ && /le="\+Inf"/ { print $NF }')
hc=$(hb _count) hs=$(hb _sum)
rt=$(metric dmfilemap_file_read_time_seconds_total "$H") wt=$(metric dmfilemap_file_write_time_seconds_total "$H")
log "histogram: le=0.001 $b1, le=1 $b2, +Inf $b3, count $hc, sum $hs (read_time $rt + write_time $wt)"
[ -n "$b1" ] && [ -n "$b2" ] && [ "$b3" = 15 ] && [ "$hc" = 15 ] && [ "$b1" -le "$b2" ] && [ "$b2" -le "$b3" ] ||
	fail "histogram of $H: le=0.001 '$b1', le=1 '$b2', +Inf '$b3', count '$hc'; want cumulative, +Inf = count = 15 I/Os"
same "$hs" "$(awk -v a="$rt" -v b="$wt" 'BEGIN { printf "%.17g", a + b }')" 1e-9 ||
	fail "histogram _sum $hs is not read_time + write_time ($rt + $wt)"
grep -F "path=\"$F\"" "$SCRAPE" | grep -q io_latency && fail "a group without bounds has histogram samples: $(grep -F "path=\"$F\"" "$SCRAPE" | grep io_latency)"

# ----------------------- several files: each is read, without a Stats call

# 6 more files (9 monitored): each gets its own number of reads; within
# a few intervals every one of them has it in the file and the scrape
set --
i=1
while [ $i -le 6 ]; do set -- "$@" "$DMF_MNT/many-$i.img"; write_blocks "$DMF_MNT/many-$i.img" 0 2; i=$((i + 1)); done
out=$(dmfilemapctl add "$@" --create 2>&1) || fail "dmfilemapctl add $* --create: $out"
i=1
for f in "$@"; do dio "$f" r 0:$((i + 1)); i=$((i + 1)); done
all_read() {
	scrape || return 1
	_ar_i=1 _ar_bad=
	for _ar_f in "$@"; do
		_ar_v=$(metric dmfilemap_file_reads_completed_total "$_ar_f")
		[ "$_ar_v" = $((_ar_i + 1)) ] || _ar_bad="$_ar_bad ${_ar_f##*/}=${_ar_v:-none}(want $((_ar_i + 1)))"
		_ar_i=$((_ar_i + 1))
	done
	[ -z "$_ar_bad" ]
}
wait_until 8 all_read "$@" ||
	fail "9 files, 6 with new reads, no Stats call: after 8 s (interval 1 s) the scrape still has$_ar_bad"
log "9 files: each one's reads reached the scrape without a Stats call"
# removed: gone from the file
for f in "$@"; do dmfilemapctl remove "$f" --delete-group > /dev/null || fail "dmfilemapctl remove $f"; done
wait_until 5 eval 'scrape && [ "$(count_path "$DMF_MNT/many-1.img" "$PROM")" = 0 ] && [ "$(count_path "$DMF_MNT/many-6.img")" = 0 ]' ||
	fail "removed files are still in the file or the scrape: $(grep -c 'many-' "$PROM")"

# ------------------------------------------- exclusion, after a restart

E=$DMF_MNT/excluded.img X=$DMF_MNT/by-alias.img
write_blocks "$E" 0 4
write_blocks "$X" 0 4
add_create "$E"
add_create "$X" --alias skipme
dio "$E" r 0:3
dio "$X" r 0:3
wait_until 5 eval 'counts_are "$E" 3 0 && counts_are "$X" 3 0' || fail "setup: $E and $X not in the scrape with 3 reads"
sleep 1 # the state file is written shortly after each change
supervisor_stop
rm -f "$PROM"
supervisor_start --metrics-dir "$MD" --metrics-interval 1 \
	--metrics-exclude "$DMF_MNT/exclu*" --metrics-exclude-alias 'skip*'
wait_until 10 eval '[ "$(mon_count)" = 5 ]' || fail "after the restart: $(mon_count) monitors re-adopted, want 5"
wait_until 5 counts_are "$F" $ER $EW || fail "after the restart: $F reads '$(metric dmfilemap_file_reads_completed_total "$F")', want $ER (kept across the restart)"
wait_until 5 counts_are "$WE" 7 0 || fail "after the restart: the escaped name not in the scrape with 7 reads"
for p in "$E" "$X"; do
	[ "$(count_path "$p" "$PROM")" = 0 ] || fail "--metrics-exclude: $p still in the file: $(grep -F "path=\"$p\"" "$PROM" | head -n 2)"
	[ "$(count_path "$p")" = 0 ] || fail "--metrics-exclude: $p still in the scrape: $(grep -F "path=\"$p\"" "$SCRAPE" | head -n 2)"
	[ -n "$(mon_id_by_path "$p")" ] || fail "$p is no longer monitored (only its metrics should go)"
done
[ "$(count_path "$H")" = 18 ] || fail "after the restart: $(count_path "$H") samples for $H, want 18 (13 + the histogram's 5)"
[ "$(plain 'dmfilemap_monitors{state="active"}')" = 5 ] ||
	fail "dmfilemap_monitors{state=\"active\"} is '$(plain 'dmfilemap_monitors{state="active"}')': it counts every monitor, excluded or not (want 5)"
check_vs_stats "after the restart" "$F" "$F"
scrape_error_0 "after the restart"
log "excluded: $E (--metrics-exclude '$DMF_MNT/exclu*'), $X (--metrics-exclude-alias 'skip*')"

supervisor_stop
[ "$(ls -A "$MD")" = dmfilemap.prom ] || fail "left in $MD: $(ls -A "$MD")"
ne_stop
exit 0
