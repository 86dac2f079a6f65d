#!/bin/sh
# t-restart-readopt: monitors survive a restart of the supervisor through its
# state file (dmfilemap-supervisord(8), RESTARTS): after SIGKILL, and after
# SIGTERM, a new supervisor on the same socket re-adopts every monitor whose
# file is still at its recorded path, and corrects at once the groups of
# files that changed while no supervisor ran; a monitor whose file was
# deleted meanwhile is dropped.
. "$DMF_KT_DIR/lib.sh"
require_supervisor

A=$DMF_MNT/ra.img B=$DMF_MNT/rb.img C=$DMF_MNT/rc.img
diag_file "$A" "$B"
make_fragmented "$A" 3
make_fragmented "$B" 3
make_fragmented "$C" 2
add_create "$A"; GA=$MON_GROUP
add_create "$B" --follow path; GB=$MON_GROUP
add_create "$C"
sleep 1 # the state file is written "shortly after each change"

supervisor_takeover
supervisor_kill KILL
append_blocks "$A" 4
write_blocks "$B" 50 1
rm -f "$C"
group_matches_file "$GA" "$A" && fail "setup: group $GA still matches after the change"

supervisor_start
readopted() { # FILE MODE: one monitor for FILE, in MODE, its group matching
	_ids=$(mon_jq '.monitors[] | select(.path == $p and .mode == $m) | .id' --arg p "$1" --arg m "$2")
	case $_ids in
	"") echo "no monitor of $1 in mode $2 listed" > "$DMF_TMP/mismatch"; return 1 ;;
	*[!0-9]*) echo "several monitors of $1: $_ids" > "$DMF_TMP/mismatch"; return 1 ;;
	esac
	mon_matches "$_ids" "$1"
}
wait_until 5 readopted "$A" inode || fail "after SIGKILL: $A not re-adopted with a matching group: $(mismatch)"
wait_until 5 readopted "$B" path || fail "after SIGKILL: $B (follow path) not re-adopted with a matching group: $(mismatch)"
[ "$(mon_count)" = 2 ] || fail "after SIGKILL: $(mon_count) monitors, want 2 (the deleted $C dropped)"

# SIGTERM ends the monitors with reason shutdown, but the next start
# re-adopts them
supervisor_stop
append_blocks "$A" 2
supervisor_start
wait_until 5 readopted "$A" inode || fail "after SIGTERM: $A not re-adopted with a matching group: $(mismatch)"
wait_until 5 readopted "$B" path || fail "after SIGTERM: $B not re-adopted: $(mismatch)"
# and the re-adopted monitors work
append_blocks "$B" 2
wait_until 3 readopted "$B" path || fail "re-adopted follow-path monitor does not follow growth: $(mismatch)"
supervisor_stop
