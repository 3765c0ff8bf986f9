# Mask R-CNN over DINOv3's ConvNeXt-S: the DINOv3-T recipe of this folder at size S,
# drop path 0.3 (half of V1-S Cascade's); weights as there (`dinov3_convnext_small_pretrain_lvd1689m-296db49d.pth`).
_base_ = './mask-rcnn_dinov3-convnext-t_fpn_3x_coco.py'
model = dict(backbone=dict(arch='small', drop_path_rate=0.3, init_cfg=dict(checkpoint='checkpoints/dinov3_convnext_small_pretrain_lvd1689m-296db49d.pth')))
optim_wrapper = dict(paramwise_cfg=dict(num_layers=12))
model_zoo = dict(backbone='DINOv3 ConvNeXt-S')
