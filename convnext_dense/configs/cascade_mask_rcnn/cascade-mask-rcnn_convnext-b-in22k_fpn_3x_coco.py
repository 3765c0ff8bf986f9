# ConvNeXt-B Cascade Mask R-CNN, 3x, ImageNet-22k init (official recipe).
_base_ = './cascade-mask-rcnn_convnext-b_fpn_3x_coco.py'
model = dict(backbone=dict(drop_path_rate=0.6, init_cfg=dict(checkpoint='https://dl.fbaipublicfiles.com/convnext/convnext_base_22k_224.pth')))
optim_wrapper = dict(optimizer=dict(lr=1e-4))
model_zoo = dict(pretrain='IN-22k', box_ap=54.0, mask_ap=46.9,
                 checkpoint='https://dl.fbaipublicfiles.com/convnext/coco/cascade_mask_rcnn_convnext_base_22k_3x.pth')
