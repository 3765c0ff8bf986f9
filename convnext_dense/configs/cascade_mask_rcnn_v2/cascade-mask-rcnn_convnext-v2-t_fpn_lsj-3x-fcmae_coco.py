# ConvNeXt V2-T Cascade Mask R-CNN (V1's 4conv1fc GIoU heads), 3x LSJ, soft-NMS, FCMAE + IN-1k:
# a size and method the paper did not run. Lr and layer decay are V1-T Cascade's (2e-4, 0.7).
_base_ = [
    '../_base_/models/cascade-mask-rcnn_convnext-t_fpn_4conv1fc-giou.py',
    '../_base_/datasets/coco_instance_lsj-1024.py',
    '../_base_/schedules/adamw-layer-decay_3x.py',
    '../_base_/det_runtime.py',
]
model = dict(
    backbone=dict(use_grn=True, layer_scale_init_value=0.0,
                  init_cfg=dict(checkpoint='https://dl.fbaipublicfiles.com/convnext/convnextv2/im1k/convnextv2_tiny_1k_224_ema.pt')),
    test_cfg=dict(rcnn=dict(nms=dict(type='soft_nms', iou_threshold=0.5))))
optim_wrapper = dict(optimizer=dict(lr=2e-4), paramwise_cfg=dict(decay_rate=0.7))
# The lr is for the paper's 32 images per iteration (4 x 8 GPUs).
auto_scale_lr = dict(base_batch_size=32)
model_zoo = dict(
    backbone='ConvNeXt V2-T', pretrain='FCMAE + IN-1k', method='Cascade Mask R-CNN',
    schedule='3x (36 epochs), LSJ', box_ap=None, mask_ap=None, params='-', flops='-',
    checkpoint=None)
