# mmseg's runtime, plus the import that registers ConvNeXt and our hooks, and the hooks. (mmseg
# keeps default_hooks in its schedules, so our schedules set the atomic checkpoint writes.)
_base_ = 'mmseg::_base_/default_runtime.py'

default_scope = 'mmseg'
custom_imports = dict(imports=['convnext_dense'], allow_failed_imports=False)

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
