# ConvNeXt V2-H UperNet, 160k, 640 x 640 crops, FCMAE + ImageNet-22k fine-tuning (paper: 57.0
# mIoU, multi-scale), from the 22k model fine-tuned at 512, the largest published resolution.
# The V2-H 512 recipe with configs/_base_/datasets/ade20k-640x640.py's crops and slide test.
_base_ = './upernet_convnext-v2-h_8xb2-160k_ade20k-512x512-fcmae.py'
crop_size = (640, 640)
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
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2560, 640), keep_ratio=True),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(init_cfg=dict(checkpoint='https://dl.fbaipublicfiles.com/convnext/convnextv2/im22k/convnextv2_huge_22k_512_ema.pt')),
    test_cfg=dict(crop_size=crop_size, stride=(426, 426)))
model_zoo = dict(
    pretrain='FCMAE + IN-22k', schedule='160k, 640x640', miou=(None, 57.0),
    backbone_checkpoint='https://dl.fbaipublicfiles.com/convnext/convnextv2/im22k/convnextv2_huge_22k_512_ema.pt')
