# Mask R-CNN over DINOv3's ConvNeXt-T (distilled from DINOv3's 7B ViT on LVD-1689M web images).
# No recipe is published for it: this is the V1-T recipe (../mask_rcnn/, 3x, multi-scale crop,
# AdamW 1e-4 at 16 images) with the changes below, each with its reason. The pixel statistics
# stay ImageNet's RGB mean / std, which DINOv3 was trained with too.
# Weights: DINOv3's, under the DINOv3 Licence and gated: request them at
# https://ai.meta.com/resources/models-and-libraries/dinov3-downloads/ and put the file at the
# path below (its official name), or take the transformers copy (`huggingface-cli download
# facebook/dinov3-convnext-tiny-pretrain-lvd1689m --local-dir checkpoints/dinov3-convnext-tiny`)
# and pass `--cfg-options model.backbone.init_cfg.checkpoint=checkpoints/dinov3-convnext-tiny/model.safetensors`.
# Either layout is detected; a missing file is refused, naming it.
_base_ = '../mask_rcnn/mask-rcnn_convnext-t_fpn_3x_coco.py'
model = dict(backbone=dict(
    # Drop path 0.2, half of V1-T's 0.4: that rate regularised ImageNet-1k features, which
    # overfit COCO more; V1's own 22k-initialised models already took less (Cascade B: 0.6 vs
    # 0.7), and features distilled from 1.7B images need less still.
    drop_path_rate=0.2,
    # The stem is not frozen: layer decay already gives it 0.8**7 = 0.21x the lr (0.8**13 =
    # 0.055x for S / B / L), so it barely moves yet adapts to COCO's scales.
    frozen_stages=0,
    init_cfg=dict(checkpoint='checkpoints/dinov3_convnext_tiny_pretrain_lvd1689m-21b726bb.pth')))
# Layer decay 0.8 (V1-T Mask R-CNN: 0.95): stronger decay keeps more of the pretrained
# features in the early blocks, as for self-supervised backbones (ViTDet, V2's FCMAE detectors:
# 0.9 at most); V1 Cascade B / L took 0.8 / 0.7.
optim_wrapper = dict(paramwise_cfg=dict(decay_rate=0.8))
model_zoo = dict(backbone='DINOv3 ConvNeXt-T', pretrain='DINOv3 LVD-1689M', box_ap=None,
                 mask_ap=None, params='-', flops='-', checkpoint=None,
                 weights='DINOv3 Licence, gated')
