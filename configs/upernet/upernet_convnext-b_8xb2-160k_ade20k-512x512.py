# ConvNeXt-B UperNet, 160k, ImageNet-1k init (official mIoU: 49.1 / 49.9 ms+flip; 122M, 1170G).
_base_ = [
    '../_base_/models/upernet_convnext-t.py',
    '../_base_/datasets/ade20k-512x512.py',
    '../_base_/schedules/adamw-stage-decay_160k.py',
    '../_base_/seg_runtime.py',
]
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        arch='base',
        drop_path_rate=0.4,
        init_cfg=dict(type='Pretrained', checkpoint='https://dl.fbaipublicfiles.com/convnext/convnext_base_1k_224.pth')),
    decode_head=dict(in_channels=[128, 256, 512, 1024]),
    auxiliary_head=dict(in_channels=512),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(341, 341)))
optim_wrapper = dict(
    type='AmpOptimWrapper',
    optimizer=dict(lr=1e-4),
    paramwise_cfg=dict(decay_rate=0.9, decay_type='stage_wise', num_layers=12))
