# ConvNeXt-T as a dense-prediction backbone: all four stages out (strides 4, 8, 16, 32; widths
# 96, 192, 384, 768), drop path 0.4, from the official ImageNet-1k weights; the model bases put
# it in place of ResNet-50.
convnext_t = dict(
    type='ConvNeXt', arch='tiny', out_indices=(0, 1, 2, 3), drop_path_rate=0.4,
    layer_scale_init_value=1.0,
    init_cfg=dict(type='Pretrained',
                  checkpoint='https://dl.fbaipublicfiles.com/convnext/convnext_tiny_1k_224.pth'))
