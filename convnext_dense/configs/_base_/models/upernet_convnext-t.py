# mmseg's UperNet (UPerHead 512 channels, pool scales 1/2/3/6, dropout 0.1, SyncBN) with its FCN
# auxiliary head on stage 2 (256 channels, loss weight 0.4), over a ConvNeXt-T backbone.
_base_ = ['mmseg::_base_/models/upernet_r50.py', './convnext-t.py']

model = dict(
    pretrained=None,
    backbone=dict(_delete_=True, **_base_.convnext_t),
    decode_head=dict(in_channels=[96, 192, 384, 768], num_classes=150),
    auxiliary_head=dict(in_channels=384, num_classes=150))
