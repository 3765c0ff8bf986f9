# ConvNeXt V2-H Mask R-CNN, 3x LSJ, soft-NMS, FCMAE + IN-1k (paper Table 6): the V2-L recipe.
_base_ = './mask-rcnn_convnext-v2-l_fpn_lsj-3x-fcmae_coco.py'
model = dict(backbone=dict(arch='huge', init_cfg=dict(checkpoint='https://dl.fbaipublicfiles.com/convnext/convnextv2/im1k/convnextv2_huge_1k_224_ema.pt')),
             neck=dict(in_channels=[352, 704, 1408, 2816]))
model_zoo = dict(backbone='ConvNeXt V2-H', box_ap=55.7, mask_ap=48.9, flops='2525G')
