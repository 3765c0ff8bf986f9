#!/usr/bin/env bash
# Distributed train over torchrun: tools/dist_train.sh CONFIG NGPUS [args for convnext-dense train]
# Without CUDA it runs NGPUS CPU processes with gloo. NNODES, NODE_RANK, MASTER_ADDR, PORT
# and PYTHON may be set in the environment.
# Stopped by SIGTERM / SIGINT to its process group (a scheduler, Ctrl-C), every rank checkpoints
# the same iteration and the script exits 143 / 130, as convnext-dense train does; torchrun's own
# status for that (1, after its SignalException traceback) is not what schedulers look for.
set -euo pipefail
CONFIG=$1
NGPUS=$2
shift 2
PYTHON=${PYTHON:-$(command -v python || command -v python3)}
stopped_by=
trap 'stopped_by=143' TERM
trap 'stopped_by=130' INT
status=0
"$PYTHON" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" --master_port="${PORT:-29500}" \
    --nproc_per_node="$NGPUS" \
    -m convnext_dense train "$CONFIG" --launcher pytorch "$@" || status=$?
if [ -n "$stopped_by" ] && [ "$status" -ne 0 ]; then
    exit "$stopped_by"
fi
exit "$status"
