# A short iteration-based schedule for the toy demos, trained from scratch on CPU: AdamW, linear
# warm-up, cosine decay to max_iters, 4 evaluations (the last at the end), so the metric curves
# show the learning. From scratch every layer needs the full lr, so the layer-decay constructor
# runs with decay_rate 1.0 (it still keeps weight decay off norms, biases and layer scales);
# pretrained fine-tuning is where decay < 1 pays.
# Other lengths: --cfg-options train_cfg.max_iters=N train_cfg.val_interval=M param_scheduler.1.end=N
max_iters = 400
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters // 4)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=50, end=max_iters, eta_min_ratio=0.01),
]
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='ConvNeXtLayerDecayOptimizerConstructor',
    optimizer=dict(type='AdamW', lr=2e-3, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(decay_rate=1.0, decay_type='layer_wise', num_layers=6),
    clip_grad=dict(max_norm=10.0))
