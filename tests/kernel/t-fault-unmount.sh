#!/bin/sh
# t-fault-unmount: a filesystem holding monitored files is unmounted lazily
# ("umount -l", which detaches it at once and frees it when its last user
# lets go): the supervisor ends that filesystem's monitors (event "ended",
# reason "unmounted"), closes their files so that the filesystem and its
# device can go ("dmsetup remove" then succeeds), and the monitors of files
# on another device carry on. The second device, vol2, is a linear device on
# the guest's second disk /dev/ubdb with a DMF_FS filesystem.
. "$DMF_KT_DIR/lib.sh"
require_supervisor

[ -b /dev/ubdb ] || fail "harness: no second disk /dev/ubdb in the guest"
MNT2=/run/dmf-test/mnt2

cleanup() {
	stop_watch
	if awk -v m="$MNT2" '$2 == m { f = 1 } END { exit !f }' /proc/mounts; then
		umount "$MNT2" 2>/dev/null || umount -l "$MNT2" 2>/dev/null
	fi
	dmsetup remove vol2 2>/dev/null
}
trap cleanup EXIT

second_device "$MNT2"

A=$DMF_MNT/um-a.img   # vol, follow inode
B=$DMF_MNT/um-b.img   # vol, follow path
C=$MNT2/um-c.img      # vol2, follow inode
D=$MNT2/um-d.img      # vol2, follow path
diag_file "$A" "$B"
for f in "$A" "$B" "$C" "$D"; do make_fragmented "$f" 3; done

start_watch
add_create "$A"; IA=$MON_ID
add_create "$B" --follow path; IB=$MON_ID
add_create "$C"; IC=$MON_ID; GC=$MON_GROUP
add_create "$D" --follow path; ID=$MON_ID; GD=$MON_GROUP
[ "$(mon_field_by_id "$IC" dm_name)" = vol2 ] || fail "setup: monitor $IC of $C is on '$(mon_field_by_id "$IC" dm_name)', want vol2"
[ "$(mon_field_by_id "$ID" mode)" = path ] || fail "setup: monitor $ID of $D has mode '$(mon_field_by_id "$ID" mode)', want path"
on_dev vol2 group_matches_file "$GC" "$C" || fail "setup: group $GC on vol2 does not match $C: $(mismatch)"
on_dev vol2 group_matches_file "$GD" "$D" || fail "setup: group $GD on vol2 does not match $D: $(mismatch)"
[ "$(mon_count)" = 4 ] || fail "setup: $(mon_count) monitors, want 4"

log "umount -l $MNT2"
umount -l "$MNT2" || fail "umount -l $MNT2"

wait_until 5 mon_gone_id "$IC" || fail "monitor $IC ($C) still listed 5 s after its filesystem was unmounted lazily"
wait_until 5 mon_gone_id "$ID" || fail "monitor $ID ($D, follow path) still listed 5 s after its filesystem was unmounted lazily"
for i in "$IC" "$ID"; do
	wait_until 3 eval '[ "$(event_field "$i" ended reason)" = unmounted ]' ||
		fail "ended event of monitor $i has reason '$(event_field "$i" ended reason)', want unmounted"
done
require_supervisor

# the monitors on vol carry on
mon_present_id "$IA" || fail "monitor $IA ($A, on vol) ended with the unmount of vol2"
mon_present_id "$IB" || fail "monitor $IB ($B, on vol) ended with the unmount of vol2"
for i in "$IA" "$IB"; do
	r=$(event_field "$i" ended reason)
	[ -z "$r" ] || fail "monitor $i on vol got an ended event (reason '$r')"
done
append_blocks "$A" 3
wait_until 3 mon_matches "$IA" "$A" || fail "group of $A not updated within 3 s of growth after the unmount of vol2: $(mismatch)"
write_blocks "$B" 40 2
wait_until 3 mon_matches "$IB" "$B" || fail "group of $B (follow path) not updated within 3 s after the unmount of vol2: $(mismatch)"

# nothing holds vol2 any more: the device can be removed (the lazily
# unmounted filesystem is freed once its last file is closed)
if ! wait_until 3 dmsetup remove vol2 2> "$DMF_TMP/remove.err"; then
	echo "--- dmsetup info vol2:"; dmsetup info vol2
	echo "--- supervisor's open files:"; ls -l "/proc/$DMF_SUPERVISOR_PID/fd"
	fail "dmsetup remove vol2 still fails 3 s after the monitors ended: $(cat "$DMF_TMP/remove.err")"
fi
log "vol2 removed"
dmsetup info vol2 > /dev/null 2>&1 && fail "vol2 still exists after dmsetup remove"
[ "$(mon_count)" = 2 ] || fail "$(mon_count) monitors left, want 2"
require_supervisor
dmfilemapctl info > /dev/null || fail "dmfilemapctl info fails after vol2 went"
