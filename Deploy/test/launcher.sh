#!/usr/bin/env bash
# Deploy/ssh/hutch-workers without ssh and without root: every "host" is this machine, reached
# through `--remote 'env HUTCH_TEST_HOST={host}'` (a prefix that runs `bash -s` here). The workers
# connect to a loopback port where nothing listens, so they stay up, retrying, until stopped.
# Checks start / list / stop, a second start, a killed worker, a stale pid file that now names an
# unrelated process (never signalled), and a worker that cannot start.
#   Deploy/test/launcher.sh           # HUTCH=path/to/hutch (default .build/release/hutch)
set -euo pipefail
cd "$(dirname "$0")/../.."
fail() { echo "launcher: FAILED: $*" >&2; echo "launcher: 0 passed, 1 failed"; exit 1; }

HUTCH="$(realpath "${HUTCH:-.build/release/hutch}" 2>/dev/null)" || true
[[ -x "$HUTCH" ]] || fail "no hutch binary at ${HUTCH:-.build/release/hutch}; build it or set HUTCH"
work="$(mktemp -d /tmp/hutch-launcher.XXXXXX)"
bystander=""
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    [[ -z "$bystander" ]] || kill "$bystander" 2>/dev/null || true
    for f in "$work"/run/*.pid; do [[ -e "$f" ]] && { kill -KILL "$(cat "$f")" 2>/dev/null || true; }; done
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

printf 'hostA 2   # two workers\n\n# a comment line\nhostB\n' > "$work/hosts"
launcher=(Deploy/ssh/hutch-workers --remote "env HUTCH_TEST_HOST={host}" --run-dir "$work/run" --hutch "$HUTCH")
expect() {  # expect WHAT OUTPUT PATTERN...: every pattern is a line of OUTPUT
    local what="$1" output="$2"; shift 2
    for pattern in "$@"; do
        grep -qE -- "^$pattern" <<< "$output" || fail "$what: no line '$pattern' in:"$'\n'"$output"
    done
}

out="$("${launcher[@]}" start --connect tcp://127.0.0.1:1 --threads 1 "$work/hosts" -- --fetch-blobs)"
expect "start" "$out" "hostA-1: started" "hostA-2: started" "hostB-1: started"
out="$("${launcher[@]}" list "$work/hosts")"
expect "list" "$out" "hostA-1: alive" "hostA-2: alive" "hostB-1: alive"
tr '\0' ' ' < "/proc/$(cat "$work/run/hostA-2.pid")/cmdline" | grep -qF -- "worker --connect tcp://127.0.0.1:1 --name hostA-2 --threads 1 --fetch-blobs" \
    || fail "hostA-2 does not run the expected hutch worker command line"

out="$("${launcher[@]}" start --connect tcp://127.0.0.1:1 "$work/hosts")"
expect "second start" "$out" "hostA-1: already running" "hostA-2: already running" "hostB-1: already running"

kill -KILL "$(cat "$work/run/hostA-2.pid")"
sleep 0.3
out="$("${launcher[@]}" list "$work/hosts")"
expect "list after a kill" "$out" "hostA-1: alive" "hostA-2: dead" "hostB-1: alive"

# a pid file whose pid now belongs to another process: listed dead, never signalled
sleep 60 &
bystander=$!
echo "$bystander" > "$work/run/hostB-9.pid"
out="$("${launcher[@]}" list "$work/hosts")"
expect "stale pid file" "$out" "hostB-9: dead"

out="$("${launcher[@]}" stop --wait 5 "$work/hosts")"
expect "stop" "$out" "hostA-1: stopped" "hostA-2: was not running" "hostB-1: stopped" "hostB-9: was not running"
kill -0 "$bystander" 2>/dev/null || fail "stop signalled a process that is not its worker"
out="$("${launcher[@]}" list "$work/hosts")"
expect "list after stop" "$out" "hostA: no workers started here" "hostB: no workers started here"

printf 'hostC\n' > "$work/bad"
if out="$("${launcher[@]}" start --connect not-an-endpoint "$work/bad" 2>&1)"; then fail "a worker that cannot start: exit 0"; fi
expect "failed start" "$out" "hostC-1: FAILED to start" "hutch: error: --connect"

out="$(Deploy/ssh/hutch-workers start "$work/hosts" 2>&1)" && fail "start without --connect: exit 0"
expect "usage error" "$out" "hutch-workers: error: start needs --connect"
echo "launcher: start, list, stop, restart, kill, stale pid, failed start and usage all as expected"
echo "launcher: 1 passed, 0 failed"
