#!/usr/bin/env bash
# Build the folder of wheels that installs cnntui offline on a GPU box that already has
# JAX or PyTorch with CUDA (so numpy, jax/torch and CUDA are left out) and no TensorFlow:
#
#   scripts/build_gpu_wheels.sh [WHEELS_DIR] [PYTHON_VERSION]   # default: wheels/ 3.11
#   # carry WHEELS_DIR (it holds gpu_check.py too) to the box, then there:
#   python -m pip install --no-index --no-deps WHEELS_DIR/*.whl
#   KERAS_BACKEND=jax python WHEELS_DIR/gpu_check.py
#
# --no-deps because cnntui's declared dependencies name tensorflow (its default backend).
# Left out, as the JAX/PyTorch box has them: numpy, jax/jaxlib, torch, CUDA, and scipy
# (a JAX requirement; only `cnntui data doctor` needs it, through imagehash). The total
# must stay under 60 MB; the script fails if it does not.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-wheels}"
PY="${2:-3.11}"
LIMIT_MB=60
# cnntui's run-time requirements minus TensorFlow, with what they bring that a JAX or
# PyTorch box may lack (keras and its own requirements included).
DEPS=(
  keras absl-py namex h5py optree ml-dtypes packaging
  textual textual-plotext plotext markdown-it-py mdit-py-plugins mdurl linkify-it-py
  uc-micro-py platformdirs pygments typing-extensions
  typer rich shellingham annotated-doc pydantic pydantic-core annotated-types
  typing-inspection pillow imagehash PyWavelets
)
# The versions this environment runs (and tests) where it has them, else the newest.
mapfile -t PINNED < <(python3 - "${DEPS[@]}" <<'PY'
import sys
from importlib import metadata
for name in sys.argv[1:]:
    try:
        print(f"{name}=={metadata.version(name)}")
    except metadata.PackageNotFoundError:
        print(name)
PY
)
rm -rf "$OUT" && mkdir -p "$OUT"
python3 -m pip wheel --quiet --no-deps --no-build-isolation -w "$OUT" .
python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$OUT" \
  --python-version "$PY" --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform any \
  "${PINNED[@]}"
cp bench/gpu_check.py "$OUT/"
total=$(du -sm "$OUT" | cut -f1)
ls -1 "$OUT"
echo "$(ls "$OUT"/*.whl | wc -l) wheels + gpu_check.py, ${total} MB in $OUT (limit ${LIMIT_MB} MB)"
if [ "$total" -gt "$LIMIT_MB" ]; then
  echo "error: $OUT is ${total} MB, over ${LIMIT_MB} MB" >&2
  exit 1
fi
