# Cascade Mask R-CNN (the paper's 4conv1fc GIoU heads) over DINOv3's ConvNeXt-T. No recipe is
# published for it: this is the V1-T Cascade recipe (../cascade_mask_rcnn/) with the DINOv3
# Mask R-CNN changes (../mask_rcnn_dinov3/: drop path half of V1's, layer decay 0.8, stem not
# frozen) and the lr below.
# Weights: DINOv3's, under the DINOv3 Licence and gated: request them at
# https://ai.meta.com/resources/models-and-libraries/dinov3-downloads/ and put the file at the
# path below (its official name), or take the transformers copy (`huggingface-cli download
# facebook/dinov3-convnext-tiny-pretrain-lvd1689m --local-dir checkpoints/dinov3-convnext-tiny`)
# and pass `--cfg-options model.backbone.init_cfg.checkpoint=checkpoints/dinov3-convnext-tiny/model.safetensors`.
# Either layout is detected; a missing file is refused, naming it.
_base_ = '../cascade_mask_rcnn/cascade-mask-rcnn_convnext-t_fpn_3x_coco.py'
model = dict(backbone=dict(drop_path_rate=0.2, init_cfg=dict(checkpoint='checkpoints/dinov3_convnext_tiny_pretrain_lvd1689m-21b726bb.pth')))
# Lr 1e-4, not V1-T's 2e-4: V1 halved it for its web-scale (22k) initialisations (B / L / XL).
optim_wrapper = dict(optimizer=dict(lr=1e-4), paramwise_cfg=dict(decay_rate=0.8))
model_zoo = dict(backbone='DINOv3 ConvNeXt-T', pretrain='DINOv3 LVD-1689M', box_ap=None,
                 mask_ap=None, params='-', flops='-', checkpoint=None,
                 weights='DINOv3 Licence, gated')
