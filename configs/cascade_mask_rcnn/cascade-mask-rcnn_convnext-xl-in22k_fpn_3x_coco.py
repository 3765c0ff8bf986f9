# ConvNeXt-XL Cascade Mask R-CNN, 3x, ImageNet-22k init (official: 55.2 box AP / 47.7 mask AP, 407M, 1898G); fp32 as published.
_base_ = [
    '../_base_/models/cascade-mask-rcnn_convnext-t_fpn_4conv1fc-giou.py',
    '../_base_/datasets/coco_instance_detr-aug.py',
    '../_base_/schedules/adamw-layer-decay_3x.py',
    '../_base_/det_runtime.py',
]
model = dict(
    backbone=dict(
        arch='xlarge',
        drop_path_rate=0.8,
        init_cfg=dict(type='Pretrained', checkpoint='https://dl.fbaipublicfiles.com/convnext/convnext_xlarge_22k_224.pth')),
    neck=dict(in_channels=[256, 512, 1024, 2048]))
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(lr=1e-4),
    paramwise_cfg=dict(decay_rate=0.7, decay_type='layer_wise', num_layers=12))
