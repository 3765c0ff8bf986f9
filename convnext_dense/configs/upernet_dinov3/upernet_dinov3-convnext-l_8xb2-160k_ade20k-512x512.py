# UperNet over DINOv3's ConvNeXt-L, 160k, 512x512: the DINOv3-T recipe of this folder at size L,
# drop path 0.2 (half of V1-L's); weights as there (`dinov3_convnext_large_pretrain_lvd1689m-61fa432d.pth`).
_base_ = './upernet_dinov3-convnext-t_8xb2-160k_ade20k-512x512.py'
model = dict(backbone=dict(arch='large', drop_path_rate=0.2, init_cfg=dict(checkpoint='checkpoints/dinov3_convnext_large_pretrain_lvd1689m-61fa432d.pth')),
             decode_head=dict(in_channels=[192, 384, 768, 1536]), auxiliary_head=dict(in_channels=768))
optim_wrapper = dict(paramwise_cfg=dict(num_layers=12))
model_zoo = dict(backbone='DINOv3 ConvNeXt-L')
