# ConvNeXt-L Cascade Mask R-CNN, 3x, ImageNet-22k init (official: 54.8 box AP / 47.6 mask AP, 255M, 1354G); fp32 as published.
_base_ = [
    '../_base_/models/cascade-mask-rcnn_convnext-t_fpn_4conv1fc-giou.py',
    '../_base_/datasets/coco_instance_detr-aug.py',
    '../_base_/schedules/adamw-layer-decay_3x.py',
    '../_base_/det_runtime.py',
]
model = dict(
    backbone=dict(
        arch='large',
        drop_path_rate=0.7,
        init_cfg=dict(type='Pretrained', checkpoint='https://dl.fbaipublicfiles.com/convnext/convnext_large_22k_224.pth')),
    neck=dict(in_channels=[192, 384, 768, 1536]))
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(lr=1e-4),
    paramwise_cfg=dict(decay_rate=0.7, decay_type='layer_wise', num_layers=12))
