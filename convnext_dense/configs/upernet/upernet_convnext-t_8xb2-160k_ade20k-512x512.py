# ConvNeXt-T UperNet, 160k, 512x512, ImageNet-1k init: the official recipe (lr 1e-4, stage-wise
# decay 0.9 over 6 layer ids: the schedule base's values); `model_zoo` holds its published
# results.
_base_ = [
    '../_base_/models/upernet_convnext-t.py',
    '../_base_/datasets/ade20k-512x512.py',
    '../_base_/schedules/adamw-stage-decay_160k.py',
    '../_base_/seg_runtime.py',
]
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(341, 341)))
# Published results of this recipe (official ConvNeXt README); `convnext-dense model-zoo` lists
# them. Larger sizes state only what differs.
model_zoo = dict(
    backbone='ConvNeXt-T', pretrain='IN-1k', method='UperNet', schedule='160k, 512x512',
    miou=(46.0, 46.7), params='60M', flops='939G',
    checkpoint='https://dl.fbaipublicfiles.com/convnext/ade20k/upernet_convnext_tiny_1k_512x512.pth')
