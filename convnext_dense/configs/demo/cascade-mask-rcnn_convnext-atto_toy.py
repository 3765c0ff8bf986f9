# Cascade Mask R-CNN + ConvNeXt-atto on the toy shapes with the paper's head design (4 convs +
# 1 fc per stage, GIoU, decoded-box regression) at CPU widths (64 channels, FC 256); layer scale
# from 1.0 as in the other demos.
_base_ = [
    '../_base_/models/cascade-mask-rcnn_convnext-t_fpn_4conv1fc-giou.py',
    '../_base_/datasets/toy_coco.py',
    '../_base_/schedules/toy_iter.py',
    '../_base_/toy_det_runtime.py',
]
num_classes = 4
width = 64


def _slim_stage(target_stds):
    return dict(type='ConvFCBBoxHead', num_shared_convs=4, num_shared_fcs=1, in_channels=width,
                conv_out_channels=width, fc_out_channels=256, num_classes=num_classes,
                bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0., 0., 0., 0.],
                                target_stds=target_stds),
                reg_class_agnostic=False, reg_decoded_bbox=True,
                norm_cfg=dict(type='SyncBN', requires_grad=True),
                loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
                loss_bbox=dict(type='GIoULoss', loss_weight=10.0))


model = dict(
    backbone=dict(arch='atto', drop_path_rate=0.0, layer_scale_init_value=1.0),
    neck=dict(in_channels=[40, 80, 160, 320], out_channels=width),
    rpn_head=dict(in_channels=width, feat_channels=width),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=width),
        bbox_head=[_slim_stage(stds) for stds in ([0.1, 0.1, 0.2, 0.2], [0.05, 0.05, 0.1, 0.1],
                                                  [0.033, 0.033, 0.067, 0.067])],
        mask_roi_extractor=dict(out_channels=width),
        mask_head=dict(num_convs=2, in_channels=width, conv_out_channels=width,
                       num_classes=num_classes)),
    train_cfg=dict(rpn_proposal=dict(nms_pre=1000, max_per_img=300)),
    test_cfg=dict(rpn=dict(nms_pre=500, max_per_img=100), rcnn=dict(max_per_img=20)))
