# UperNet over DINOv3's ConvNeXt-B, 160k, 512x512: the DINOv3-T recipe of this folder at size B,
# drop path 0.2 (half of V1-B's); weights as there (`dinov3_convnext_base_pretrain_lvd1689m-801f2ba9.pth`).
_base_ = './upernet_dinov3-convnext-t_8xb2-160k_ade20k-512x512.py'
model = dict(backbone=dict(arch='base', drop_path_rate=0.2, init_cfg=dict(checkpoint='checkpoints/dinov3_convnext_base_pretrain_lvd1689m-801f2ba9.pth')),
             decode_head=dict(in_channels=[128, 256, 512, 1024]), auxiliary_head=dict(in_channels=512))
optim_wrapper = dict(paramwise_cfg=dict(num_layers=12))
model_zoo = dict(backbone='DINOv3 ConvNeXt-B')
