# mmdet's Mask R-CNN + FPN with a ConvNeXt-T backbone in place of ResNet-50.
_base_ = ['mmdet::_base_/models/mask-rcnn_r50_fpn.py', './convnext-t.py']

model = dict(
    backbone=dict(_delete_=True, **_base_.convnext_t),
    neck=dict(in_channels=[96, 192, 384, 768]),
    # mmdet's RoIAlign extraction, same values, with float32 RoI geometry under AMP and the
    # fastest kernel per device (convnext_dense/models/roi_extractors/).
    roi_head=dict(bbox_roi_extractor=dict(type='RoIAlignExtractor'),
                  mask_roi_extractor=dict(type='RoIAlignExtractor')))
