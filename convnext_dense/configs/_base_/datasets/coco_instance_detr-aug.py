# COCO instance segmentation with the DETR / Sparse R-CNN multi-scale augmentation the ConvNeXt
# detection recipes use: flip, then either a random short side in 480..800 (long side <= 1333),
# or a resize to 400/500/600, a random 384..600 crop and a resize to 480..800. Test: 1333x800.
_base_ = 'mmdet::_base_/datasets/coco_instance.py'

_short_sides_480_800 = [(s, 1333) for s in range(480, 801, 32)]

train_pipeline = [
    dict(type='LoadImageOrSkip', backend_args={{_base_.backend_args}}),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='RandomChoice',
        transforms=[
            [dict(type='RandomChoiceResize', scales=_short_sides_480_800, keep_ratio=True)],
            [
                dict(type='RandomChoiceResize', scales=[(400, 1333), (500, 1333), (600, 1333)],
                     keep_ratio=True),
                dict(type='RandomCrop', crop_type='absolute_range', crop_size=(384, 600),
                     allow_negative_crop=True),
                dict(type='RandomChoiceResize', scales=_short_sides_480_800, keep_ratio=True),
            ],
        ]),
    dict(type='PackDetInputs'),
]
# 2 images per GPU; the recipes use 8 GPUs (16 images per iteration).
train_dataloader = dict(batch_size=2, dataset=dict(pipeline=train_pipeline))
