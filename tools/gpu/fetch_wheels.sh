#!/usr/bin/env bash
# On this machine (network): the wheels the GPU machine lacks, for its Python 3.12, into .whl/
# (ignored by git, carried to the device with carry=[".whl"]). Its image has torch,
# torchvision, timm, numpy, scipy, matplotlib, opencv, rich, pyyaml, einops and onnx(runtime);
# the OpenMMLab stack and what only it needs are here, one version each, without dependencies.
set -euo pipefail
cd "$(dirname "$0")/../.."
EXCLUDE=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$EXCLUDE")"
grep -qx '/.whl/' "$EXCLUDE" 2>/dev/null || echo '/.whl/' >> "$EXCLUDE"
PYTHON=${PYTHON:-.venv/bin/python}
WHEELS=(mmengine==0.10.7 mmcv-lite==2.1.0 mmdet==3.3.0 mmsegmentation==1.2.2 mmpretrain==1.2.0
        pycocotools==2.0.11 shapely==2.2.0 addict==2.4.0 yapf==0.43.0 platformdirs==4.3.8
        termcolor==3.1.0 terminaltables==3.1.10 prettytable==3.16.0 wcwidth==0.2.13
        ftfy==6.3.1 mat4py==0.6.0 modelindex==0.0.2 ordered-set==4.1.0
        importlib-metadata==8.7.0)
"$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_24_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform manylinux1_x86_64 -d .whl "${WHEELS[@]}"
ls .whl
