# mmseg's UperNet (UPerHead 512 channels, pool scales 1/2/3/6, dropout 0.1, SyncBN) with its FCN
# auxiliary head on stage 2 (256 channels, loss weight 0.4), over a ConvNeXt-T backbone.
_base_ = 'mmseg::_base_/models/upernet_r50.py'

model = dict(
    pretrained=None,
    backbone=dict(
        _delete_=True,
        type='ConvNeXt',
        arch='tiny',
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.4,
        layer_scale_init_value=1.0),
    decode_head=dict(in_channels=[96, 192, 384, 768], num_classes=150),
    auxiliary_head=dict(in_channels=384, num_classes=150))
