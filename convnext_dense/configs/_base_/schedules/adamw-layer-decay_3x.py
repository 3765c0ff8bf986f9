# The ConvNeXt detection schedule: AdamW (0.9, 0.999), weight decay 0.05, layer-wise lr decay,
# 36 epochs with the lr divided by 10 after epochs 27 and 33, 500 iterations of linear warm-up
# from 1e-3 of the lr, mixed precision. Paper configs set lr, decay_rate and num_layers.
max_epochs = 36
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[27, 33],
         gamma=0.1),
]

optim_wrapper = dict(
    type='AmpOptimWrapper',
    constructor='ConvNeXtLayerDecayOptimizerConstructor',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(decay_rate=0.95, decay_type='layer_wise', num_layers=6))

# The published lrs are for 16 images per iteration; `tools/train.py --auto-scale-lr` rescales.
auto_scale_lr = dict(enable=False, base_batch_size=16)
