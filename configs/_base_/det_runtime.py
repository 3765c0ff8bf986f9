# mmdet's runtime, plus the import that registers ConvNeXt and our hooks, and the hooks.
_base_ = 'mmdet::_base_/default_runtime.py'

default_scope = 'mmdet'
custom_imports = dict(imports=['convnext_dense'], allow_failed_imports=False)
# Checkpoints are written to a temporary file and renamed into place, so a killed run never
# leaves a truncated one under a checkpoint's name.
default_hooks = dict(checkpoint=dict(backend_args=dict(backend='atomic_local')))

# What every run of these configs does, whichever tool starts it (ours, mmengine's
# Runner.from_cfg, mmdet's / mmseg's tools/train.py and test.py): checkpoints that load with
# torch.load(weights_only=True) and carry the torch RNG state (exact resume), a NaN / inf loss
# stops the run before it reaches the weights (action='skip' skips the step instead), datasets
# and checkpoints are checked before use, and testing shows a progress bar.
custom_hooks = [
    dict(type='WeightsOnlyCheckpointHook'),
    dict(type='RngStateHook'),
    dict(type='NonFiniteLossHook', action='stop'),
    dict(type='PreflightHook'),
    dict(type='ProgressBarHook'),
]
