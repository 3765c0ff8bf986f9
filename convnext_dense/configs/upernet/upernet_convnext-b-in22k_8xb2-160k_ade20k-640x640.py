# ConvNeXt-B UperNet, 160k, 640x640 crops, ImageNet-22k init (official recipe: lr 1e-4,
# stage-wise decay 0.9 over 12 layer ids).
_base_ = [
    '../_base_/models/upernet_convnext-t.py',
    '../_base_/datasets/ade20k-640x640.py',
    '../_base_/schedules/adamw-stage-decay_160k.py',
    '../_base_/seg_runtime.py',
]
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    backbone=dict(arch='base', init_cfg=dict(checkpoint='https://dl.fbaipublicfiles.com/convnext/convnext_base_22k_224.pth')),
    decode_head=dict(in_channels=[128, 256, 512, 1024]), auxiliary_head=dict(in_channels=512),
    test_cfg=dict(mode='slide', crop_size=_base_.crop_size, stride=(426, 426)))
optim_wrapper = dict(paramwise_cfg=dict(num_layers=12))
# Published results of this recipe (official ConvNeXt README); `convnext-dense model-zoo` lists
# them. Larger sizes state only what differs.
model_zoo = dict(
    backbone='ConvNeXt-B', pretrain='IN-22k', method='UperNet', schedule='160k, 640x640',
    miou=(52.6, 53.1), params='122M', flops='1828G',
    checkpoint='https://dl.fbaipublicfiles.com/convnext/ade20k/upernet_convnext_base_22k_640x640.pth')
