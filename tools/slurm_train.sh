#!/usr/bin/env bash
# Train under Slurm (the form of mmdet's / mmseg's script):
#   [GPUS=16] [GPUS_PER_NODE=8] tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [args]
# [args] go to convnext-dense train; GPUS, GPUS_PER_NODE, CPUS_PER_TASK, SRUN_ARGS and PYTHON: see
# slurm_run.sh. One task per GPU; srun signals every task on preemption or scancel, and every
# rank then checkpoints the same iteration and exits 143: submit with sbatch --requeue and pass
# --resume, and a requeued job continues (docs/reliability.md, "Many GPUs and nodes").
set -euo pipefail
exec "$(dirname "$0")/slurm_run.sh" "$1" "$2" train "$3" --work-dir="$4" "${@:5}"
