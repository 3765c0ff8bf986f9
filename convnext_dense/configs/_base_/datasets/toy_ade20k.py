# The embedded toy ADE20K-format dataset (background + 4 shape classes, 160x160, 240 training /
# 60 validation images), generated into data_root on first use; mIoU with mmseg's IoUMetric.
# ADE20K's recipe (./ade20k-512x512.py) at toy scale: images resized towards 160x160 (random
# resize 0.5-2.0 in training), 128x128 crops, each label map checked in test too; whole-image
# test; the same multi-scale + flip test as `tta_pipeline`.
_base_ = './ade20k-512x512.py'

dataset_type = 'ToyADE20KDataset'
data_root = 'data/toy_ade20k/'
image_scale = (160, 160)
crop_size = (128, 128)
num_classes = 5  # background + 4 shapes
changed_steps = dict(RandomResize=dict(scale=image_scale), RandomCrop=dict(crop_size=crop_size),
                     Resize=dict(scale=image_scale), CheckSegMap=dict(num_classes=num_classes))
train_pipeline = [dict(step, **changed_steps.get(step['type'], {})) for step in _base_.train_pipeline]
test_pipeline = [dict(step, **changed_steps.get(step['type'], {})) for step in _base_.test_pipeline]
test_pipeline.insert(-1, dict(type='CheckSegMap', num_classes=num_classes))
train_dataloader = dict(batch_size=4, num_workers=1,
                        dataset=dict(type=dataset_type, data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(num_workers=1,
                      dataset=dict(type=dataset_type, data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
# mmseg's IoUMetric that also logs each class's IoU (convnext_dense.evaluation.per_class_iou).
val_evaluator = dict(type='PerClassIoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
