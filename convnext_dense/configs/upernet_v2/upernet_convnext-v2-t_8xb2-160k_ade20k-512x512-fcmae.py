# ConvNeXt V2-T UperNet, 160k, 512 x 512, FCMAE + IN-1k: a size the paper did not run. 9 blocks
# in stage 3: 6 layer ids, as V1-T's recipe.
_base_ = './upernet_convnext-v2-b_8xb2-160k_ade20k-512x512-fcmae.py'
model = dict(backbone=dict(arch='tiny', init_cfg=dict(checkpoint='https://dl.fbaipublicfiles.com/convnext/convnextv2/im1k/convnextv2_tiny_1k_224_ema.pt')),
             decode_head=dict(in_channels=[96, 192, 384, 768]), auxiliary_head=dict(in_channels=384))
optim_wrapper = dict(paramwise_cfg=dict(num_layers=6))
model_zoo = dict(backbone='ConvNeXt V2-T', miou=(None, None))
