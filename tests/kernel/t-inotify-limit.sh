#!/bin/sh
# t-inotify-limit: the inotify limits, when reached, are said clearly for the
# registration that hits them, and nothing else suffers:
# (a) fs.inotify.max_user_watches set to the watches in use plus 2:
#     "dmfilemapctl add FILE --create" for one file after another until one
#     fails: exit 1, one line "... inotify watch limit reached
#     (fs.inotify.max_user_watches = N; raise it with sysctl)" naming FILE;
#     FILE leaves no group and no monitor behind; the earlier monitors stay
#     and keep working; the supervisor keeps serving; once the limit is
#     raised the same add succeeds.
# (b) fs.inotify.max_user_instances set to the instances root has open: the
#     shim's fallback (no supervisor reachable) fails with exit 1 and one line
#     "... inotify instance limit reached (fs.inotify.max_user_instances = N;
#     raise it with sysctl)" naming the file, and leaves no process.
# The limits are per user, and everything in the guest runs as root.
. "$DMF_KT_DIR/lib.sh"
require_supervisor

W_SYSCTL=/proc/sys/fs/inotify/max_user_watches
I_SYSCTL=/proc/sys/fs/inotify/max_user_instances
W0=$(cat "$W_SYSCTL") && [ -n "$W0" ] || fail "cannot read $W_SYSCTL"
I0=$(cat "$I_SYSCTL") && [ -n "$I0" ] || fail "cannot read $I_SYSCTL"
cleanup() {
	[ -n "$W0" ] && echo "$W0" > "$W_SYSCTL"
	[ -n "$I0" ] && echo "$I0" > "$I_SYSCTL"
}
trap cleanup EXIT

# watches_in_use: inotify watches of all processes (all root's)
watches_in_use() { cat /proc/[0-9]*/fdinfo/* 2>/dev/null | grep -c '^inotify wd:'; }
# instances_in_use: inotify instances open in all processes
instances_in_use() { ls -l /proc/[0-9]*/fd 2>/dev/null | grep -c 'anon_inode:inotify'; }

# ------------------------------------------------------------------- (a)
used=$(watches_in_use)
WL=$((used + 2))
echo "$WL" > "$W_SYSCTL" || fail "cannot set $W_SYSCTL to $WL"
log "inotify watches in use: $used; max_user_watches set to $WL"

OK_IDS='' OK_FILES='' X=''
i=1
while [ $i -le 6 ]; do
	f=$DMF_MNT/w$i.img
	make_fragmented "$f" 2
	groups_before=$(all_groups | tr '\n' ' ')
	regions_before=$(all_regions | awk 'END { print NR }')
	out=$(dmfilemapctl add "$f" --create 2>&1)
	rc=$?
	if [ $rc = 0 ]; then
		parse_add_line "$out" || fail "cannot parse add output: $out"
		log "$out"
		OK_IDS="$OK_IDS $MON_ID" OK_FILES="$OK_FILES $f"
		i=$((i + 1))
		continue
	fi
	X=$f
	break
done
[ -n "$X" ] || fail "6 files registered with max_user_watches = $WL ($used in use before): the limit was never reached"
log "add $X --create: exit $rc: $out"
[ -n "$OK_IDS" ] || fail "the first add, with $WL - $used watches to spare, failed: $out"
[ "$rc" = 1 ] || fail "add $X when the watch limit is reached: exit $rc, want 1: $out"
want="inotify watch limit reached (fs.inotify.max_user_watches = $WL; raise it with sysctl)"
n=$(printf '%s\n' "$out" | grep -c -F "$want")
[ "$n" = 1 ] || fail "add $X: want one line containing '$want', got: $out"
printf '%s\n' "$out" | grep -F "$want" | grep -q -F "$X" || fail "add $X: the limit line does not name the file: $out"
[ "$(printf '%s\n' "$out" | awk 'END { print NR }')" = 1 ] || log "note: add printed more than one line"

require_supervisor
dmfilemapctl info > /dev/null || fail "dmfilemapctl info fails after the watch limit was reached"
[ -z "$(mon_id_by_path "$X")" ] || fail "a monitor of $X is listed although its add failed"
[ "$(all_groups | tr '\n' ' ')" = "$groups_before" ] ||
	fail "the failed add left a group behind: groups before '$groups_before', now '$(all_groups | tr '\n' ' ')'"
[ "$(all_regions | awk 'END { print NR }')" = "$regions_before" ] ||
	fail "the failed add left regions behind: $regions_before before, now $(all_regions | awk 'END { print NR }')"
for id in $OK_IDS; do
	mon_present_id "$id" || fail "monitor $id, registered before the limit was reached, is gone"
done
set -- $OK_FILES
F1=$1
id1=$(mon_id_by_path "$F1")
append_blocks "$F1" 3
wait_until 3 mon_matches "$id1" "$F1" || fail "monitor $id1 of $F1 does not follow an append after the watch limit was reached: $(mismatch)"

echo "$W0" > "$W_SYSCTL" || fail "cannot restore $W_SYSCTL"
add_create "$X"
group_matches_file "$MON_GROUP" "$X" || fail "group of $X does not match after the limit was raised: $(mismatch)"

# ------------------------------------------------------------------- (b)
Y=$DMF_MNT/solo.img
diag_file "$Y"
make_fragmented "$Y" 2
dmstats_filemap --nomonitor "$Y"
GY=$DMS_GROUP_ID
IL=$(instances_in_use)
echo "$IL" > "$I_SYSCTL" || fail "cannot set $I_SYSCTL to $IL"
log "inotify instances in use: $IL; max_user_instances set to $IL"
DMFILEMAP_SOCKET=/run/dmf-nowhere.sock DMFILEMAP_SUPERVISORD=/nonexistent \
	dmfilemapd 4 "$GY" "$Y" inode 0 0 4< "$Y" > "$DMF_TMP/b.out" 2>&1
rc=$?
out=$(cat "$DMF_TMP/b.out")
log "fallback for $Y with max_user_instances = $IL: exit $rc: $out"
[ "$rc" = 1 ] || fail "fallback when the instance limit is reached: exit $rc, want 1: $out"
want="inotify instance limit reached (fs.inotify.max_user_instances = $IL; raise it with sysctl)"
n=$(grep -c -F "$want" "$DMF_TMP/b.out")
[ "$n" = 1 ] || fail "fallback: want one line containing '$want', got: $out"
grep -F "$want" "$DMF_TMP/b.out" | grep -q -F "$Y" || fail "fallback: the limit line does not name the file: $out"
wait_until 3 no_process dmfilemapd || fail "a dmfilemapd process is left after the fallback failed"
echo "$I0" > "$I_SYSCTL"
require_supervisor
dmfilemapctl info > /dev/null || fail "dmfilemapctl info fails at the end"
