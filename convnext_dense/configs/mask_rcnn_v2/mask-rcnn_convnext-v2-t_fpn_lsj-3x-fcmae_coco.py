# ConvNeXt V2-T Mask R-CNN, 3x LSJ, soft-NMS, FCMAE + IN-1k: a size the paper did not run.
# 9 blocks in stage 3: 6 layer ids, as V1-T's recipe.
_base_ = './mask-rcnn_convnext-v2-b_fpn_lsj-3x-fcmae_coco.py'
model = dict(backbone=dict(arch='tiny', init_cfg=dict(checkpoint='https://dl.fbaipublicfiles.com/convnext/convnextv2/im1k/convnextv2_tiny_1k_224_ema.pt')),
             neck=dict(in_channels=[96, 192, 384, 768]))
optim_wrapper = dict(paramwise_cfg=dict(num_layers=6))
model_zoo = dict(backbone='ConvNeXt V2-T', box_ap=None, mask_ap=None, flops='-')
