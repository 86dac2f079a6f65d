#!/bin/sh
# t-register-dmstats: Debian's "dmstats create --filemap FILE" execs our
# dmfilemapd shim (first in PATH), which registers the group with the
# supervisor: "dmfilemapctl list --json" shows one monitor with the right
# fields, the shim exits, and the group matches the file.
. "$DMF_KT_DIR/lib.sh"
require_supervisor

F=$DMF_MNT/reg.img
diag_file "$F"
make_fragmented "$F" 4

dmstats_filemap "$F"
G=$DMS_GROUP_ID
# dmstats does not wait for dmfilemapd: wait for the registration
wait_until 5 mon_present_group "$G" ||
	fail "group $G made by dmstats create --filemap was not registered within 5 s (did dmstats exec $DMF_BUILD/dmfilemapd?)"
[ "$(mon_count)" = 1 ] || fail "$(mon_count) monitors listed, want 1"
ID=$(mon_jq '.monitors[0].id')

m=$(mon_jq '.monitors[0] | [.path, .mode, .state, .dm_name, .device, .group_id, .regions, (.alias // "null"), (.last_error // "null")] | map(tostring) | join("|")')
want="$F|inode|active|$DMF_DEV|$(dev_majmin)|$G|4|reg.img|null"
[ "$m" = "$want" ] || fail "monitor fields: got '$m', want '$want' (path|mode|state|dm_name|device|group_id|regions|alias|last_error)"

group_matches_file "$G" "$F" || fail "group $G does not match $F: $(mismatch)"

# the shim exits once registered (foreground 0)
wait_until 5 no_process dmfilemapd || fail "dmfilemapd (foreground 0) still running 5 s after registering"

# list text form: header and one row
hdr=$(dmfilemapctl list | head -n 1 | tr -s ' \t' ' ' | sed 's/^ //; s/ $//')
[ "$hdr" = "ID GROUP REGIONS MODE STATE DEVICE PATH" ] || fail "list header: '$hdr'"
row=$(dmfilemapctl list | sed -n 2p | tr -s ' \t' ' ' | sed 's/^ //')
case $row in "$ID $G 4 inode active "*"$F") ;; *) fail "list row: '$row'" ;; esac
