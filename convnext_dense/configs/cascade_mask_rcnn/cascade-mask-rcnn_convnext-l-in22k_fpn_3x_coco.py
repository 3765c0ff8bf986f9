# ConvNeXt-L Cascade Mask R-CNN, 3x, ImageNet-22k init (official recipe); trained in fp32 as
# published.
_base_ = './cascade-mask-rcnn_convnext-b-in22k_fpn_3x_coco.py'
model = dict(backbone=dict(arch='large', drop_path_rate=0.7, init_cfg=dict(checkpoint='https://dl.fbaipublicfiles.com/convnext/convnext_large_22k_224.pth')),
             neck=dict(in_channels=[192, 384, 768, 1536]))
optim_wrapper = dict(type='OptimWrapper', paramwise_cfg=dict(decay_rate=0.7))
model_zoo = dict(backbone='ConvNeXt-L', box_ap=54.8, mask_ap=47.6, params='255M', flops='1354G',
                 checkpoint='https://dl.fbaipublicfiles.com/convnext/coco/cascade_mask_rcnn_convnext_large_22k_3x.pth')
