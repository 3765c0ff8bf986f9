# ConvNeXt V2-L Mask R-CNN, 3x LSJ, soft-NMS, FCMAE + IN-1k (paper Table 6). Drop path: the
# top of the paper's 0.2-0.5 sweep, as larger models take more (V1: L 0.7); layer decay 0.9.
_base_ = './mask-rcnn_convnext-v2-b_fpn_lsj-3x-fcmae_coco.py'
model = dict(backbone=dict(arch='large', drop_path_rate=0.5, init_cfg=dict(checkpoint='https://dl.fbaipublicfiles.com/convnext/convnextv2/im1k/convnextv2_large_1k_224_ema.pt')),
             neck=dict(in_channels=[192, 384, 768, 1536]))
optim_wrapper = dict(paramwise_cfg=dict(decay_rate=0.9))
model_zoo = dict(backbone='ConvNeXt V2-L', box_ap=54.4, mask_ap=47.7, flops='875G')
