# ConvNeXt-XL Cascade Mask R-CNN, 3x, ImageNet-22k init (official recipe); trained in fp32 as
# published.
_base_ = './cascade-mask-rcnn_convnext-l-in22k_fpn_3x_coco.py'
model = dict(backbone=dict(arch='xlarge', drop_path_rate=0.8, init_cfg=dict(checkpoint='https://dl.fbaipublicfiles.com/convnext/convnext_xlarge_22k_224.pth')),
             neck=dict(in_channels=[256, 512, 1024, 2048]))
model_zoo = dict(backbone='ConvNeXt-XL', box_ap=55.2, mask_ap=47.7, params='407M', flops='1898G',
                 checkpoint='https://dl.fbaipublicfiles.com/convnext/coco/cascade_mask_rcnn_convnext_xlarge_22k_3x.pth')
