# Cascade Mask R-CNN over DINOv3's ConvNeXt-B: the DINOv3-T recipe of this folder at size B,
# drop path 0.35 (half of V1-B's); weights as there (`dinov3_convnext_base_pretrain_lvd1689m-801f2ba9.pth`).
_base_ = './cascade-mask-rcnn_dinov3-convnext-t_fpn_3x_coco.py'
model = dict(backbone=dict(arch='base', drop_path_rate=0.35, init_cfg=dict(checkpoint='checkpoints/dinov3_convnext_base_pretrain_lvd1689m-801f2ba9.pth')),
             neck=dict(in_channels=[128, 256, 512, 1024]))
optim_wrapper = dict(paramwise_cfg=dict(num_layers=12))
model_zoo = dict(backbone='DINOv3 ConvNeXt-B')
