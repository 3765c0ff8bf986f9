# ConvNeXt V2-nano UperNet for small devices, 160k, 512 x 512, FCMAE + IN-1k: the V2-atto recipe.
_base_ = './upernet_convnext-v2-atto_8xb2-160k_ade20k-512x512-fcmae.py'
model = dict(backbone=dict(arch='nano', init_cfg=dict(checkpoint='https://dl.fbaipublicfiles.com/convnext/convnextv2/im1k/convnextv2_nano_1k_224_ema.pt')),
             decode_head=dict(in_channels=[80, 160, 320, 640]), auxiliary_head=dict(in_channels=320))
model_zoo = dict(backbone='ConvNeXt V2-N')
