# ConvNeXt V2-B Mask R-CNN, 3x LSJ, soft-NMS, backbone trained supervised on ImageNet-1k from
# scratch (paper Table 6). Those backbone weights were never published: train your own and set
# the path below (a missing file is refused, naming it).
_base_ = './mask-rcnn_convnext-v2-b_fpn_lsj-3x-fcmae_coco.py'
model = dict(backbone=dict(init_cfg=dict(checkpoint='checkpoints/convnextv2_base_1k_224_supervised.pth')))
model_zoo = dict(pretrain='IN-1k (supervised)', box_ap=51.0, mask_ap=45.6)
