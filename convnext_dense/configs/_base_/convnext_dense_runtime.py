# What every run of our configs does, whichever tool starts it (ours, mmdet's / mmseg's
# tools/train.py and test.py, mmengine's RUNNERS.build; the stock Runner.from_cfg skips only
# runner_type): the import that registers ConvNeXt, our hooks and SafeLoadingRunner; every
# checkpoint read without running code from it (trust_checkpoint=True, or --trust-checkpoint, is
# the explicit opt-in to full unpickling); checkpoints that load with
# torch.load(weights_only=True) and carry the torch RNG state (exact resume); a NaN / inf loss
# never reaches the weights: without loss scaling the run stops ('skip' skips the step instead),
# under a dynamic loss scale (AMP) the scaler skips the step and the run stops only if that
# persists (NonFiniteLossHook action='auto'); datasets and checkpoints are checked before use; one
# training per work dir (a lock; temporary files of killed writes removed); SIGTERM / SIGINT stop
# after the current step with a checkpoint; a run resumed at its end runs the validation it
# missed; and testing shows a progress bar.
# Each rank draws its own random numbers (stochastic depth, RoI sampling): seed + rank, as the
# official ConvNeXt code and timm seed them; mmengine's default gives every rank rank 0's.
randomness = dict(seed=None, diff_rank_seed=True)
custom_imports = dict(imports=['convnext_dense'], allow_failed_imports=False)
runner_type = 'SafeLoadingRunner'
trust_checkpoint = False

custom_hooks = [
    dict(type='WeightsOnlyCheckpointHook'),
    dict(type='RngStateHook'),
    dict(type='NonFiniteLossHook', action='auto'),
    dict(type='PreflightHook'),
    dict(type='ProgressBarHook'),
    dict(type='WorkDirLockHook'),
    dict(type='StopOnSignalHook'),
    dict(type='ResumedValidationHook'),
]
