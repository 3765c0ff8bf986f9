# ConvNeXt-XL Cascade Mask R-CNN, 3x, ImageNet-22k init (official: 55.2 box AP / 47.7 mask AP,
# 407M, 1898G); trained in fp32 as published.
_base_ = './cascade-mask-rcnn_convnext-l-in22k_fpn_3x_coco.py'
model = dict(
    backbone=dict(arch='xlarge', drop_path_rate=0.8,
                  init_cfg=dict(checkpoint='https://dl.fbaipublicfiles.com/convnext/convnext_xlarge_22k_224.pth')),
    neck=dict(in_channels=[256, 512, 1024, 2048]))
# Published results of this recipe (official ConvNeXt README); tools/model_zoo.py lists them.
model_zoo = dict(
    backbone='ConvNeXt-XL', pretrain='IN-22k', method='Cascade Mask R-CNN', schedule='3x (36 epochs)',
    box_ap=55.2, mask_ap=47.7, params='407M', flops='1898G',
    checkpoint='https://dl.fbaipublicfiles.com/convnext/coco/cascade_mask_rcnn_convnext_xlarge_22k_3x.pth')
