# UperNet over DINOv3's ConvNeXt-T, 160k, 512x512. No recipe is published for it: this is the
# V1-T UperNet recipe (../upernet/: AdamW 1e-4, 16 images) with the changes below.
# Weights: DINOv3's, under the DINOv3 Licence and gated: request them at
# https://ai.meta.com/resources/models-and-libraries/dinov3-downloads/ and put the file at the
# path below (its official name), or take the transformers copy (`huggingface-cli download
# facebook/dinov3-convnext-tiny-pretrain-lvd1689m --local-dir checkpoints/dinov3-convnext-tiny`)
# and pass `--cfg-options model.backbone.init_cfg.checkpoint=checkpoints/dinov3-convnext-tiny/model.safetensors`.
# Either layout is detected; a missing file is refused, naming it.
_base_ = '../upernet/upernet_convnext-t_8xb2-160k_ade20k-512x512.py'
# Drop path 0.2, half of V1-T's 0.4, as in the DINOv3 detectors (../mask_rcnn_dinov3/).
model = dict(backbone=dict(drop_path_rate=0.2, init_cfg=dict(checkpoint='checkpoints/dinov3_convnext_tiny_pretrain_lvd1689m-21b726bb.pth')))
# Decay 0.9 per block (layer-wise, as V2's UperNet) instead of V1's per stage: the early blocks
# of a stage keep more of the distilled features than a whole-stage step lets them.
optim_wrapper = dict(paramwise_cfg=dict(decay_type='layer_wise'))
model_zoo = dict(backbone='DINOv3 ConvNeXt-T', pretrain='DINOv3 LVD-1689M', miou=(None, None),
                 params='-', flops='-', checkpoint=None, weights='DINOv3 Licence, gated')
