# UperNet over DINOv3's ConvNeXt-S, 160k, 512x512: the DINOv3-T recipe of this folder at size S,
# drop path 0.15 (half of V1-S's); weights as there (`dinov3_convnext_small_pretrain_lvd1689m-296db49d.pth`).
_base_ = './upernet_dinov3-convnext-t_8xb2-160k_ade20k-512x512.py'
model = dict(backbone=dict(arch='small', drop_path_rate=0.15, init_cfg=dict(checkpoint='checkpoints/dinov3_convnext_small_pretrain_lvd1689m-296db49d.pth')))
optim_wrapper = dict(paramwise_cfg=dict(num_layers=12))
model_zoo = dict(backbone='DINOv3 ConvNeXt-S')
