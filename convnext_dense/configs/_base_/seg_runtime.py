# mmseg's runtime with what every run of our configs does (convnext_dense_runtime.py). mmseg
# keeps default_hooks in its schedules, so our schedules set the atomic checkpoint writes.
_base_ = ['mmseg::_base_/default_runtime.py', './convnext_dense_runtime.py']

default_scope = 'mmseg'
# TF32 for float32 matmuls and convolutions on Ampere and later GPUs (False: full float32),
# applied by SafeLoadingRunner (convnext_dense/engine/precision.py); merged into mmseg's env_cfg.
env_cfg = dict(tf32=True)
