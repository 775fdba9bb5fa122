#!/usr/bin/env bash
# Offline checks of Deploy/: no cluster, no network, no root needed.
#   bash -n       every shell script (the ssh launcher, the sbatch script, these tests), and
#                 ShellCheck at warning level when installed (make deps installs it)
#   YAML          every Kubernetes manifest parses (python3-yaml) and is namespace-agnostic
#   systemd       `systemd-analyze verify` of both units (the binary path swapped for /bin/true)
#   Docker        the runtime stage's four packages provide every library the built hutch links
#                 (ldd + dpkg -S + apt-cache depends), Swift's own runtime aside (static there)
# A check whose tool is missing is reported as SKIPPED, not passed. HUTCH=path/to/hutch for Docker.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
failed=0 passed=0 skipped=0
ok() { echo "lint: ok      $*"; passed=$((passed + 1)); }
bad() { echo "lint: FAILED  $*"; failed=$((failed + 1)); }
skip() { echo "lint: SKIPPED $*"; skipped=$((skipped + 1)); }

# --- shell ------------------------------------------------------------------------------------
for f in Deploy/ssh/hutch-workers Deploy/slurm/hutch.sbatch Deploy/test/*.sh; do
    if out="$(bash -n "$f" 2>&1)"; then ok "bash -n $f"; else bad "bash -n $f: $out"; fi
done
if command -v shellcheck > /dev/null; then
    if out="$(shellcheck -S warning Deploy/ssh/hutch-workers Deploy/slurm/hutch.sbatch Deploy/test/*.sh 2>&1)"; then ok "shellcheck"
    else bad "shellcheck: $out"; fi
fi
if [[ "$(Deploy/ssh/hutch-workers --help)" == *"start, stop and list"* ]]; then ok "hutch-workers --help"
else bad "hutch-workers --help prints no usage"; fi

# --- Kubernetes -------------------------------------------------------------------------------
python=/usr/bin/python3
if [[ -x "$python" ]] && "$python" -c "import yaml" 2>/dev/null; then
    for f in Deploy/k8s/*.yaml; do
        if out="$("$python" - "$f" <<'EOF' 2>&1
import sys, yaml
path = sys.argv[1]
docs = [d for d in yaml.safe_load_all(open(path)) if d is not None]
assert docs, "no document"
for d in docs:
    if "resources" in d and "apiVersion" not in d:  # kustomization.yaml
        for r in d["resources"]:
            open("Deploy/k8s/" + r).close()
        continue
    for key in ("apiVersion", "kind", "metadata"):
        assert key in d, f"a document has no {key}"
    assert "name" in d["metadata"], f"{d['kind']} has no metadata.name"
    assert "namespace" not in d["metadata"], f"{d['kind']} {d['metadata']['name']} names a namespace"
    spec = d.get("spec", {})
    pod = spec.get("template", {}).get("spec")
    for c in (pod or {}).get("containers", []):
        assert c.get("resources", {}).get("requests"), f"container {c['name']} has no resource requests"
EOF
)"; then ok "YAML $f"; else bad "YAML $f: ${out##*$'\n'}"; fi
    done
else
    skip "YAML parse of Deploy/k8s (no python3-yaml: apt-get install python3-yaml)"
fi

# --- systemd ----------------------------------------------------------------------------------
if command -v systemd-analyze > /dev/null; then
    tmp="$(mktemp -d)"
    cp Deploy/systemd/hutch-coordinator.service "$tmp/"
    cp Deploy/systemd/hutch-worker@.service "$tmp/hutch-worker@lint.service"
    sed -i 's|/usr/local/bin/hutch|/bin/true|' "$tmp"/*.service
    # verify exits 0 on unknown keys and bad values: any message is a failure
    out="$(systemd-analyze verify "$tmp/hutch-coordinator.service" "$tmp/hutch-worker@lint.service" 2>&1)"
    if [[ -z "$out" ]]; then ok "systemd-analyze verify Deploy/systemd"; else bad "systemd-analyze verify: $out"; fi
    rm -rf "$tmp"
else
    skip "systemd-analyze verify (no systemd-analyze)"
fi

# --- Docker runtime libraries -----------------------------------------------------------------
hutch="${HUTCH:-.build/release/hutch}"
runtime="$(sed -n '/^FROM debian/,$p' Deploy/docker/Dockerfile | grep -oE 'lib[a-z0-9.+-]+|zlib1g' | grep -v '^lib/' | sort -u | tr '\n' ' ')"
if [[ ! -x "$hutch" ]]; then
    skip "Docker runtime libraries (no built hutch at $hutch)"
elif ! closure="$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
        --no-replaces --no-enhances $runtime libc6 2>/dev/null | grep -v '^[ <]' | sort -u)" || [[ -z "$closure" ]]; then
    skip "Docker runtime libraries (apt-cache knows no packages: run apt-get update)"
else
    missing=""
    for lib in $(ldd "$hutch" | awk '/=> \//{print $3}' | grep -v '/swift/'); do
        pkg="$(dpkg -S "$lib" 2>/dev/null || dpkg -S "$(realpath "$lib")" 2>/dev/null || dpkg -S "/usr$lib" 2>/dev/null)"
        pkg="${pkg%%:*}"
        grep -qx -- "$pkg" <<< "$closure" || missing="$missing $lib(${pkg:-no package})"
    done
    if [[ -z "$missing" ]]; then ok "Docker runtime stage ($runtime) provides every library hutch links"
    else bad "Docker runtime stage ($runtime) lacks:$missing"; fi
fi

echo "lint: $passed passed, $failed failed, $skipped skipped"
((failed == 0))
