# ConvNeXt-B Cascade Mask R-CNN, 3x, ImageNet-22k init (official: 54.0 box AP / 46.9 mask AP).
_base_ = [
    '../_base_/models/cascade-mask-rcnn_convnext-t_fpn_4conv1fc-giou.py',
    '../_base_/datasets/coco_instance_detr-aug.py',
    '../_base_/schedules/adamw-layer-decay_3x.py',
    '../_base_/det_runtime.py',
]
model = dict(
    backbone=dict(
        arch='base',
        drop_path_rate=0.6,
        init_cfg=dict(type='Pretrained', checkpoint='https://dl.fbaipublicfiles.com/convnext/convnext_base_22k_224.pth')),
    neck=dict(in_channels=[128, 256, 512, 1024]))
optim_wrapper = dict(
    type='AmpOptimWrapper',
    optimizer=dict(lr=1e-4),
    paramwise_cfg=dict(decay_rate=0.8, decay_type='layer_wise', num_layers=12))
