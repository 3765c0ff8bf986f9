# UperNet + ConvNeXt-atto on the toy ADE20K-format shapes, sized for a CPU: decode head 64
# channels, auxiliary FCN head 32, 128x128 crops, whole-image test, no pretraining. Layer scale
# starts at 1.0, not the paper's 1e-6: a 400-iteration run from scratch has no time to grow it.
_base_ = [
    '../_base_/models/upernet_convnext-t.py',
    '../_base_/datasets/toy_ade20k.py',
    '../_base_/schedules/toy_iter.py',
    '../_base_/toy_seg_runtime.py',
]
num_classes = 5
model = dict(
    data_preprocessor=dict(size=(128, 128)),
    backbone=dict(arch='atto', drop_path_rate=0.0, layer_scale_init_value=1.0,
                  init_cfg=dict(_delete_=True)),  # from scratch: no ImageNet weights
    decode_head=dict(in_channels=[40, 80, 160, 320], channels=64, num_classes=num_classes),
    auxiliary_head=dict(in_channels=160, channels=32, num_classes=num_classes),
    test_cfg=dict(mode='whole'))
optim_wrapper = dict(paramwise_cfg=dict(decay_type='stage_wise'))
