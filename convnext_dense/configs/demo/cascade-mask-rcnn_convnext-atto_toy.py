# Cascade Mask R-CNN + ConvNeXt-atto on the toy shapes with the paper's head design (4 convs +
# 1 fc per stage, GIoU, decoded-box regression) at the demo's CPU sizes
# (../_base_/models/toy_detector_sizes.py), FC 256.
_base_ = [
    '../_base_/models/cascade-mask-rcnn_convnext-t_fpn_4conv1fc-giou.py',
    '../_base_/models/toy_detector_sizes.py',
    '../_base_/datasets/toy_coco.py',
    '../_base_/schedules/toy_iter.py',
    '../_base_/toy_det_runtime.py',
]
model = _base_.toy_detector
model.roi_head.bbox_head = [
    dict(stage, in_channels=_base_.width, conv_out_channels=_base_.width, fc_out_channels=256,
         num_classes=_base_.num_classes)
    for stage in _base_.model.roi_head.bbox_head]
