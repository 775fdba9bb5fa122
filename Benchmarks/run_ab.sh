#!/usr/bin/env bash
# Runs a measurement for two builds in turn (A, B, A, B, ...) on the same machine, so that both
# see the same load: ROUNDS rounds, each running COMMAND with BIN set to the "before" and then the
# "after" executable, under a "== round R: before|after (BIN)" line.
# Usage: Benchmarks/run_ab.sh ROUNDS BEFORE_BIN AFTER_BIN COMMAND [ARGS...]
#   BEFORE_ENV / AFTER_ENV: VAR=VALUE words set for that side only (one build, a switch off and on)
set -euo pipefail
rounds=$1 sides=(before after) bins=("$2" "$3") envs=("${BEFORE_ENV:-}" "${AFTER_ENV:-}")
shift 3
for r in $(seq 1 "$rounds"); do
    for i in 0 1; do
        echo "== round $r: ${sides[i]} (${bins[i]}${envs[i]:+ with ${envs[i]}})"
        # shellcheck disable=SC2086  # the words of the side's environment, split on purpose
        env ${envs[i]} BIN="${bins[i]}" "$@"
    done
done
