# ConvNeXt V2-L Mask R-CNN, 3x LSJ, soft-NMS, supervised IN-1k backbone (paper Table 6).
# No published backbone weights: train your own and set the path below.
_base_ = './mask-rcnn_convnext-v2-l_fpn_lsj-3x-fcmae_coco.py'
model = dict(backbone=dict(init_cfg=dict(checkpoint='checkpoints/convnextv2_large_1k_224_supervised.pth')))
model_zoo = dict(pretrain='IN-1k (supervised)', box_ap=51.5, mask_ap=45.8)
