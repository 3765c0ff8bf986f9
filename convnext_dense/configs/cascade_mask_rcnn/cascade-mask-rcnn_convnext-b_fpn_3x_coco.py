# ConvNeXt-B Cascade Mask R-CNN, 3x, ImageNet-1k init (official recipe).
_base_ = './cascade-mask-rcnn_convnext-t_fpn_3x_coco.py'
model = dict(backbone=dict(arch='base', drop_path_rate=0.7, init_cfg=dict(checkpoint='https://dl.fbaipublicfiles.com/convnext/convnext_base_1k_224.pth')),
             neck=dict(in_channels=[128, 256, 512, 1024]))
optim_wrapper = dict(paramwise_cfg=dict(decay_rate=0.8, num_layers=12))
model_zoo = dict(backbone='ConvNeXt-B', box_ap=52.7, mask_ap=45.6, params='146M', flops='964G',
                 checkpoint='https://dl.fbaipublicfiles.com/convnext/coco/cascade_mask_rcnn_convnext_base_1k_3x.pth')
