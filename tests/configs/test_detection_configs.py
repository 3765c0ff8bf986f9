"""Paper detection configs against the official ConvNeXt repository's published recipes
(facebookresearch/ConvNeXt, object_detection/configs/convnext/*.py and its README): the table
below is the specification, the configs must match it."""
from pathlib import Path

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from convnext_dense.engine.config import read_config
from convnext_dense.models import ARCH_SETTINGS

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'
URL = 'https://dl.fbaipublicfiles.com/convnext/'

# config: (arch, drop_path, lr, layer-decay rate, num_layers, fp16, pretrained checkpoint)
OFFICIAL = {
    'mask_rcnn/mask-rcnn_convnext-t_fpn_3x_coco.py':
        ('tiny', 0.4, 1e-4, 0.95, 6, True, 'convnext_tiny_1k_224.pth'),
    'cascade_mask_rcnn/cascade-mask-rcnn_convnext-t_fpn_3x_coco.py':
        ('tiny', 0.4, 2e-4, 0.7, 6, True, 'convnext_tiny_1k_224.pth'),
    'cascade_mask_rcnn/cascade-mask-rcnn_convnext-s_fpn_3x_coco.py':
        ('small', 0.6, 2e-4, 0.7, 12, True, 'convnext_small_1k_224.pth'),
    'cascade_mask_rcnn/cascade-mask-rcnn_convnext-b_fpn_3x_coco.py':
        ('base', 0.7, 2e-4, 0.8, 12, True, 'convnext_base_1k_224.pth'),
    'cascade_mask_rcnn/cascade-mask-rcnn_convnext-b-in22k_fpn_3x_coco.py':
        ('base', 0.6, 1e-4, 0.8, 12, True, 'convnext_base_22k_224.pth'),
    'cascade_mask_rcnn/cascade-mask-rcnn_convnext-l-in22k_fpn_3x_coco.py':
        ('large', 0.7, 1e-4, 0.7, 12, False, 'convnext_large_22k_224.pth'),
    'cascade_mask_rcnn/cascade-mask-rcnn_convnext-xl-in22k_fpn_3x_coco.py':
        ('xlarge', 0.8, 1e-4, 0.7, 12, False, 'convnext_xlarge_22k_224.pth'),
}
# Shared by all: DETR-style multi-scale training, 1333x800 test, 2 images x 8 GPUs, 3x.
SHORT_SIDES = list(range(480, 801, 32))


def load(config: str) -> Config:
    return read_config(str(CONFIGS / config))


def build_on_meta(cfg: Config):
    init_default_scope('mmdet')
    with torch.device('meta'):  # shapes only: XL builds instantly and needs no download
        return MODELS.build(cfg.model)


def test_every_paper_config_is_in_the_table():
    found = {str(p.relative_to(CONFIGS)) for d in ('mask_rcnn', 'cascade_mask_rcnn')
             for p in (CONFIGS / d).glob('*.py')}
    assert found == set(OFFICIAL)


@pytest.mark.parametrize('config', sorted(OFFICIAL))
def test_hyperparameters_match_the_official_recipe(config):
    arch, drop_path, lr, decay_rate, num_layers, fp16, checkpoint = OFFICIAL[config]
    cfg = load(config)
    backbone = cfg.model.backbone
    assert (backbone.type, backbone.arch) == ('ConvNeXt', arch)
    assert backbone.drop_path_rate == drop_path and backbone.layer_scale_init_value == 1.0
    assert backbone.init_cfg == dict(type='Pretrained', checkpoint=URL + checkpoint)
    assert cfg.model.neck.in_channels == list(ARCH_SETTINGS[arch].channels)

    wrapper = cfg.optim_wrapper
    assert wrapper.type == ('AmpOptimWrapper' if fp16 else 'OptimWrapper')
    assert wrapper.constructor == 'ConvNeXtLayerDecayOptimizerConstructor'
    assert wrapper.optimizer == dict(type='AdamW', lr=lr, betas=(0.9, 0.999), weight_decay=0.05)
    assert wrapper.paramwise_cfg == dict(decay_rate=decay_rate, decay_type='layer_wise',
                                         num_layers=num_layers)

    assert cfg.train_dataloader.batch_size == 2 and cfg.auto_scale_lr.base_batch_size == 16
    assert cfg.train_cfg.max_epochs == 36
    warmup, steps = cfg.param_scheduler
    assert (warmup.type, warmup.start_factor, warmup.end, warmup.by_epoch) == \
        ('LinearLR', 0.001, 500, False)
    assert (steps.type, steps.milestones, steps.gamma) == ('MultiStepLR', [27, 33], 0.1)


@pytest.mark.parametrize('config', sorted(OFFICIAL)[:1] + sorted(OFFICIAL)[-1:])
def test_detr_style_augmentation_and_test_scale(config):
    cfg = load(config)
    flip, choice = cfg.train_pipeline[2], cfg.train_pipeline[3]
    assert flip == dict(type='RandomFlip', prob=0.5)
    plain, crop = choice.transforms
    assert plain[0].scales == [(s, 1333) for s in SHORT_SIDES]
    assert crop[0].scales == [(400, 1333), (500, 1333), (600, 1333)]
    assert (crop[1].crop_type, crop[1].crop_size) == ('absolute_range', (384, 600))
    assert crop[2].scales == [(s, 1333) for s in SHORT_SIDES]
    resize = next(t for t in cfg.test_pipeline if t.type == 'Resize')
    assert resize.scale == (1333, 800) and resize.keep_ratio
    assert cfg.val_evaluator.metric == ['bbox', 'segm']


@pytest.mark.parametrize('config', [c for c in sorted(OFFICIAL) if 'cascade' in c])
def test_cascade_heads_are_4conv1fc_giou(config):
    heads = load(config).model.roi_head.bbox_head
    stds = [head.bbox_coder.target_stds for head in heads]
    assert stds == [[0.1, 0.1, 0.2, 0.2], [0.05, 0.05, 0.1, 0.1], [0.033, 0.033, 0.067, 0.067]]
    for head in heads:
        assert (head.type, head.num_shared_convs, head.num_shared_fcs) == ('ConvFCBBoxHead', 4, 1)
        assert head.loss_bbox == dict(type='GIoULoss', loss_weight=10.0)
        assert head.reg_decoded_bbox and not head.reg_class_agnostic
        assert head.norm_cfg.type == 'SyncBN'


@pytest.mark.parametrize('config', sorted(OFFICIAL))
def test_builds_with_the_published_size(config):
    model = build_on_meta(load(config))
    arch = OFFICIAL[config][0]
    assert model.backbone.arch == ARCH_SETTINGS[arch]
    assert not hasattr(model.backbone.stages[0][0].drop_path, 'drop_prob')  # rate 0: Identity
    last_block = model.backbone.stages[3][-1]
    assert last_block.drop_path.drop_prob == pytest.approx(OFFICIAL[config][1])


# Official layer_wise ids for 'backbone.' + name, per number of stage-2 blocks (9 for T: ids
# 3..5 with num_layers 6; 27 for S/B/L/XL: ids 3..11 with num_layers 12).
@pytest.mark.parametrize('config, checks', [
    ('mask_rcnn/mask-rcnn_convnext-t_fpn_3x_coco.py',
     {'downsample_layers.0.0.weight': 0, 'stages.0.2.dwconv.weight': 1,
      'downsample_layers.1.1.weight': 2, 'stages.2.2.pwconv1.weight': 3,
      'stages.2.3.pwconv1.weight': 4, 'stages.2.8.gamma': 5, 'downsample_layers.3.1.weight': 6,
      'stages.3.2.pwconv2.bias': 6, 'norm3.weight': 7}),
    ('cascade_mask_rcnn/cascade-mask-rcnn_convnext-s_fpn_3x_coco.py',
     {'stages.2.26.dwconv.weight': 11, 'stages.3.0.dwconv.weight': 12, 'norm0.bias': 13}),
])
def test_paper_config_layer_ids(config, checks):
    cfg = load(config)
    model = build_on_meta(cfg)
    groups = build_optim_wrapper(model, cfg.optim_wrapper.copy()
                                 | dict(type='OptimWrapper')).optimizer.param_groups
    layer_of = {name: group['layer_id'] for group in groups for name in group['param_names']}
    for name, layer_id in checks.items():
        assert layer_of['backbone.' + name] == layer_id, name
    num_layers = cfg.optim_wrapper.paramwise_cfg.num_layers
    assert layer_of['neck.fpn_convs.0.conv.weight'] == num_layers + 1
