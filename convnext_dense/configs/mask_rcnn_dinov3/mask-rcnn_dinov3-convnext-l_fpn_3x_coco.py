# Mask R-CNN over DINOv3's ConvNeXt-L: the DINOv3-T recipe of this folder at size L,
# drop path 0.35 (half of V1-L Cascade's); weights as there (`dinov3_convnext_large_pretrain_lvd1689m-61fa432d.pth`).
_base_ = './mask-rcnn_dinov3-convnext-t_fpn_3x_coco.py'
model = dict(backbone=dict(arch='large', drop_path_rate=0.35, init_cfg=dict(checkpoint='checkpoints/dinov3_convnext_large_pretrain_lvd1689m-61fa432d.pth')),
             neck=dict(in_channels=[192, 384, 768, 1536]))
optim_wrapper = dict(paramwise_cfg=dict(num_layers=12))
model_zoo = dict(backbone='DINOv3 ConvNeXt-L')
