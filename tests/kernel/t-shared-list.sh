#!/bin/sh
# t-shared-list: while nothing changes, the supervisor sends one @stats_list
# per device per check interval, shared by all its monitors (not one per
# monitor), and no other dm ioctl. Counted by the daemon (dmfilemapctl
# info); the bound is on counts, with slack, never on how fast it runs.
. "$DMF_KT_DIR/lib.sh"
require_supervisor

n=0
while [ $n -lt 5 ]; do
	make_fragmented "$DMF_MNT/s$n.img" 2
	add_create "$DMF_MNT/s$n.img"
	n=$((n + 1))
done
[ "$(mon_count)" = 5 ] || fail "expected 5 monitors, have $(mon_count)"
sleep 1.5 # let the registrations' own passes settle

# both counters from one Info call, so that they agree with each other
io() { dmfilemapctl info --json | jq -r '"\(.ioctls.stats_list) \(.ioctls.total)"'; }
interval_ms=$(dmfilemapctl info --json | jq -r .interval_ms)
set -- $(io); l0=$1 t0=$2
_dmf_now; s0=$_dmf_cs
sleep 5
set -- $(io); l1=$1 t1=$2
el=$(elapsed_cs "$s0")
lists=$((l1 - l0)) other=$(( (t1 - t0) - (l1 - l0) ))
# at most one list per interval elapsed, plus two for the window's edges
# (a late repeating timer fires again on its schedule): unshared, it would
# be five per interval
max=$(( el * 10 / interval_ms + 2 ))
log "5 monitors, idle ${el}0 ms, interval $interval_ms ms: $lists @stats_list, $other other ioctls (at most $max lists allowed)"
[ "$lists" -ge 1 ] || fail "no @stats_list in ${el}0 ms: the groups are not being checked"
[ "$lists" -le "$max" ] ||
	fail "$lists @stats_list in ${el}0 ms with 5 monitors on one device: more than one per interval (max $max): not shared"
[ "$other" -eq 0 ] || fail "$other dm ioctls other than @stats_list while nothing changed"
