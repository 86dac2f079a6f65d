#!/bin/sh
# t-mmap-write: blocks allocated by writes through a shared mapping send no
# inotify event. With nothing else changing (the region list is the same at
# every check), the supervisor still sees them: every ten checks it looks at
# each file's size and block count. The group matches within 15 s (the
# contract: about ten seconds at the default 1 s interval).
# timeout: 120
. "$DMF_KT_DIR/lib.sh"
require_supervisor

F=$DMF_MNT/mapped.img
diag_file "$F"
# 1 MiB: the first 256 KiB written, the rest a hole
xfs_io -f -c "pwrite -q -S 0x41 0 256k" -c "truncate 1m" -c fsync "$F" > /dev/null || fail "setup: write $F"
add_create "$F"
mon_matches "$MON_ID" "$F" || fail "setup: group does not match right after add --create: $(mismatch)"
B0=$(stat -c %b "$F")

PY=
cleanup() { [ -n "$PY" ] && kill "$PY" 2> /dev/null; }
trap cleanup EXIT
# fill the hole through a shared mapping; the file stays open (no close
# event) until the test ends
python3 - "$F" "$DMF_TMP/mmap.done" <<'PYEOF' &
import mmap, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
m = mmap.mmap(fd, 1 << 20, mmap.MAP_SHARED)
m[512 * 1024:768 * 1024] = b"B" * (256 * 1024)
m.flush()  # msync: the blocks are allocated and written now
open(sys.argv[2], "w").close()
time.sleep(100)
PYEOF
PY=$!
wait_until 10 test -e "$DMF_TMP/mmap.done" || fail "the mmap writer did not finish within 10 s"
B1=$(stat -c %b "$F")
log "blocks before $B0, after the mmap write $B1"
[ "$B1" -gt "$B0" ] || fail "setup: the write through the mapping allocated no blocks ($B0 -> $B1)"
group_matches_file "$MON_GROUP" "$F" && fail "setup: the group matched the file at once (a region already covered the new blocks?)"
wait_until 15 mon_matches "$MON_ID" "$F" ||
	fail "the group does not match $F 15 s after blocks were allocated through a shared mapping (no inotify event): $(mismatch)"
log "group matches after the mmap write"
