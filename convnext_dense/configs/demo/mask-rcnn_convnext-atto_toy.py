# Mask R-CNN + ConvNeXt-atto on the toy shapes, sized for a CPU (../_base_/models/
# toy_detector_sizes.py): box head FC 256, 128 sampled RoIs.
_base_ = [
    '../_base_/models/mask-rcnn_convnext-t_fpn.py',
    '../_base_/models/toy_detector_sizes.py',
    '../_base_/datasets/toy_coco.py',
    '../_base_/schedules/toy_iter.py',
    '../_base_/toy_det_runtime.py',
]
model = _base_.toy_detector
model.roi_head.bbox_head = dict(in_channels=_base_.width, fc_out_channels=256,
                                num_classes=_base_.num_classes)
model.train_cfg.rcnn = dict(sampler=dict(num=128))
