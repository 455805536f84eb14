#!/bin/bash
# Runs every libFuzzer target of tests/fuzz for SECONDS each (default 60), one
# after the other, and prints per target its executions, exec/s, coverage
# (cov: edges, ft: features) and corpus size. Exits non-zero when a target
# crashes, leaks, hangs (-timeout) or breaks a property; the input that did it
# is saved under build-fuzz/tests/fuzz/artifacts/<target>/.
#
# Usage: tests/fuzz/run.sh [SECONDS]
# Configures <source>/build-fuzz with clang and -Dfuzzing=true when it is not
# there yet. New inputs the fuzzer finds go to build-fuzz/tests/fuzz/found/<target>,
# never into the seed corpus.
set -uo pipefail

seconds="${1:-60}"
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 [SECONDS]   (a positive whole number; default 60)" >&2
  exit 2
fi
here="$(cd "$(dirname "$0")" && pwd -L)"
source_root="$(cd "$here/../.." && pwd -L)"
build="$source_root/build-fuzz"

if [ ! -f "$build/build.ninja" ]; then
  CC=clang CXX=clang++ meson setup "$build" "$source_root" -Dfuzzing=true \
    --wrap-mode=nofallback -Db_lundef=false || exit 1
fi
if [ "$(meson introspect --buildoptions "$build" |
        python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"] == "fuzzing"][0])')" != True ]; then
  echo "$build is not configured with -Dfuzzing=true" >&2
  exit 1
fi

targets=()
for corpus in "$here"/corpus/*/; do
  targets+=("$(basename "$corpus")")
done
meson compile -C "$build" "${targets[@]/#/fuzz_}" >/dev/null || {
  echo "building the fuzz targets failed; run: meson compile -C $build" >&2
  exit 1
}

failed=0
summary=()
for target in "${targets[@]}"; do
  out="$build/tests/fuzz"
  found="$out/found/$target"
  artifacts="$out/artifacts/$target/"
  log="$out/$target.log"
  mkdir -p "$found" "$artifacts"
  dict=()
  [ -f "$here/dict/$target.dict" ] && dict=("-dict=$here/dict/$target.dict")
  echo "== fuzz_$target for ${seconds}s (log: $log)"
  "$out/fuzz_$target" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
    -artifact_prefix="$artifacts" "${dict[@]}" "$found" "$here/corpus/$target" >"$log" 2>&1
  status=$?
  result=ok
  if [ "$status" -ne 0 ]; then
    result="FAILED (exit $status)"
    failed=1
    grep -E "ERROR|fuzz property broken|runtime error|Test unit written" "$log" | head -5
  fi
  last="$(grep -E '^#[0-9]+' "$log" | tail -1)"
  field() { sed -nE "s/.* $1: ?([^ ]+).*/\1/p" <<<"$last"; }
  stat() { sed -nE "s/^stat::$1: *([0-9]+)/\1/p" "$log"; }
  summary+=("$(printf '%-16s %-18s execs %-10s exec/s %-7s cov %-6s ft %-7s corpus %s' \
    "$target" "$result" "$(stat number_of_executed_units)" "$(stat average_exec_per_sec)" \
    "$(field cov)" "$(field ft)" "$(field corp)")")
done

echo "== summary (${seconds}s per target)"
printf '%s\n' "${summary[@]}"
exit "$failed"
