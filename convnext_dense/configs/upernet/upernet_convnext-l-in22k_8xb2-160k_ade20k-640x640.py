# ConvNeXt-L UperNet, 160k, 640x640 crops, ImageNet-22k init (official recipe); trained in fp32
# as published.
_base_ = './upernet_convnext-b-in22k_8xb2-160k_ade20k-640x640.py'
model = dict(backbone=dict(arch='large', init_cfg=dict(checkpoint='https://dl.fbaipublicfiles.com/convnext/convnext_large_22k_224.pth')),
             decode_head=dict(in_channels=[192, 384, 768, 1536]), auxiliary_head=dict(in_channels=768))
optim_wrapper = dict(type='OptimWrapper')
model_zoo = dict(backbone='ConvNeXt-L', miou=(53.2, 53.7), params='235M', flops='2458G',
                 checkpoint='https://dl.fbaipublicfiles.com/convnext/ade20k/upernet_convnext_large_22k_640x640.pth')
