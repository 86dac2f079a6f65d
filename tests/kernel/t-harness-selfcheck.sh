#!/bin/sh
# t-harness-selfcheck: the harness itself, with dmstats/dmsetup only (no
# supervisor): group_matches_file accepts a group made by
# "dmstats create --filemap --nomonitor" and rejects a wrong file, an empty
# file and a missing group; the DMS_GROUP parser reads both descriptor forms,
# member lists with gaps, and aliases with a space and a tab; the file
# shape helpers give the extents they promise; stats.awk's comparemany
# checks many groups at once; wait_until keeps time.
# requires: none
. "$DMF_KT_DIR/lib.sh"

F=$DMF_MNT/self-a
O=$DMF_MNT/self-b
E=$DMF_MNT/self-empty
diag_file "$F" "$O"

make_fragmented "$F" 5
make_fragmented "$O" 3
: > "$E"
[ "$(file_extent_count "$F")" -eq 5 ] || fail "make_fragmented $F 5 gave $(file_extent_count "$F") extents"

dmstats_filemap --nomonitor "$F"
G=$DMS_GROUP_ID
log "group $G: $(group_members "$G" | tr '\n' ' ')"
[ "$(group_members "$G" | wc -l)" -eq 5 ] || fail "group $G should have 5 members"
group_matches_file "$G" "$F" || fail "group $G made by dmstats does not match $F: $(mismatch)"
group_matches_file "$G" "$O" && fail "group $G matches the wrong file $O"
group_matches_file "$G" "$E" && fail "group $G matches an empty file"
group_matches_file 999 "$F" && fail "missing group 999 matches"
group_exists "$G" || fail "group_exists $G"
group_exists 999 && fail "group_exists 999"

# Debian's unquoted form, as written by this dmstats
aux=$(region_aux "$G")
case $aux in
"DMS_GROUP=self-a:$G-$((G + 4))#-") ;;
*) fail "unexpected descriptor written by dmstats: '$aux'" ;;
esac
[ "$(group_alias "$G")" = self-a ] || fail "alias of $G: '$(group_alias "$G")'"

# the group stops matching when the file changes, and matches again after
# dmstats update_filemap (also a check that changes are visible to the helpers)
append_blocks "$F" 3
group_matches_file "$G" "$F" && fail "group $G still matches $F after it grew"

# quoted form with a space and a tab in the alias and a member list with a
# gap: regions for O's extents with a decoy region in between
set -- $(file_extents "$O" | tr '\n' ' ')
[ $# -eq 6 ] || fail "expected 3 extents for $O, got: $*"
r0=$(dmsetup message "$DMF_DEV" 0 @stats_create "$1+$2" /1 dmstats -) || fail "@stats_create"
r1=$(dmsetup message "$DMF_DEV" 0 @stats_create "$3+$4" /1 dmstats -) || fail "@stats_create"
rd=$(dmsetup message "$DMF_DEV" 0 @stats_create "8+8" /1 dmstats -) || fail "@stats_create"
r2=$(dmsetup message "$DMF_DEV" 0 @stats_create "$5+$6" /1 dmstats -) || fail "@stats_create"
[ $((r0 + 1)) -eq "$r1" ] && [ $((r1 + 1)) -eq "$rd" ] && [ $((rd + 1)) -eq "$r2" ] ||
	fail "unexpected region ids $r0 $r1 $rd $r2"
# dm message arguments are split at whitespace unless escaped with a backslash
dmsetup message "$DMF_DEV" 0 @stats_set_aux "$r0" "DMS_GROUP=\"q\\ x\\	y\":$r0-$r1,$r2#-" ||
	fail "@stats_set_aux"
log "$(stats_list)"
[ "$(group_alias "$r0")" = "$(printf 'q x\ty')" ] || fail "alias of $r0: '$(group_alias "$r0")'"
[ "$(group_members "$r0" | tr '\n' ' ')" = "$r0 $r1 $r2 " ] || fail "members of $r0: $(group_members "$r0" | tr '\n' ' ')"
group_matches_file "$r0" "$O" || fail "quoted-form group $r0 does not match $O: $(mismatch)"
group_matches_file "$r0" "$F" && fail "quoted-form group $r0 matches the wrong file"
# with the decoy as a member it must not match
dmsetup message "$DMF_DEV" 0 @stats_set_aux "$r0" "DMS_GROUP=\"q\":$r0-$r2#-" || fail "@stats_set_aux"
group_matches_file "$r0" "$O" && fail "group $r0 with the decoy as member matches $O"
# a member that does not exist
dmsetup message "$DMF_DEV" 0 @stats_set_aux "$r0" "DMS_GROUP=q:$r0-$r1,$r2,$((r2 + 1))#-" || fail "@stats_set_aux"
group_matches_file "$r0" "$O" && fail "group $r0 with a missing member matches $O"

# stats.awk comparemany (monitors_all_match): many groups against one
# filefrag of many files
dmsetup message "$DMF_DEV" 0 @stats_set_aux "$r0" "DMS_GROUP=q:$r0-$r1,$r2#-" || fail "@stats_set_aux"
P=$DMF_MNT/self-p
make_fragmented "$P" 2
dmstats_filemap --nomonitor "$P"
H=$DMS_GROUP_ID
cmp_many() { # "G FILE"...
	printf '%s\n' "$@" > "$DMF_TMP/pairs.sc"
	set --
	while read -r _g _p; do set -- "$@" "$_p"; done < "$DMF_TMP/pairs.sc"
	filefrag -s -v -b512 "$@" > "$DMF_TMP/ff.sc" 2>&1
	stats_list | awk -f "$_DMF_AWK" -v mode=comparemany -v pairs="$DMF_TMP/pairs.sc" -v ff="$DMF_TMP/ff.sc" 2> "$DMF_TMP/mismatch"
}
cmp_many "$r0 $O" "$H $P" || fail "comparemany: groups $r0 and $H do not match $O and $P: $(mismatch)"
cmp_many "$r0 $O" "$H $P" "$G $F" && fail "comparemany: group $G matches $F after it grew"
cmp_many "$H $P" "999 $O" && fail "comparemany: missing group 999 matches"
cmp_many "$H $P" "$r0 $E" && fail "comparemany: an empty file matches"
cmp_many "$H $O" "$r0 $P" && fail "comparemany: swapped files match"

# interleaved writes give a fragmented file without holes
make_interleaved "$DMF_MNT/il-a" "$DMF_MNT/il-b" 6
n=$(file_extent_count "$DMF_MNT/il-a")
log "make_interleaved: $n extents"
[ "$n" -ge 2 ] || log "note: interleaved writes gave $n extent(s) on $DMF_FS"

# punch + file_extent_logical
set -- $(file_extents "$O" | head -n 1)
lo=$(file_extent_logical "$O" "$1")
[ "$lo" = "0 8" ] || fail "file_extent_logical $O $1: '$lo' (want '0 8')"

# wait_until: a false command waits about its timeout; a true one returns at once
_dmf_now; t0=$_dmf_cs
wait_until 1 false && fail "wait_until 1 false succeeded"
el=$(elapsed_cs "$t0")
log "wait_until 1 false took ${el}0 ms"
[ "$el" -ge 95 ] && [ "$el" -lt 400 ] || fail "wait_until 1 false took ${el}0 ms"
_dmf_now; t0=$_dmf_cs
wait_until 3 true || fail "wait_until 3 true failed"
[ "$(elapsed_cs "$t0")" -lt 100 ] || fail "wait_until 3 true was slow"

# the guest must see the build dir first in PATH (for dmstats to exec our shim)
case $PATH in "$DMF_BUILD":*) ;; *) fail "PATH does not start with $DMF_BUILD: $PATH" ;; esac
log "self-check passed on $DMF_FS"
