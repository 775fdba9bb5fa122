#!/usr/bin/env bash
# Multi-host test on one machine (root only). Four network namespaces are four hosts, each with its
# own 10.213.0.x address, cabled by veth pairs to a bridge that lives in a fifth "switch" namespace
# (nothing is added to the machine's own network). The coordinator runs on host c with CURVE keys
# and an authorized-keys file; a worker on each of w1, w2, w3 is started by Deploy/ssh/hutch-workers
# with its remote command set to `ip netns exec HOST`. While the job runs, w2's cable is pulled for
# longer than the liveness window (heartbeat 1 s x liveness 3) and put back, and w3's worker is
# SIGKILLed meanwhile; then the coordinator gets SIGTERM (as from a Slurm time limit) and is started
# again with the same command on the same --state DIR, and resumes. The job's sensitivity.json,
# plan.json and quantized.onnx must equal, byte for byte, the single-process `hutch trace` +
# `hutch plan` + `hutch quantize` with the same flags.
#
#   sudo Deploy/test/multihost.sh            # HUTCH=path/to/hutch (default .build/release/hutch)
#   HUTCH_MULTIHOST_INSECURE=1 ...           # plaintext (--insecure, no keys): only for builds without CURVE
#   HUTCH_MULTIHOST_KEEP=1 ...               # keep the work directory (logs, keys, outputs)
#
# Everything it creates (namespaces, links, processes, the work directory) is removed on exit,
# failure or Ctrl-C. Prints `multihost: 1 passed, 0 failed` or `multihost: 0 passed, 1 failed`.
set -euo pipefail
cd "$(dirname "$0")/../.."

fail() { echo "multihost: FAILED: $*" >&2; echo "multihost: 0 passed, 1 failed"; exit 1; }
say() { echo "multihost: [$(date +%T)] $*"; }

[[ "$(id -u)" == 0 ]] || fail "must run as root (network namespaces); run: sudo $0"
command -v ip > /dev/null && ip netns list > /dev/null 2>&1 \
    || fail "'ip netns' is not available: install iproute2 (apt-get install iproute2)"
HUTCH="$(realpath "${HUTCH:-.build/release/hutch}" 2>/dev/null)" || true
[[ -x "$HUTCH" ]] || fail "no hutch binary at ${HUTCH:-.build/release/hutch}; build it (swift build -c release) or set HUTCH"
insecure="${HUTCH_MULTIHOST_INSECURE:-0}"

# --- names: unique per run so that two runs (or a leftover) never collide -------------------------
id="$(printf '%04x' $((RANDOM % 65536)))"
sw="hutch-$id-sw"
hosts=(c w1 w2 w3)
ns() { echo "hutch-$id-$1"; }
declare -A addr=([c]=10.213.0.1 [w1]=10.213.0.2 [w2]=10.213.0.3 [w3]=10.213.0.4)
port=5555
endpoint="tcp://${addr[c]}:$port"
work="$(mktemp -d /tmp/hutch-multihost.XXXXXX)"
coordinator_pid=""

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    # every process left in our namespaces (coordinator, workers, a stuck status), then the namespaces;
    # deleting a namespace deletes its veth ends and the bridge
    for h in "${hosts[@]}" sw; do
        local name; name="$(ns "$h")"
        ip netns pids "$name" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
    done
    [[ -z "$coordinator_pid" ]] || wait "$coordinator_pid" 2>/dev/null || true
    for h in "${hosts[@]}" sw; do ip netns del "$(ns "$h")" 2>/dev/null || true; done
    if [[ "${HUTCH_MULTIHOST_KEEP:-0}" == 1 ]]; then echo "multihost: kept $work"; else rm -rf "$work"; fi
    exit "$status"
}
trap cleanup EXIT
trap 'echo "multihost: interrupted" >&2; exit 130' INT TERM

# --- the network: 5 namespaces, a bridge in the switch, one veth cable per host ------------------
say "network: namespaces $(ns c) $(ns w1) $(ns w2) $(ns w3), bridge in $sw"
ip netns add "$sw" || fail "cannot create a network namespace here (needs CAP_SYS_ADMIN, e.g. a privileged container)"
ip -n "$sw" link add br0 type bridge
ip -n "$sw" link set br0 up
for h in "${hosts[@]}"; do
    ip netns add "$(ns "$h")"
    # the host end is eth0 inside the host's namespace, the other end port-HOST in the switch
    ip link add eth0 netns "$(ns "$h")" type veth peer name "port-$h" netns "$sw"
    ip -n "$sw" link set "port-$h" master br0 up
    ip -n "$(ns "$h")" addr add "${addr[$h]}/24" dev eth0
    ip -n "$(ns "$h")" link set eth0 up
    ip -n "$(ns "$h")" link set lo up
done
# --- the job: the embedded example, Hutchinson traces (long enough, 10-30 s on 3 one-thread workers,
# for the faults to land mid-job), then a 4-bit average plan and the quantized model -------------
trace_flags=(--method hutchinson --probes "${HUTCH_MULTIHOST_PROBES:-250}" --samples 450 --batch-size 50)
job=("${trace_flags[@]}" --avg-bits 4 --workers 3)
# the state directory flag: --state (journal, resume) once that lands, --out before
if [[ "$("$HUTCH" coordinator --help)" == *"--state DIR"* ]]; then state_flag=--state
else state_flag=--out; say "NOTE: no --state among this binary's coordinator flags; using --out"; fi

keys="$work/keys"
mkdir -p "$keys"
security=() worker_keys=() status_keys=()
if [[ "$insecure" == 1 ]]; then
    say "NOTE: HUTCH_MULTIHOST_INSECURE=1: plaintext, no keys (not the default path)"
    security=(--insecure)
else
    "$HUTCH" keygen --help > /dev/null 2>&1 \
        || fail "this hutch has no 'keygen' (CURVE); build one that has, or set HUTCH_MULTIHOST_INSECURE=1"
    "$HUTCH" keygen --out "$keys/coordinator" > /dev/null
    : > "$keys/authorized_keys"
    for h in w1 w2 w3; do
        "$HUTCH" keygen --out "$keys/$(ns "$h")" > /dev/null
        # a .pub file is an authorized-keys line: the key, then its name
        cat "$keys/$(ns "$h").pub" >> "$keys/authorized_keys"
    done
    "$HUTCH" keygen --out "$keys/intruder" > /dev/null   # a key the coordinator does not know
    security=(--curve-key "$keys/coordinator.key" --authorized-keys "$keys/authorized_keys")
    worker_keys=(--curve-key "$keys/{host}.key" --coordinator-key "$keys/coordinator.pub")
    status_keys=(--curve-key "$keys/$(ns w1).key" --coordinator-key "$keys/coordinator.pub")
fi

# the same command every time: on the same --state DIR the second run resumes
coordinator_log="$work/coordinator.log"
start_coordinator() {
    : > "$coordinator_log"
    ip netns exec "$(ns c)" "$HUTCH" coordinator --bind "$endpoint" "${security[@]}" "${job[@]}" "$state_flag" "$work/state" \
        >> "$work/coordinator.out" 2> "$coordinator_log" &
    coordinator_pid=$!
}
log() { cat "$coordinator_log"; }
# waits up to $1 seconds for the coordinator's log to contain $2
await() {
    local deadline=$((SECONDS + $1))
    until grep -q -- "$2" "$coordinator_log"; do
        kill -0 "$coordinator_pid" 2>/dev/null || { log >&2; fail "the coordinator exited while waiting for '$2'"; }
        ((SECONDS < deadline)) || { log >&2; fail "no '$2' in the coordinator's log within $1 s"; }
        sleep 0.1
    done
}
# waits up to $1 seconds for the coordinator to exit; sets code
finish() {
    local deadline=$((SECONDS + $1))
    while kill -0 "$coordinator_pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    kill -0 "$coordinator_pid" 2>/dev/null && { log >&2; fail "the coordinator did not exit within $1 s"; }
    wait "$coordinator_pid" && code=0 || code=$?
    coordinator_pid=""
}
# a process that exited but is not reaped yet (a zombie) is not alive
alive() { kill -0 "$1" 2>/dev/null && ! grep -qE "^[0-9]+ \(.*\) Z" "/proc/$1/stat" 2>/dev/null; }
running() { kill -0 "$coordinator_pid" 2>/dev/null || fail "the job ended before $1; raise HUTCH_MULTIHOST_PROBES"; }

say "coordinator on $(ns c): $endpoint"
start_coordinator
await 30 "workers connect to"

printf '%s\n' "$(ns w1)" "$(ns w2)" "$(ns w3)" > "$work/hosts"
launcher=(Deploy/ssh/hutch-workers --remote "ip netns exec {host}" --run-dir "$work/run" --hutch "$HUTCH")
start_workers() {
    "${launcher[@]}" start --connect "$endpoint" --threads 1 "${worker_keys[@]}" "$work/hosts" -- --fetch-blobs \
        | sed 's/^/multihost:   /' || fail "the launcher could not start the workers"
}
say "workers on w1 w2 w3 through: ${launcher[*]} start"
start_workers
for h in w1 w2 w3; do await 30 "worker $(ns "$h")-1 joined"; done

# status from another host, with a worker's keys
ip netns exec "$(ns w1)" "$HUTCH" status --connect "$endpoint" "${status_keys[@]}" > "$work/status.txt" \
    || fail "hutch status from w1 failed: $(cat "$work/status.txt")"
say "status from w1: $(head -n 1 "$work/status.txt")"
if [[ "$insecure" != 1 ]]; then
    # meanwhile (in the background, while the faults go on): an unknown key and no key get no answer
    ip netns exec "$(ns w1)" "$HUTCH" status --connect "$endpoint" --curve-key "$keys/intruder.key" \
        --coordinator-key "$keys/coordinator.pub" --timeout 2 > /dev/null 2>&1 &
    intruder_pid=$!
    ip netns exec "$(ns w1)" "$HUTCH" status --connect "$endpoint" --timeout 2 > /dev/null 2>&1 &
    plaintext_pid=$!
fi

running "w2's cable could be pulled"
say "pulling w2's cable (ip link set port-w2 down) until the coordinator expires it"
ip -n "$sw" link set port-w2 down
cut_at=$SECONDS
victim="$(cat "$work/run/$(ns w3)-1.pid")"
say "meanwhile SIGKILL w3's worker (pid $victim)"
ip netns exec "$(ns w3)" kill -KILL "$victim"
sleep 0.5
"${launcher[@]}" list "$work/hosts" > "$work/listing.txt"
sed 's/^/multihost:   /' "$work/listing.txt"
grep -q "$(ns w3)-1: dead" "$work/listing.txt" || fail "the launcher does not list w3's worker as dead"
await 20 "worker $(ns w2)-1 expired"
sleep 1
ip -n "$sw" link set port-w2 up
say "w2's cable back after $((SECONDS - cut_at)) s"

if [[ "$insecure" != 1 ]]; then
    wait "$intruder_pid" && fail "hutch status with a key not in authorized_keys got an answer"
    wait "$plaintext_pid" && fail "hutch status without CURVE keys got an answer"
    say "status with an unknown key and without keys: no answer (refused)"
fi

if [[ "$state_flag" == --state ]]; then
    # what a Slurm time limit or `systemctl stop` does, then a requeue / restart: TERM, the same
    # coordinator command on the same --state DIR, the launcher again (it restarts dead workers)
    running "the coordinator could be stopped"
    say "SIGTERM the coordinator, then the same command on the same --state: resume"
    kill -TERM "$coordinator_pid"
    finish 60
    [[ "$code" == 10 ]] || { log >&2; fail "a coordinator stopped by SIGTERM should exit 10 (interrupted, journal synced), not $code"; }
    grep -E "expired|joined|re-queued|interrupted" "$coordinator_log" | sed 's/^/multihost:   /'
    coordinator_log="$work/coordinator-resumed.log"
    start_coordinator
    await 30 "resuming from"
    say "$(grep -o 'resuming from.*' "$coordinator_log")"
    start_workers
else
    say "NOTE: no --state: the stop-and-resume step is skipped"
fi

say "waiting for the job"
finish 120
[[ "$code" == 0 ]] || { log >&2; fail "the coordinator exited with status $code"; }
# the workers leave by themselves once the coordinator says the job is complete
for h in w1 w2 w3; do
    pid="$(cat "$work/run/$(ns "$h")-1.pid")"
    for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.1; done
done
"${launcher[@]}" list "$work/hosts" | sed 's/^/multihost:   /'
for h in w1 w2; do
    grep -q "job complete" "$work/run/$(ns "$h")-1.log" \
        || fail "$h's worker did not finish with the job: $(cat "$work/run/$(ns "$h")-1.log")"
done
"${launcher[@]}" stop --wait 5 "$work/hosts" > /dev/null
grep -E "expired|joined|re-queued" "$coordinator_log" | sed 's/^/multihost:   /'

say "single-process reference: hutch trace + plan + quantize with the same flags"
mkdir -p "$work/ref"
"$HUTCH" trace "${trace_flags[@]}" --out "$work/ref/sensitivity.json" 2> "$work/ref.log" > /dev/null
"$HUTCH" plan --sensitivity "$work/ref/sensitivity.json" --avg-bits 4 --out "$work/ref/plan.json" 2>> "$work/ref.log" > /dev/null
"$HUTCH" quantize --model Examples/digits_resnet.onnx --plan "$work/ref/plan.json" --data Examples/digits.npz \
    --out "$work/ref/quantized.onnx" 2>> "$work/ref.log" > /dev/null
for f in sensitivity.json plan.json quantized.onnx; do
    cmp "$work/state/$f" "$work/ref/$f" || fail "$f differs from the single-process reference"
    say "$f: identical ($(stat -c %s "$work/ref/$f") bytes)"
done
say "PASSED in $SECONDS s ($([[ "$insecure" == 1 ]] && echo "plaintext" || echo "CURVE"))"
echo "multihost: 1 passed, 0 failed"
