# ConvNeXt V2-L Mask R-CNN, 3x LSJ, soft-NMS, FCMAE + IN-1k (paper: 54.4 / 47.7, 875G).
_base_ = './mask-rcnn_convnext-v2-b_fpn_lsj-3x-fcmae_coco.py'
model = dict(
    # Drop path: the top of the paper's 0.2-0.5 sweep; larger models take more (V1: L 0.7).
    backbone=dict(arch='large', drop_path_rate=0.5,
                  init_cfg=dict(checkpoint='https://dl.fbaipublicfiles.com/convnext/convnextv2/im1k/convnextv2_large_1k_224_ema.pt')),
    neck=dict(in_channels=[192, 384, 768, 1536]))
# Layer decay: 0.9 of the swept {0.9, 0.95}: the V1 recipes decay larger models faster.
optim_wrapper = dict(paramwise_cfg=dict(decay_rate=0.9))
model_zoo = dict(
    backbone='ConvNeXt V2-L', box_ap=54.4, mask_ap=47.7, flops='875G',
    backbone_checkpoint='https://dl.fbaipublicfiles.com/convnext/convnextv2/im1k/convnextv2_large_1k_224_ema.pt')
