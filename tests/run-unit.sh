#!/bin/sh
# Run the cmocka unit test programs given as arguments; print a summary.
set -u
pass=0 fail=0
for t in "$@"; do
	out=$("$t" 2>&1)
	rc=$?
	n=$(printf '%s\n' "$out" | sed -n 's/^\[==========\] \([0-9]*\) test(s) run\./\1/p')
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s).*/\1/p')
	n=${n:-0} f=${f:-0}
	if [ $rc -ne 0 ] || [ "$n" -eq 0 ]; then
		printf '%s\n' "$out" | grep -E 'FAILED|ERROR|runtime error|Sanitizer' | head -40
		[ "$f" -eq 0 ] && f=1
	fi
	echo "unit: $(basename "$t"): $n run, $f failed"
	pass=$((pass + n - f)) fail=$((fail + f))
done
echo "unit: $pass passed, $fail failed"
[ $fail -eq 0 ]
