#!/bin/sh
# t-follow-inode-rename: a follow-inode monitor keeps following its file when
# it is renamed into another directory: still listed (under its new path),
# and growth of the renamed file still updates the group.
. "$DMF_KT_DIR/lib.sh"
require_supervisor

mkdir -p "$DMF_MNT/d1" "$DMF_MNT/d2"
F=$DMF_MNT/d1/ino.img
F2=$DMF_MNT/d2/renamed.img
diag_file "$F2"
make_fragmented "$F" 3
add_create "$F" --follow inode
mv "$F" "$F2" || fail "mv"
sleep 1.5
mon_present_id "$MON_ID" || fail "monitor $MON_ID ended after its file was renamed"
[ "$(mon_field_by_id "$MON_ID" state)" = active ] || fail "state after rename: $(mon_field_by_id "$MON_ID" state)"

append_blocks "$F2" 5
write_blocks "$F2" 100 1
wait_until 3 mon_matches "$MON_ID" "$F2" || fail "group not updated within 3 s after the renamed file grew: $(mismatch)"

# a file created at the old path is not the monitored file
make_fragmented "$F" 2
sleep 1.5
mon_matches "$MON_ID" "$F2" || fail "group no longer matches the renamed file after a new file appeared at the old path: $(mismatch)"

# the contract (IDL Monitor.path, dmfilemapctl(8) list): in follow-inode
# mode the path is the file's new name after a rename
[ "$(mon_field_by_id "$MON_ID" path)" = "$F2" ] ||
	fail "path field is $(mon_field_by_id "$MON_ID" path), want the new name $F2"
# and remove by that name works
dmfilemapctl remove "$F2" >/dev/null || fail "remove by the new name failed"
mon_gone_id "$MON_ID" || fail "monitor $MON_ID still listed after remove $F2"
