# ConvNeXt V2-B UperNet, 160k, 512 x 512, backbone trained supervised on ImageNet-1k from
# scratch (paper Table 7). Those weights were never published: train your own and set the path
# below (a missing file is refused, naming it).
_base_ = './upernet_convnext-v2-b_8xb2-160k_ade20k-512x512-fcmae.py'
model = dict(backbone=dict(init_cfg=dict(checkpoint='checkpoints/convnextv2_base_1k_224_supervised.pth')))
model_zoo = dict(pretrain='IN-1k (supervised)', miou=(None, 50.5))
