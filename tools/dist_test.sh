#!/usr/bin/env bash
# Distributed test over torchrun: tools/dist_test.sh CONFIG CHECKPOINT NGPUS [args for convnext-dense test]
# Without CUDA it runs NGPUS CPU processes with gloo. NNODES, NODE_RANK, MASTER_ADDR, PORT
# and PYTHON may be set in the environment.
set -euo pipefail
CONFIG=$1
CHECKPOINT=$2
NGPUS=$3
shift 3
PYTHON=${PYTHON:-$(command -v python || command -v python3)}
exec "$PYTHON" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" --master_port="${PORT:-29500}" \
    --nproc_per_node="$NGPUS" \
    -m convnext_dense test "$CONFIG" "$CHECKPOINT" --launcher pytorch "$@"
