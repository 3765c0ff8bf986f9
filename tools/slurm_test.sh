#!/usr/bin/env bash
# Test under Slurm (the form of mmdet's / mmseg's script):
#   [GPUS=8] tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [args for convnext-dense test]
# GPUS, GPUS_PER_NODE, CPUS_PER_TASK, SRUN_ARGS and PYTHON: see slurm_run.sh.
set -euo pipefail
exec "$(dirname "$0")/slurm_run.sh" "$1" "$2" test "$3" "$4" "${@:5}"
