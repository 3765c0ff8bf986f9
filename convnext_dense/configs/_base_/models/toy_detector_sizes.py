# The demo detectors' CPU sizes (Mask R-CNN and Cascade Mask R-CNN alike): ConvNeXt-atto, FPN /
# RPN / RoI / mask head at 64 channels, 2 mask convs, fewer proposals, 160x160 images, no
# pretraining. Layer scale starts at 1.0, not the paper's 1e-6: a 400-iteration run from
# scratch has no time to grow it.
num_classes = 4
width = 64
toy_detector = dict(
    backbone=dict(arch='atto', drop_path_rate=0.0, layer_scale_init_value=1.0,
                  init_cfg=dict(_delete_=True)),  # from scratch: no ImageNet weights
    neck=dict(in_channels=[40, 80, 160, 320], out_channels=width),
    rpn_head=dict(in_channels=width, feat_channels=width),
    roi_head=dict(bbox_roi_extractor=dict(out_channels=width),
                  mask_roi_extractor=dict(out_channels=width),
                  mask_head=dict(num_convs=2, in_channels=width, conv_out_channels=width,
                                 num_classes=num_classes)),
    train_cfg=dict(rpn_proposal=dict(nms_pre=1000, max_per_img=300)),
    test_cfg=dict(rpn=dict(nms_pre=500, max_per_img=100), rcnn=dict(max_per_img=20)))
