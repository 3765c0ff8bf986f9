# ConvNeXt-T UperNet, 160k, ImageNet-1k init (official mIoU: 46.0 single-scale / 46.7 ms+flip; 60M, 939G).
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
        arch='tiny',
        drop_path_rate=0.4,
        init_cfg=dict(type='Pretrained', checkpoint='https://dl.fbaipublicfiles.com/convnext/convnext_tiny_1k_224.pth')),
    decode_head=dict(in_channels=[96, 192, 384, 768]),
    auxiliary_head=dict(in_channels=384),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(341, 341)))
optim_wrapper = dict(
    type='AmpOptimWrapper',
    optimizer=dict(lr=1e-4),
    paramwise_cfg=dict(decay_rate=0.9, decay_type='stage_wise', num_layers=6))
# Published results of this recipe (official ConvNeXt README); tools/model_zoo.py lists them.
model_zoo = dict(
    backbone='ConvNeXt-T', pretrain='IN-1k', method='UperNet', schedule='160k, 512x512',
    miou=(46.0, 46.7), params='60M', flops='939G',
    checkpoint='https://dl.fbaipublicfiles.com/convnext/ade20k/upernet_convnext_tiny_1k_512x512.pth')
