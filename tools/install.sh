#!/usr/bin/env bash
# Creates .venv with everything mmproseco needs, from PyPI only. The Makefile then
# installs mmproseco itself non-editably (``mim train`` needs a real site-packages/mmproseco).
# Safe to rerun: each step is skipped when already satisfied. The one slow step is the
# mmcv 2.1.0 build (~16 min on 2 cores); pip caches the built wheel for later venvs.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PY=${PYTHON:-python3}
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
pip() { "$VENV/bin/python" -m pip --disable-pip-version-check "$@" -c requirements/constraints.txt; }
export PIP_PROGRESS_BAR=off
pip install -q -r requirements/build.txt
pip install -q -r requirements/runtime.txt
pip install -q --no-deps mmengine==0.10.7
if ! "$VENV/bin/python" -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '2.1.0'" 2>/dev/null; then
  echo "Building mmcv 2.1.0 with its ops (first time ~16 min on 2 cores; cached afterwards)"
  # --no-deps: its metadata asks for opencv-python, which would shadow the contrib build.
  MMCV_WITH_OPS=1 pip install --no-build-isolation --no-deps mmcv==2.1.0
fi
pip install -q -r requirements/mmdet.txt
pip install -q --no-deps openmim==0.3.9
pip install -q -r requirements/lint.txt
# A stray opencv-python would shadow cv2.ximgproc (Selective Search).
"$VENV/bin/python" -m pip uninstall -q -y opencv-python opencv-python-headless 2>/dev/null || true
"$VENV/bin/python" -c "import cv2; cv2.ximgproc.segmentation" 2>/dev/null || \
  pip install -q --force-reinstall --no-deps opencv-contrib-python==4.11.0.86
"$VENV/bin/python" -c "import mmdet.models, mmcv.ops, cv2.ximgproc; print('dependencies ready in $VENV')"
