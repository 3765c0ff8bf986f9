# ConvNeXt-T Mask R-CNN, 3x, ImageNet-1k init: the official recipe (lr 1e-4, layer decay 0.95
# over 6 layer ids: the schedule base's values); `model_zoo` holds its published results.
_base_ = [
    '../_base_/models/mask-rcnn_convnext-t_fpn.py',
    '../_base_/datasets/coco_instance_detr-aug.py',
    '../_base_/schedules/adamw-layer-decay_3x.py',
    '../_base_/det_runtime.py',
]
# Published results of this recipe (official ConvNeXt README); `convnext-dense model-zoo` lists
# them.
model_zoo = dict(
    backbone='ConvNeXt-T', pretrain='IN-1k', method='Mask R-CNN', schedule='3x (36 epochs)',
    box_ap=46.2, mask_ap=41.7, params='48M', flops='262G',
    checkpoint='https://dl.fbaipublicfiles.com/convnext/coco/mask_rcnn_convnext_tiny_1k_3x.pth')
