#!/usr/bin/env bash
# GPU check, in one go on a machine with a GPU (CI never runs this; it stays CPU-only):
#   1. build the CLI with the `gpu` feature (burn's wgpu backend);
#   2. run the GPU test alias (`cargo test-gpu`: the learner and LM tests on wgpu);
#   3. the learner and language-model throughput of `wind bench`, on cpu and on wgpu, side by side;
#   4. the fig1 learners (experiments/fig1.toml) on both backends, wall time of each;
#   5. one smol-tier fig2 iteration on wgpu (needs data/cache/smol: `wind data fetch smol` first;
#      skipped with a note when the GGUF is not there — on this workplace's lent GPU machine it
#      always is: the 94 MiB GGUF exceeds the 64 MiB a run may carry and that machine has no network).
# Stages: GPU_CHECK_SKIP="tests fig1" (space-separated: tests, bench, fig1, fig2) skips stages, so
# the check can be split over several shorter commands (build outputs stay in target/).
# WIND_BIN=path uses a prebuilt gpu binary instead of building here.
# Output: a summary on stdout and every log under ${GPU_CHECK_OUT:-target/gpu-check}.
# Exit status: non-zero when a build, a test or a run fails (a skipped smol step is not a failure).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${GPU_CHECK_OUT:-target/gpu-check}
mkdir -p "$out"
export CARGO_TERM_COLOR=never
t0=$(date +%s)
step() { echo "== $* ($(( $(date +%s) - t0 )) s)"; }
skip() { [[ " ${GPU_CHECK_SKIP:-} " == *" $1 "* ]] && echo "(skipped: GPU_CHECK_SKIP has $1)"; }

if [ -n "${WIND_BIN:-}" ]; then
  # a binary built elsewhere with `cargo build --release --features gpu` (no build here; the
  # test stage still needs cargo, skip it with GPU_CHECK_SKIP=tests)
  wind=$WIND_BIN
  [ -x "$wind" ] || { echo "WIND_BIN=$wind is not an executable" >&2; exit 1; }
else
  step "build (release, --features gpu)"
  command -v cargo >/dev/null || { echo "cargo not found: install Rust, or set WIND_BIN to a gpu build" >&2; exit 1; }
  set +e
  cargo build --release --features gpu 2>&1 | tee "$out/build.log" | tail -3
  rc=${PIPESTATUS[0]}
  set -e
  [ "$rc" -eq 0 ] || { echo "build failed (see $out/build.log)" >&2; exit 1; }
  wind=target/release/wind
fi
if ! ldconfig -p 2>/dev/null | grep -q libvulkan; then
  echo "note: no libvulkan in the loader cache; wgpu may find no adapter (install libvulkan1)" >&2
fi

step "adapter"
if ! "$wind" bench --quick --backend wgpu >"$out/bench-wgpu.txt" 2>"$out/bench-wgpu.err"; then
  cat "$out/bench-wgpu.err"
  echo "no usable wgpu adapter: stopping (see $out/bench-wgpu.err)" >&2
  exit 1
fi
grep -m1 '^backend:' "$out/bench-wgpu.txt" || true

step "GPU tests (cargo test-gpu)"
if ! skip tests; then
set +e
cargo test-gpu 2>&1 | tee "$out/tests.log" | grep -E '^test result|FAILED|panicked'
rc=${PIPESTATUS[0]}
set -e
[ "$rc" -eq 0 ] || { echo "GPU tests failed (see $out/tests.log)" >&2; exit 1; }
fi

step "wind bench, cpu vs wgpu (learners and language model)"
if ! skip bench; then
"$wind" bench --quick --backend cpu >"$out/bench-cpu.txt"
echo "--- cpu (flex) ---------------------------------------------------------------"
sed -n '/^policy/,$p' "$out/bench-cpu.txt"
echo "--- wgpu ----------------------------------------------------------------------"
sed -n '/^policy/,$p' "$out/bench-wgpu.txt"
fi

step "fig1 learners, cpu vs wgpu"
skip fig1 || for b in cpu wgpu; do
  s=$EPOCHREALTIME
  "$wind" run experiments/fig1.toml --backend "$b" --quiet --results "$out/fig1-$b" >"$out/fig1-$b.log" 2>&1 \
    || { cat "$out/fig1-$b.log"; exit 1; }
  e=$EPOCHREALTIME
  awk -v b="$b" -v s="$s" -v e="$e" 'BEGIN { printf "fig1 (%s): %.1f s\n", b, e - s }'
done

step "fig2, smol tier, one iteration on wgpu"
if skip fig2; then :
elif [ -f data/cache/smol/SmolLM2-135M-Instruct.Q4_1.gguf ]; then
  "$wind" reproduce fig2 --tier smol --backend wgpu --results "$out/fig2" --figures "$out/figures" 2>&1 | tee "$out/fig2.log" | tail -5
  grep -h '"seconds_per_iteration\|time_ratio' "$out"/fig2/*/summary.json 2>/dev/null | head -5 || true
else
  echo "skipped: data/cache/smol/SmolLM2-135M-Instruct.Q4_1.gguf is not here (run \`$wind data fetch smol\` on a machine with network, then copy data/cache/smol)"
fi
step "done"
