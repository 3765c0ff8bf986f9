# The ConvNeXt ADE20K schedule: AdamW (0.9, 0.999), weight decay 0.05, stage-wise lr decay 0.9,
# 160k iterations: linear warm-up over 1500 iterations from 1e-6 of the lr, then poly (power 1)
# to 0; mixed precision. Paper configs set lr and num_layers.
_base_ = 'mmseg::_base_/schedules/schedule_160k.py'

# Checkpoints are written to a temporary file and renamed into place (mmseg's schedules hold
# default_hooks), so a killed run never leaves a truncated one under a checkpoint's name.
default_hooks = dict(checkpoint=dict(backend_args=dict(backend='atomic_local')))

optim_wrapper = dict(
    _delete_=True,
    type='AmpOptimWrapper',
    constructor='ConvNeXtLayerDecayOptimizerConstructor',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(decay_rate=0.9, decay_type='stage_wise', num_layers=6))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=False, begin=1500, end=160000),
]
