# Sourced by the scripts that run hutch on exported torchvision models (zoo/, cluster/,
# accuracy/): from the repository root, with the fixtures' virtualenv and a release hutch.
#   PY      the virtualenv's python (PYTHON overrides)
#   OUT     where exports are kept and reused (the script's first argument, default /tmp/hutch-zoo)
#   HUTCH   the release binary, built if missing (HUTCH=PATH runs another build, e.g. main's, for a before/after pair)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${PYTHON:-/root/hutch-venv/bin/python}
OUT=${1:-/tmp/hutch-zoo}
HUTCH=${HUTCH:-.build/release/hutch}
[ -x "$HUTCH" ] || swift build -c release --product hutch
