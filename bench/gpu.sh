#!/usr/bin/env bash
# `make gpu`: B1/B2 and one whole study on a GPU machine with Python and JAX (CUDA) but not the rest of this
# project's dependencies: installs them from gpu/wheels (`make gpu-wheels` fills gpu/ here; carry it), then
#   1. B1 and B2 (bench/test_bench_fast_engine.py, full sizes): engine=fast against model.fit on every
#      installed backend, side by side (JAX alone there);
#   2. article 002's per-replica epoch time in stacks of 20, 100 and 500 replicas (python -m bench.replicas);
#   3. `studybench study=optimizers n_seeds=20 engine=fast` (120 trials in 6 stacks of 20), into gpu/results;
# and writes reports/bench/gpu.json (device, JAX version, every figure and each step's wall time and exit
# status; 124: the step ran out of its time, which the budget below bounds), also copied into $OUT when set.
# GPU_SIZE=tiny tries the whole script on a CPU in minutes (B2 --bench-short, the study at profile=smoke).
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
SIZE=${GPU_SIZE:-full}
case "$SIZE" in
  full) BENCH_ARGS=(-k "b1 or b2"); REPLICAS=(20 100 500); STUDY_ARGS=(); LIMITS=(150 90 180) ;;
  tiny) BENCH_ARGS=(-k b2 --bench-short); REPLICAS=(4 8); STUDY_ARGS=(profile=smoke); LIMITS=(400 300 600) ;;
  *) echo "GPU_SIZE=$SIZE is not a size; valid: full, tiny" >&2; exit 2 ;;
esac
STUDY=(study=optimizers n_seeds=20 engine=fast "${STUDY_ARGS[@]}" results_dir=gpu/results reports_dir=gpu/reports
       data.download=false)
rm -rf gpu/site gpu/results gpu/reports gpu/bench.json gpu/replicas.*
: > gpu/steps.tsv

step() {  # step NAME SECONDS COMMAND...: run it under a time limit, record its exit status and seconds
  local name=$1 limit=$2 started=$EPOCHREALTIME status
  shift 2
  timeout "$limit" "$@"
  status=$?
  printf '%s\t%s\t%s\n' "$name" "$status" "$(awk "BEGIN {printf \"%.1f\", $EPOCHREALTIME - $started}")" >> gpu/steps.tsv
  echo "step $name: exit status $status" >&2
}

install() {  # the carried distributions this Python lacks, into gpu/site (no index; no venv, no root needed)
  local missing
  missing=$("$PYTHON" -m bench.gpu missing) || return 1
  [ -z "$missing" ] && return 0
  if "$PYTHON" -m pip --version >/dev/null 2>&1; then
    # shellcheck disable=SC2086 # one distribution a word
    "$PYTHON" -m pip install --quiet --no-index --no-deps --find-links gpu/wheels --target gpu/site $missing
  else  # no pip: a wheel installs by unpacking it
    for distribution in $missing; do
      wheel=$(ls gpu/wheels/"$(echo "$distribution" | tr - _)"-*.whl | head -1) &&
        "$PYTHON" -m zipfile -e "$wheel" gpu/site || return 1
    done
  fi
}

export -f install
export PYTHON PYTHONPATH="$PWD/gpu/site:$PWD" KERAS_BACKEND=jax KERAS_HOME="$PWD/gpu/keras" TF_CPP_MIN_LOG_LEVEL=3
step install 60 bash -c install
step bench "${LIMITS[0]}" "$PYTHON" -m pytest bench/test_bench_fast_engine.py --benchmark-only -p no:cacheprovider \
  "${BENCH_ARGS[@]}" --benchmark-json gpu/bench.json
step replicas "${LIMITS[1]}" "$PYTHON" -m bench.replicas --replicas "${REPLICAS[@]}" --rounds 3 --output gpu/replicas
step study "${LIMITS[2]}" "$PYTHON" -m studies.run.cli "${STUDY[@]}"
"$PYTHON" -m bench.gpu report --out reports/bench/gpu.json --steps gpu/steps.tsv --bench gpu/bench.json \
  --replicas gpu/replicas.json --results gpu/results --study-command "studybench ${STUDY[*]}" --size "$SIZE" || exit 1
if [ -n "${OUT:-}" ]; then cp reports/bench/gpu.json gpu/steps.tsv "$OUT"/; fi
