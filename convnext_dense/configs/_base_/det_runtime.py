# mmdet's runtime with what every run of our configs does (convnext_dense_runtime.py).
_base_ = ['mmdet::_base_/default_runtime.py', './convnext_dense_runtime.py']

default_scope = 'mmdet'
# Checkpoints are written to a temporary file and renamed into place, so a killed run never
# leaves a truncated one under a checkpoint's name.
default_hooks = dict(checkpoint=dict(backend_args=dict(backend='atomic_local')))
# TF32 for float32 matmuls and convolutions on Ampere and later GPUs (False: full float32),
# applied by SafeLoadingRunner (convnext_dense/engine/precision.py); merged into mmdet's env_cfg.
env_cfg = dict(tf32=True)
