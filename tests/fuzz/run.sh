#!/bin/sh
# tests/fuzz/run.sh SECONDS NAME... — runs build/fuzz/fuzz_NAME for SECONDS
# each, one after the other, on a copy of tests/fuzz/corpus/NAME in
# build/fuzz/corpus/NAME (the committed corpus does not grow).  Prints one
# line per fuzzer; exits 1 if any found a crash (its input is kept in
# build/fuzz/artifacts/NAME/; the log is build/fuzz/NAME.log).
set -u
secs=$1
shift
failed=0
for name in "$@"; do
	work=build/fuzz/corpus/$name
	log=build/fuzz/$name.log
	art=build/fuzz/artifacts/$name
	rm -rf "$art"
	mkdir -p "$work" "$art"
	cp -p tests/fuzz/corpus/"$name"/* "$work"/ 2>/dev/null
	# -timeout: one input taking seconds is a bug too; libFuzzer's own
	# workers stay at one (the machine is shared)
	build/fuzz/fuzz_"$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$art"/ -print_final_stats=1 \
		"$work" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	files=$(find "$work" -mindepth 1 -maxdepth 1 | wc -l)
	if [ "$rc" -eq 0 ]; then
		echo "fuzz_$name: ok, ${secs} s, ${runs:-?} runs, corpus $files"
	else
		failed=1
		crash=$(find "$art" -mindepth 1 -maxdepth 1 2>/dev/null | head -n 1)
		why=$(grep -m 1 -E 'runtime error|property broken|ERROR: [A-Za-z]+Sanitizer' "$log" ||
		      grep -m 1 'ERROR: ' "$log")
		echo "fuzz_$name: FAILED (exit $rc) ${crash:-no input saved}: ${why:-see $log}"
	fi
done
exit $failed
