# ConvNeXt-XL UperNet, 160k, 640x640 crops, ImageNet-22k init (official recipe); trained in fp32
# as published.
_base_ = './upernet_convnext-l-in22k_8xb2-160k_ade20k-640x640.py'
model = dict(backbone=dict(arch='xlarge', init_cfg=dict(checkpoint='https://dl.fbaipublicfiles.com/convnext/convnext_xlarge_22k_224.pth')),
             decode_head=dict(in_channels=[256, 512, 1024, 2048]), auxiliary_head=dict(in_channels=1024))
optim_wrapper = dict(optimizer=dict(lr=8e-5))
model_zoo = dict(backbone='ConvNeXt-XL', miou=(53.6, 54.0), params='391M', flops='3335G',
                 checkpoint='https://dl.fbaipublicfiles.com/convnext/ade20k/upernet_convnext_xlarge_22k_640x640.pth')
