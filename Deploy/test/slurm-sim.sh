#!/usr/bin/env bash
# Deploy/slurm/hutch.sbatch on one machine with stand-ins for Slurm (no Slurm, no root): `scontrol
# show hostnames` names two nodes that are both this machine (localhost), `srun` starts one task
# per node here, `scontrol requeue` is recorded. The batch script runs the job with CURVE keys; it
# gets SIGTERM mid-job as from `--signal=B:TERM@120`, must have the coordinator sync its journal
# (exit 10) and requeue; then it runs again (SLURM_RESTART_COUNT=1), resumes from the same --state
# and finishes. sensitivity.json must equal `hutch trace` with the same flags, byte for byte.
#   Deploy/test/slurm-sim.sh          # HUTCH=path/to/hutch (default .build/release/hutch)
# Prints `slurm-sim: 1 passed, 0 failed` or `slurm-sim: 0 passed, 1 failed`.
set -euo pipefail
cd "$(dirname "$0")/../.."
fail() { echo "slurm-sim: FAILED: $*" >&2; echo "slurm-sim: 0 passed, 1 failed"; exit 1; }
say() { echo "slurm-sim: [$(date +%T)] $*"; }

HUTCH="$(realpath "${HUTCH:-.build/release/hutch}" 2>/dev/null)" || true
[[ -x "$HUTCH" ]] || fail "no hutch binary at ${HUTCH:-.build/release/hutch}; build it or set HUTCH"
[[ "$("$HUTCH" keygen --help 2>/dev/null)" == *--out* && "$("$HUTCH" coordinator --help)" == *"--state DIR"* ]] \
    || fail "no 'keygen' or no 'coordinator --state' (CURVE keys, the journal) in $HUTCH: build one that has them"

work="$(mktemp -d /tmp/hutch-slurm-sim.XXXXXX)"
batch="" groups=()
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    # each batch run is a process group of its own (setsid): the script, the coordinator, srun, workers
    for g in "${groups[@]}"; do kill -KILL -- "-$g" 2>/dev/null || true; done
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the Slurm stand-ins -------------------------------------------------------------------------
mkdir -p "$work/bin" "$work/keys" "$work/submit"
cat > "$work/bin/scontrol" <<'EOF'
#!/usr/bin/env bash
case "$1 $2" in
    "show hostnames") echo localhost; echo localhost ;;
    "requeue "*) echo "requeue $2" >> "$SIM_DIR/requeued" ;;
    *) echo "scontrol stand-in: $*" >&2; exit 1 ;;
esac
EOF
cat > "$work/bin/srun" <<'EOF'
#!/usr/bin/env bash
# one task per node, here; options before the command are read for --nodes only
nodes=1
while [[ "$1" == -* ]]; do [[ "$1" == --nodes=* ]] && nodes="${1#--nodes=}"; shift; done
pids=()
for ((i = 0; i < nodes; i++)); do SLURM_PROCID=$i "$@" & pids+=($!); done
trap 'kill "${pids[@]}" 2>/dev/null' TERM
wait
EOF
chmod +x "$work/bin/"*

"$HUTCH" keygen --out "$work/keys/coordinator" > /dev/null
"$HUTCH" keygen --out "$work/keys/worker" > /dev/null
cat "$work/keys/worker.pub" > "$work/keys/authorized_keys"

port=$((20000 + RANDOM % 20000))
flags=(--method hutchinson --probes "${HUTCH_SLURM_SIM_PROBES:-250}" --samples 450 --batch-size 50)
# the loopback address only: this machine is not a cluster
run_batch() {
    env PATH="$work/bin:$PATH" SIM_DIR="$work" SLURM_JOB_ID=4242 SLURM_JOB_NODELIST="node[1-2]" SLURM_JOB_NUM_NODES=2 \
        SLURM_SUBMIT_DIR="$work/submit" SLURM_RESTART_COUNT="$1" HUTCH="$HUTCH" HUTCH_KEYS="$work/keys" \
        HUTCH_STATE="$work/state" HUTCH_PORT="$port" HUTCH_BIND="tcp://127.0.0.1:$port" \
        setsid bash Deploy/slurm/hutch.sbatch "${flags[@]}" >> "$work/hutch-4242.log" 2>&1 &
    batch=$!
    groups+=("$batch")
}
wait_batch() {
    local deadline=$((SECONDS + $1))
    while kill -0 "$batch" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    kill -0 "$batch" 2>/dev/null && { cat "$work/hutch-4242.log" >&2; fail "the batch script did not end within $1 s"; }
    wait "$batch" && code=0 || code=$?
    batch=""
}

say "run 0: sbatch script with 2 stand-in nodes, coordinator on tcp://127.0.0.1:$port"
run_batch 0
deadline=$((SECONDS + 60))
until [[ "$(grep -c ' joined' "$work/hutch-4242.log" 2>/dev/null)" -ge 2 ]] && grep -q "tasks done" "$work/hutch-4242.log"; do
    kill -0 "$batch" 2>/dev/null || { cat "$work/hutch-4242.log" >&2; fail "the batch script ended before the workers joined"; }
    ((SECONDS < deadline)) || { cat "$work/hutch-4242.log" >&2; fail "the workers did not join within 60 s"; }
    sleep 0.2
done
sleep 2
kill -0 "$batch" 2>/dev/null || fail "the job ended before the time-limit signal; raise HUTCH_SLURM_SIM_PROBES"
say "time-limit signal: SIGTERM to the batch script"
kill -TERM "$batch"
wait_batch 60
[[ "$code" == 0 ]] || { cat "$work/hutch-4242.log" >&2; fail "the interrupted run should exit 0 after requeueing, not $code"; }
grep -q "requeue 4242" "$work/requeued" 2>/dev/null || { cat "$work/hutch-4242.log" >&2; fail "no scontrol requeue 4242"; }
grep -q "status 10" "$work/hutch-4242.log" || { cat "$work/hutch-4242.log" >&2; fail "the coordinator did not exit 10 (interrupted, journal synced)"; }
[[ ! -e "$work/state/sensitivity.json" ]] || fail "the job was complete before the signal; raise HUTCH_SLURM_SIM_PROBES"
say "requeued: $(grep 'requeueing' "$work/hutch-4242.log")"

say "run 1 (SLURM_RESTART_COUNT=1): the same script, the same --state"
run_batch 1
wait_batch 180
[[ "$code" == 0 ]] || { cat "$work/hutch-4242.log" >&2; fail "the requeued run exited $code"; }
grep -q "resuming from" "$work/hutch-4242.log" || { cat "$work/hutch-4242.log" >&2; fail "the requeued coordinator did not resume"; }
say "$(grep -o 'resuming from.*' "$work/hutch-4242.log")"

"$HUTCH" trace "${flags[@]}" --out "$work/reference.json" 2> "$work/trace.log" > /dev/null || fail "hutch trace: $(cat "$work/trace.log")"
cmp "$work/state/sensitivity.json" "$work/reference.json" || fail "sensitivity.json differs from hutch trace"
say "sensitivity.json after a requeue equals hutch trace ($(stat -c %s "$work/reference.json") bytes); PASSED in $SECONDS s"
echo "slurm-sim: 1 passed, 0 failed"
