# ConvNeXt V2-atto UperNet for small devices, 160k, 512 x 512, FCMAE + IN-1k: a size the paper
# did not run, nor femto, pico and nano, whose configs start from this one. The V2-T recipe with
# drop path 0.1, the bottom of the paper's sweep: small models regularise less (as in V2's own
# ImageNet fine-tuning).
_base_ = './upernet_convnext-v2-t_8xb2-160k_ade20k-512x512-fcmae.py'
model = dict(backbone=dict(arch='atto', drop_path_rate=0.1, init_cfg=dict(checkpoint='https://dl.fbaipublicfiles.com/convnext/convnextv2/im1k/convnextv2_atto_1k_224_ema.pt')),
             decode_head=dict(in_channels=[40, 80, 160, 320]), auxiliary_head=dict(in_channels=160))
model_zoo = dict(backbone='ConvNeXt V2-A')
