# ConvNeXt V2-L UperNet, 160k, 512 x 512, FCMAE + IN-1k (paper Table 7, multi-scale).
_base_ = './upernet_convnext-v2-b_8xb2-160k_ade20k-512x512-fcmae.py'
model = dict(backbone=dict(arch='large', init_cfg=dict(checkpoint='https://dl.fbaipublicfiles.com/convnext/convnextv2/im1k/convnextv2_large_1k_224_ema.pt')),
             decode_head=dict(in_channels=[192, 384, 768, 1536]), auxiliary_head=dict(in_channels=768))
model_zoo = dict(backbone='ConvNeXt V2-L', miou=(None, 53.7))
