# ConvNeXt-L UperNet, 640 crops, 160k, ImageNet-22k init (official mIoU: 53.2 / 53.7 ms+flip; 235M, 2458G); fp32 as published.
_base_ = [
    '../_base_/models/upernet_convnext-t.py',
    '../_base_/datasets/ade20k-640x640.py',
    '../_base_/schedules/adamw-stage-decay_160k.py',
    '../_base_/seg_runtime.py',
]
crop_size = (640, 640)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        arch='large',
        drop_path_rate=0.4,
        init_cfg=dict(type='Pretrained', checkpoint='https://dl.fbaipublicfiles.com/convnext/convnext_large_22k_224.pth')),
    decode_head=dict(in_channels=[192, 384, 768, 1536]),
    auxiliary_head=dict(in_channels=768),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(426, 426)))
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(lr=1e-4),
    paramwise_cfg=dict(decay_rate=0.9, decay_type='stage_wise', num_layers=12))
