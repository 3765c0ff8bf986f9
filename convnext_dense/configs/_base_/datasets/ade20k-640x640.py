# ADE20K at 640x640 crops (mmseg's pipeline: random resize of (2560, 640) by 0.5-2.0,
# crop with cat_max_ratio 0.75, flip, photometric distortion), 2 images per GPU, single-scale
# slide test (crop 640, stride 426), and the multi-scale + flip test as `tta_pipeline`.
_base_ = 'mmseg::_base_/datasets/ade20k_640x640.py'

crop_size = (640, 640)
# mmseg's training pipeline, loading with LoadImageOrSkip (unreadable images skipped, reported)
# and checking each label map (CheckSegMap: a bad value, size or channel count names the file).
train_pipeline = [
    dict(type='LoadImageOrSkip'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='CheckSegMap', num_classes=150),
    dict(type='RandomResize', scale=(2560, 640), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(batch_size=2, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=1)
test_dataloader = val_dataloader
img_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
# mmseg 1.2.2's ADE20K tta_pipeline loads labels without reduce_zero_label, which shifts every
# class by one under --tta; ADE20K needs it, as in the single-scale pipeline.
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='TestTimeAug',
         transforms=[
             [dict(type='Resize', scale_factor=r, keep_ratio=True) for r in img_ratios],
             [dict(type='RandomFlip', prob=0., direction='horizontal'),
              dict(type='RandomFlip', prob=1., direction='horizontal')],
             [dict(type='LoadAnnotations', reduce_zero_label=True)],
             [dict(type='PackSegInputs')],
         ]),
]
