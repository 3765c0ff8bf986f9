# Mask R-CNN + ConvNeXt-atto on the toy shapes, sized for a CPU: slim heads (FPN / RPN / RoI /
# mask 64 channels, FC 256, 2 mask convs, 128 sampled RoIs), 160x160 images, no pretraining.
# Layer scale starts at 1.0, not the paper's 1e-6: a 400-iteration run from scratch has no time
# to grow it.
_base_ = [
    '../_base_/models/mask-rcnn_convnext-t_fpn.py',
    '../_base_/datasets/toy_coco.py',
    '../_base_/schedules/toy_iter.py',
    '../_base_/toy_det_runtime.py',
]
num_classes = 4
width = 64
model = dict(
    backbone=dict(arch='atto', drop_path_rate=0.0, layer_scale_init_value=1.0),
    neck=dict(in_channels=[40, 80, 160, 320], out_channels=width),
    rpn_head=dict(in_channels=width, feat_channels=width),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=width),
        bbox_head=dict(in_channels=width, fc_out_channels=256, num_classes=num_classes),
        mask_roi_extractor=dict(out_channels=width),
        mask_head=dict(num_convs=2, in_channels=width, conv_out_channels=width,
                       num_classes=num_classes)),
    train_cfg=dict(rpn_proposal=dict(nms_pre=1000, max_per_img=300),
                   rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(rpn=dict(nms_pre=500, max_per_img=100), rcnn=dict(max_per_img=20)))
