# mmdet's Cascade Mask R-CNN + FPN with a ConvNeXt-T backbone and the ConvNeXt paper's box
# heads: per stage 4 shared convs + 1 fc (SyncBN), class-specific regression of decoded boxes
# with GIoU loss (weight 10).
_base_ = ['mmdet::_base_/models/cascade-mask-rcnn_r50_fpn.py', './convnext-t.py']


def _giou_4conv1fc_head(target_stds):
    return dict(
        type='ConvFCBBoxHead',
        num_shared_convs=4,
        num_shared_fcs=1,
        in_channels=256,
        conv_out_channels=256,
        fc_out_channels=1024,
        roi_feat_size=7,
        num_classes=80,
        bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0., 0., 0., 0.],
                        target_stds=target_stds),
        reg_class_agnostic=False,
        reg_decoded_bbox=True,
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
        loss_bbox=dict(type='GIoULoss', loss_weight=10.0))


model = dict(
    backbone=dict(_delete_=True, **_base_.convnext_t),
    neck=dict(in_channels=[96, 192, 384, 768]),
    # mmdet's RoIAlign extraction, same values, with float32 RoI geometry under AMP and the
    # fastest kernel per device (convnext_dense/models/roi_extractors/).
    roi_head=dict(
        bbox_roi_extractor=dict(type='RoIAlignExtractor'),
        mask_roi_extractor=dict(type='RoIAlignExtractor'),
        bbox_head=[
            _giou_4conv1fc_head([0.1, 0.1, 0.2, 0.2]),
            _giou_4conv1fc_head([0.05, 0.05, 0.1, 0.1]),
            _giou_4conv1fc_head([0.033, 0.033, 0.067, 0.067]),
        ]))
