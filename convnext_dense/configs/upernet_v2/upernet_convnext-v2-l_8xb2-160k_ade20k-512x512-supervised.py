# ConvNeXt V2-L UperNet, 160k, 512 x 512, supervised IN-1k backbone (paper Table 7). No
# published backbone weights: train your own and set the path below.
_base_ = './upernet_convnext-v2-l_8xb2-160k_ade20k-512x512-fcmae.py'
model = dict(backbone=dict(init_cfg=dict(checkpoint='checkpoints/convnextv2_large_1k_224_supervised.pth')))
model_zoo = dict(pretrain='IN-1k (supervised)', miou=(None, 51.6))
