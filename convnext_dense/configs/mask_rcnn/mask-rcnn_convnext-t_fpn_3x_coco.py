# ConvNeXt-T Mask R-CNN, 3x, ImageNet-1k init (official: 46.2 box AP / 41.7 mask AP, 48M, 262G).
_base_ = [
    '../_base_/models/mask-rcnn_convnext-t_fpn.py',
    '../_base_/datasets/coco_instance_detr-aug.py',
    '../_base_/schedules/adamw-layer-decay_3x.py',
    '../_base_/det_runtime.py',
]
model = dict(backbone=dict(
    drop_path_rate=0.4,
    init_cfg=dict(type='Pretrained',
                  checkpoint='https://dl.fbaipublicfiles.com/convnext/convnext_tiny_1k_224.pth')))
optim_wrapper = dict(
    optimizer=dict(lr=1e-4),
    paramwise_cfg=dict(decay_rate=0.95, decay_type='layer_wise', num_layers=6))
# Published results of this recipe (official ConvNeXt README); tools/model_zoo.py lists them.
model_zoo = dict(
    backbone='ConvNeXt-T', pretrain='IN-1k', method='Mask R-CNN', schedule='3x (36 epochs)',
    box_ap=46.2, mask_ap=41.7, params='48M', flops='262G',
    checkpoint='https://dl.fbaipublicfiles.com/convnext/coco/mask_rcnn_convnext_tiny_1k_3x.pth')
