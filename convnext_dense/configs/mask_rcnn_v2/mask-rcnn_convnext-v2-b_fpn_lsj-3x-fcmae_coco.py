# ConvNeXt V2-B Mask R-CNN, 3x with large-scale jitter and soft-NMS, backbone from FCMAE
# pre-training + ImageNet-1k fine-tuning (paper Table 6). The V2 weights are CC-BY-NC 4.0
# (facebookresearch/ConvNeXt-V2): linked, never bundled.
_base_ = [
    '../_base_/models/mask-rcnn_convnext-t_fpn.py',
    '../_base_/datasets/coco_instance_lsj-1024.py',
    '../_base_/schedules/adamw-layer-decay_3x.py',
    '../_base_/det_runtime.py',
]
model = dict(
    # V2: GRN in every block, no layer scale. Drop path: the paper swept 0.2-0.5; 0.4 is what
    # mmdet's public V2-B reproduction (52.9 / 46.4) used.
    backbone=dict(arch='base', use_grn=True, layer_scale_init_value=0.0, drop_path_rate=0.4,
                  init_cfg=dict(checkpoint='https://dl.fbaipublicfiles.com/convnext/convnextv2/im1k/convnextv2_base_1k_224_ema.pt')),
    neck=dict(in_channels=[128, 256, 512, 1024]),
    # Soft-NMS (mmcv's default linear score decay) for the final boxes;
    # the RPN keeps plain NMS, as in mmdet's reproduction.
    test_cfg=dict(rcnn=dict(nms=dict(type='soft_nms', iou_threshold=0.5))))
# Lr 1e-4 (the schedule base's); layer decay: the paper swept {0.9, 0.95}; 0.95 over 12 layers is
# the public reproduction's.
optim_wrapper = dict(paramwise_cfg=dict(num_layers=12))
# The lr is for the paper's 32 images per iteration (4 x 8 GPUs).
auto_scale_lr = dict(base_batch_size=32)
# Published results (V2 paper); no detector checkpoint was published, so the model zoo links
# the backbone weights. Other sizes state only what differs.
model_zoo = dict(
    backbone='ConvNeXt V2-B', pretrain='FCMAE + IN-1k', method='Mask R-CNN',
    schedule='3x (36 epochs), LSJ', box_ap=52.9, mask_ap=46.6, params='-', flops='486G',
    checkpoint=None)
