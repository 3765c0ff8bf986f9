# ConvNeXt V2-H UperNet, 160k, 512 x 512, FCMAE + IN-1k (paper Table 7, multi-scale).
_base_ = './upernet_convnext-v2-b_8xb2-160k_ade20k-512x512-fcmae.py'
model = dict(backbone=dict(arch='huge', init_cfg=dict(checkpoint='https://dl.fbaipublicfiles.com/convnext/convnextv2/im1k/convnextv2_huge_1k_224_ema.pt')),
             decode_head=dict(in_channels=[352, 704, 1408, 2816]), auxiliary_head=dict(in_channels=1408))
model_zoo = dict(backbone='ConvNeXt V2-H', miou=(None, 55.0))
