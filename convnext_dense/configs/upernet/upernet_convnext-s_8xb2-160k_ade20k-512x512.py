# ConvNeXt-S UperNet, 160k, 512x512, ImageNet-1k init (official recipe).
_base_ = './upernet_convnext-t_8xb2-160k_ade20k-512x512.py'
model = dict(backbone=dict(arch='small', drop_path_rate=0.3, init_cfg=dict(checkpoint='https://dl.fbaipublicfiles.com/convnext/convnext_small_1k_224.pth')))
optim_wrapper = dict(paramwise_cfg=dict(num_layers=12))
model_zoo = dict(backbone='ConvNeXt-S', miou=(48.7, 49.6), params='82M', flops='1027G',
                 checkpoint='https://dl.fbaipublicfiles.com/convnext/ade20k/upernet_convnext_small_1k_512x512.pth')
