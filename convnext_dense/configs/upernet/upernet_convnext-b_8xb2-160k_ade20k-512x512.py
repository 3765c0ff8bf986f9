# ConvNeXt-B UperNet, 160k, 512x512, ImageNet-1k init (official recipe).
_base_ = './upernet_convnext-t_8xb2-160k_ade20k-512x512.py'
model = dict(backbone=dict(arch='base', init_cfg=dict(checkpoint='https://dl.fbaipublicfiles.com/convnext/convnext_base_1k_224.pth')),
             decode_head=dict(in_channels=[128, 256, 512, 1024]), auxiliary_head=dict(in_channels=512))
optim_wrapper = dict(paramwise_cfg=dict(num_layers=12))
model_zoo = dict(backbone='ConvNeXt-B', miou=(49.1, 49.9), params='122M', flops='1170G',
                 checkpoint='https://dl.fbaipublicfiles.com/convnext/ade20k/upernet_convnext_base_1k_512x512.pth')
