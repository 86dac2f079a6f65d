# stats.awk: parse the kernel's "@stats_list" text and "filefrag -v -b512"
# output for the kernel tests (see lib.sh). POSIX awk (mawk) only.
#
# Input: the @stats_list rows, one per line:
#   ID: START+LEN STEP PROGRAM_ID AUX_DATA [precise_timestamps] [histogram:B1,B2,...]
# AUX_DATA may hold spaces and tabs (the kernel prints it unescaped), so it
# is everything between PROGRAM_ID and the optional trailing flags.
#
# -v mode=...:
#   regions          "ID START LEN" for every row
#   groups           the id of every row whose aux_data holds a group descriptor
#   members  -v g=G  the member ids of group G (from its leader's descriptor)
#   alias    -v g=G  the alias of group G (unquoted)
#   extents  -v g=G  "START LEN" of G's members, sorted by START, adjacent merged
#   attrs    -v g=G  "ID PROGRAM_ID PRECISE HISTOGRAM" for each member
#   aux      -v g=G  the raw aux_data of region G
#   fileext  -v ff=FILE   (stdin ignored: use /dev/null) "START LEN" of the
#            filefrag -v -b512 output in FILE, sorted, adjacent merged
#   compare  -v g=G -v ff=FILE   exit 0 if extents of G == fileext of FILE
#            (and FILE has at least one extent); else print why, exit 1
#   comparemany -v pairs=PAIRS -v ff=FILE   compare for many groups at once:
#            PAIRS has lines "G PATH"; FILE is the output of one
#            "filefrag -s -v -b512 PATH..." for all of them. Exit 0 if every
#            group matches its file; else print why for each, exit 1
# Exit status (members/alias/extents/attrs/compare): 2 no region G,
# 3 region G holds no (well-formed) group descriptor, 4 a member region is
# missing, 1 mismatch (compare).

function parse_row(line,    head, rest, h) {
	if (!match(line, /^[0-9]+: [0-9]+\+[0-9]+ [0-9]+ [^ ]+ /))
		return 0
	head = substr(line, 1, RLENGTH)
	rest = substr(line, RLENGTH + 1)
	split(head, h, /[ :+]+/)
	R_id = h[1] + 0; R_start = h[2] + 0; R_len = h[3] + 0
	R_step = h[4] + 0; R_prog = h[5]
	R_hist = ""; R_precise = 0
	if (match(rest, / histogram:[0-9,]+$/)) {
		R_hist = substr(rest, RSTART + 11)
		rest = substr(rest, 1, RSTART - 1)
	}
	if (match(rest, / precise_timestamps$/)) {
		R_precise = 1
		rest = substr(rest, 1, RSTART - 1)
	}
	R_aux = rest
	return 1
}

# Parse a DMS_GROUP descriptor in AUX: sets G_alias, G_members (text).
# Returns 1 if found and well formed, 0 if none, -1 if malformed.
function parse_group(aux,    p, s, i, n, c, alias) {
	p = index(aux, "DMS_GROUP=")
	if (!p)
		return 0
	s = substr(aux, p + 10)
	if (substr(s, 1, 1) == "\"") {
		# quoted alias: "..." with backslash escapes
		alias = ""; n = length(s)
		for (i = 2; i <= n; i++) {
			c = substr(s, i, 1)
			if (c == "\\" && i < n) { i++; alias = alias substr(s, i, 1); continue }
			if (c == "\"") break
			alias = alias c
		}
		if (i > n)
			return -1
		s = substr(s, i + 1)
		if (!match(s, /^:[0-9,-]*(#|$)/))
			return -1
	} else {
		# unquoted: alias runs up to the ":MEMBERS#" that follows it
		if (!match(s, /:[0-9,-]*(#|$)/))
			return -1
		alias = substr(s, 1, RSTART - 1)
		s = substr(s, RSTART)
		match(s, /^:[0-9,-]*(#|$)/)
	}
	G_alias = alias
	G_members = substr(s, 2, RLENGTH - 1)
	sub(/#$/, "", G_members)
	return 1
}

# Expand G_members ("0-3,5") into M[1..n]; returns n, or -1 if malformed.
function expand_members(text,    parts, np, i, a, b, k, n, r) {
	n = 0
	if (text == "")
		return -1
	np = split(text, parts, ",")
	for (i = 1; i <= np; i++) {
		if (parts[i] ~ /^[0-9]+$/) {
			M[++n] = parts[i] + 0
		} else if (parts[i] ~ /^[0-9]+-[0-9]+$/) {
			split(parts[i], r, "-")
			a = r[1] + 0; b = r[2] + 0
			if (b < a)
				return -1
			for (k = a; k <= b; k++)
				M[++n] = k
		} else {
			return -1
		}
	}
	return n
}

# Sort S[1..n] / L[1..n] pairs by S (shell sort), then merge adjacent
# ranges; prints "START LEN" lines into the string OUT (returned).
function sort_merge(n,    gap, i, j, ts, tl, out, cs, cl) {
	for (gap = int(n / 2); gap > 0; gap = int(gap / 2))
		for (i = gap + 1; i <= n; i++) {
			ts = S[i]; tl = L[i]
			for (j = i; j > gap && S[j - gap] > ts; j -= gap) {
				S[j] = S[j - gap]; L[j] = L[j - gap]
			}
			S[j] = ts; L[j] = tl
		}
	out = ""
	if (n == 0)
		return out
	cs = S[1]; cl = L[1]
	for (i = 2; i <= n; i++) {
		if (S[i] == cs + cl) { cl += L[i]; continue }
		out = out cs " " cl "\n"
		cs = S[i]; cl = L[i]
	}
	out = out cs " " cl "\n"
	return out
}

function read_filefrag(file,    line, n, f, nf) {
	n = 0
	while ((getline line < file) > 0) {
		# "   0:        0..      31:      17016..     17047:     32: ..."
		if (line !~ /^ *[0-9]+: +[0-9]+\.\. *[0-9]+: +[0-9]+\.\. *[0-9]+: +[0-9]+:/)
			continue
		gsub(/\.\./, " ", line)
		gsub(/:/, " ", line)
		nf = split(line, f, /[ \t]+/)
		# f[1] may be empty (leading blanks)
		if (f[1] == "") { f[1] = f[2]; f[2] = f[3]; f[3] = f[4]; f[4] = f[5]; f[5] = f[6]; f[6] = f[7] }
		# f: ext lstart lend pstart pend len
		n++
		S[n] = f[4] + 0; L[n] = f[6] + 0
	}
	close(file)
	return n
}

function oneline(t) {
	gsub(/\n/, ", ", t)
	sub(/, $/, "", t)
	return t
}

# The extents of every file in the output of one "filefrag -v" of several
# files: FX[PATH] = "START LEN" lines, sorted, adjacent merged.
function read_filefrag_many(file,    line, f, cur, n, i) {
	cur = ""
	while ((getline line < file) > 0) {
		if (line ~ /^File size of /) {
			if (cur != "") { for (i = 1; i <= n; i++) { S[i] = TS[i]; L[i] = TL[i] }; FX[cur] = sort_merge(n) }
			cur = line
			sub(/^File size of /, "", cur)
			sub(/ is [0-9]+ \(.*$/, "", cur)
			n = 0
			continue
		}
		if (cur == "" || line !~ /^ *[0-9]+: +[0-9]+\.\. *[0-9]+: +[0-9]+\.\. *[0-9]+: +[0-9]+:/)
			continue
		gsub(/\.\./, " ", line)
		gsub(/:/, " ", line)
		split(line, f, /[ \t]+/)
		if (f[1] == "") { f[1] = f[2]; f[2] = f[3]; f[3] = f[4]; f[4] = f[5]; f[5] = f[6]; f[6] = f[7] }
		n++
		TS[n] = f[4] + 0; TL[n] = f[6] + 0
	}
	if (cur != "") { for (i = 1; i <= n; i++) { S[i] = TS[i]; L[i] = TL[i] }; FX[cur] = sort_merge(n) }
	close(file)
}

# The extents of group GG as sort_merge gives them, or "" with GERR set:
# 2 no region GG, 3 no well-formed descriptor, 4 a member is missing.
function group_ext(gg,    n, i, k) {
	GERR = 0
	if (!(gg in have)) { GERR = 2; return "" }
	if (parse_group(AUX[gg]) != 1) { GERR = 3; return "" }
	n = expand_members(G_members)
	if (n < 0) { GERR = 3; return "" }
	k = 0
	for (i = 1; i <= n; i++) {
		if (!(M[i] in have)) { GERR = 4; return "" }
		k++; S[k] = RS_[M[i]]; L[k] = RL_[M[i]]
	}
	return sort_merge(k)
}

BEGIN { nrows = 0 }

{
	if (!parse_row($0))
		next
	nrows++
	ID[nrows] = R_id
	have[R_id] = 1
	RS_[R_id] = R_start; RL_[R_id] = R_len
	PROG[R_id] = R_prog; PREC[R_id] = R_precise
	HIST[R_id] = (R_hist == "" ? "-" : R_hist)
	AUX[R_id] = R_aux
}

function need_group(    rc, n) {
	if (!(g in have)) {
		print "no region " g " in @stats_list" > "/dev/stderr"
		exit 2
	}
	rc = parse_group(AUX[g])
	if (rc != 1) {
		print "region " g " holds no well-formed group descriptor: " AUX[g] > "/dev/stderr"
		exit 3
	}
	n = expand_members(G_members)
	if (n < 0) {
		print "malformed member list '" G_members "' in region " g > "/dev/stderr"
		exit 3
	}
	return n
}

END {
	g = g + 0
	if (mode == "regions") {
		for (i = 1; i <= nrows; i++)
			print ID[i], RS_[ID[i]], RL_[ID[i]]
		exit 0
	}
	if (mode == "groups") {
		for (i = 1; i <= nrows; i++)
			if (parse_group(AUX[ID[i]]) == 1)
				print ID[i]
		exit 0
	}
	if (mode == "aux") {
		if (!(g in have))
			exit 2
		print AUX[g]
		exit 0
	}
	if (mode == "comparemany") {
		read_filefrag_many(ff)
		bad = 0
		while ((getline line < pairs) > 0) {
			gg = line; sub(/ .*$/, "", gg); gg = gg + 0
			p = line; sub(/^[0-9]+ /, "", p)
			gext = group_ext(gg)
			if (GERR) {
				printf "group %d of %s: %s\n", gg, p, (GERR == 2 ? "no such region" : GERR == 3 ? "no well-formed descriptor" : "a member region is missing") > "/dev/stderr"
				bad = 1
			} else if (!(p in FX) || FX[p] == "") {
				printf "group %d: file %s has no extents (or filefrag failed)\n", gg, p > "/dev/stderr"
				bad = 1
			} else if (FX[p] != gext) {
				printf "group %d extents (START LEN): %s; file %s extents: %s\n", gg, oneline(gext), p, oneline(FX[p]) > "/dev/stderr"
				bad = 1
			}
		}
		close(pairs)
		exit bad
	}
	if (mode == "fileext") {
		n = read_filefrag(ff)
		printf "%s", sort_merge(n)
		exit 0
	}
	n = need_group()
	if (mode == "alias") {
		print G_alias
		exit 0
	}
	if (mode == "members") {
		for (i = 1; i <= n; i++)
			print M[i]
		exit 0
	}
	missing = 0
	for (i = 1; i <= n; i++)
		if (!(M[i] in have)) {
			print "member region " M[i] " of group " g " is missing" > "/dev/stderr"
			missing = 1
		}
	if (mode == "attrs") {
		for (i = 1; i <= n; i++)
			if (M[i] in have)
				print M[i], PROG[M[i]], PREC[M[i]], HIST[M[i]]
		exit (missing ? 4 : 0)
	}
	k = 0
	for (i = 1; i <= n; i++)
		if (M[i] in have) {
			k++; S[k] = RS_[M[i]]; L[k] = RL_[M[i]]
		}
	gext = sort_merge(k)
	if (mode == "extents") {
		printf "%s", gext
		exit (missing ? 4 : 0)
	}
	if (mode == "compare") {
		delete S; delete L
		fext = sort_merge(read_filefrag(ff))
		if (missing)
			exit 4
		if (fext == "") {
			print "file has no extents" > "/dev/stderr"
			exit 1
		}
		if (fext != gext) {
			printf "group %d extents (START LEN): %s; file extents: %s\n", g, oneline(gext), oneline(fext) > "/dev/stderr"
			exit 1
		}
		exit 0
	}
	print "stats.awk: unknown mode " mode > "/dev/stderr"
	exit 9
}
