#!/usr/bin/env bash
# One srun step of a convnext-dense command, one task per GPU, as slurm_train.sh and
# slurm_test.sh run it: tools/slurm_run.sh PARTITION JOB_NAME COMMAND [args]
# GPUS (default 8), GPUS_PER_NODE (8, or GPUS if fewer), CPUS_PER_TASK (5), SRUN_ARGS (more srun
# options, e.g. "--quotatype=auto") and PYTHON may be set in the environment.
set -euo pipefail
PARTITION=$1
JOB_NAME=$2
COMMAND=$3
shift 3
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-$(( GPUS < 8 ? GPUS : 8 ))}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-}
PYTHON=${PYTHON:-python}
# shellcheck disable=SC2086  # SRUN_ARGS holds several options
exec srun -p "$PARTITION" --job-name="$JOB_NAME" --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" --ntasks-per-node="$GPUS_PER_NODE" --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 $SRUN_ARGS \
    "$PYTHON" -u -m convnext_dense "$COMMAND" "$@" --launcher=slurm
