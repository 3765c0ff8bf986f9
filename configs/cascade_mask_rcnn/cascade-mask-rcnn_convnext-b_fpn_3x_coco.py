# ConvNeXt-B Cascade Mask R-CNN, 3x, ImageNet-1k init (official: 52.7 box AP / 45.6 mask AP, 146M, 964G).
_base_ = [
    '../_base_/models/cascade-mask-rcnn_convnext-t_fpn_4conv1fc-giou.py',
    '../_base_/datasets/coco_instance_detr-aug.py',
    '../_base_/schedules/adamw-layer-decay_3x.py',
    '../_base_/det_runtime.py',
]
model = dict(
    backbone=dict(
        arch='base',
        drop_path_rate=0.7,
        init_cfg=dict(type='Pretrained', checkpoint='https://dl.fbaipublicfiles.com/convnext/convnext_base_1k_224.pth')),
    neck=dict(in_channels=[128, 256, 512, 1024]))
optim_wrapper = dict(
    type='AmpOptimWrapper',
    optimizer=dict(lr=2e-4),
    paramwise_cfg=dict(decay_rate=0.8, decay_type='layer_wise', num_layers=12))
