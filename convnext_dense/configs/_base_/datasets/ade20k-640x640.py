# ADE20K at 640x640 crops: the 512x512 recipe (./ade20k-512x512.py) with images resized towards
# (2560, 640) in training and test, and slide-test crops of 640 (stride 426, set by the configs).
_base_ = './ade20k-512x512.py'

crop_size = (640, 640)
changed_steps = dict(RandomResize=dict(scale=(2560, 640)), RandomCrop=dict(crop_size=crop_size),
                     Resize=dict(scale=(2560, 640)))
train_pipeline = [dict(step, **changed_steps.get(step['type'], {})) for step in _base_.train_pipeline]
test_pipeline = [dict(step, **changed_steps.get(step['type'], {})) for step in _base_.test_pipeline]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
