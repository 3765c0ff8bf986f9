# ConvNeXt-T Cascade Mask R-CNN, 3x, ImageNet-1k init (official: 50.4 box AP / 43.7 mask AP, 86M, 741G).
_base_ = [
    '../_base_/models/cascade-mask-rcnn_convnext-t_fpn_4conv1fc-giou.py',
    '../_base_/datasets/coco_instance_detr-aug.py',
    '../_base_/schedules/adamw-layer-decay_3x.py',
    '../_base_/det_runtime.py',
]
model = dict(
    backbone=dict(
        arch='tiny',
        drop_path_rate=0.4,
        init_cfg=dict(type='Pretrained', checkpoint='https://dl.fbaipublicfiles.com/convnext/convnext_tiny_1k_224.pth')),
    neck=dict(in_channels=[96, 192, 384, 768]))
optim_wrapper = dict(
    type='AmpOptimWrapper',
    optimizer=dict(lr=2e-4),
    paramwise_cfg=dict(decay_rate=0.7, decay_type='layer_wise', num_layers=6))
# Published results of this recipe (official ConvNeXt README); tools/model_zoo.py lists them.
model_zoo = dict(
    backbone='ConvNeXt-T', pretrain='IN-1k', method='Cascade Mask R-CNN', schedule='3x (36 epochs)',
    box_ap=50.4, mask_ap=43.7, params='86M', flops='741G',
    checkpoint='https://dl.fbaipublicfiles.com/convnext/coco/cascade_mask_rcnn_convnext_tiny_1k_3x.pth')
