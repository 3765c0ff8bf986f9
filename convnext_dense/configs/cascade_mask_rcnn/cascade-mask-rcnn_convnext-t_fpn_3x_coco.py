# ConvNeXt-T Cascade Mask R-CNN, 3x, ImageNet-1k init: the official recipe; `model_zoo` holds
# its published results.
_base_ = [
    '../_base_/models/cascade-mask-rcnn_convnext-t_fpn_4conv1fc-giou.py',
    '../_base_/datasets/coco_instance_detr-aug.py',
    '../_base_/schedules/adamw-layer-decay_3x.py',
    '../_base_/det_runtime.py',
]
optim_wrapper = dict(optimizer=dict(lr=2e-4), paramwise_cfg=dict(decay_rate=0.7))
# Published results of this recipe (official ConvNeXt README); `convnext-dense model-zoo` lists
# them. Larger sizes state only what differs.
model_zoo = dict(
    backbone='ConvNeXt-T', pretrain='IN-1k', method='Cascade Mask R-CNN', schedule='3x (36 epochs)',
    box_ap=50.4, mask_ap=43.7, params='86M', flops='741G',
    checkpoint='https://dl.fbaipublicfiles.com/convnext/coco/cascade_mask_rcnn_convnext_tiny_1k_3x.pth')
