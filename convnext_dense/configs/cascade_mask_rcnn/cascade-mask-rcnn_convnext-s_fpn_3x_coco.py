# ConvNeXt-S Cascade Mask R-CNN, 3x, ImageNet-1k init (official recipe).
_base_ = './cascade-mask-rcnn_convnext-t_fpn_3x_coco.py'
model = dict(backbone=dict(arch='small', drop_path_rate=0.6, init_cfg=dict(checkpoint='https://dl.fbaipublicfiles.com/convnext/convnext_small_1k_224.pth')))
optim_wrapper = dict(paramwise_cfg=dict(num_layers=12))
model_zoo = dict(backbone='ConvNeXt-S', box_ap=51.9, mask_ap=45.0, params='108M', flops='827G',
                 checkpoint='https://dl.fbaipublicfiles.com/convnext/coco/cascade_mask_rcnn_convnext_small_1k_3x.pth')
