"""UperNet paper configs against the official ConvNeXt repository's ADE20K recipes
(facebookresearch/ConvNeXt, semantic_segmentation/configs/convnext/*.py and its README)."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

from convnext_dense.engine.config import read_config
from convnext_dense.models import ARCH_SETTINGS

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'
URL = 'https://dl.fbaipublicfiles.com/convnext/'

# config: (arch, crop, drop_path, lr, num_layers, fp16, pretrained checkpoint)
OFFICIAL = {
    'upernet_convnext-t_8xb2-160k_ade20k-512x512.py':
        ('tiny', 512, 0.4, 1e-4, 6, True, 'convnext_tiny_1k_224.pth'),
    'upernet_convnext-s_8xb2-160k_ade20k-512x512.py':
        ('small', 512, 0.3, 1e-4, 12, True, 'convnext_small_1k_224.pth'),
    'upernet_convnext-b_8xb2-160k_ade20k-512x512.py':
        ('base', 512, 0.4, 1e-4, 12, True, 'convnext_base_1k_224.pth'),
    'upernet_convnext-b-in22k_8xb2-160k_ade20k-640x640.py':
        ('base', 640, 0.4, 1e-4, 12, True, 'convnext_base_22k_224.pth'),
    'upernet_convnext-l-in22k_8xb2-160k_ade20k-640x640.py':
        ('large', 640, 0.4, 1e-4, 12, False, 'convnext_large_22k_224.pth'),
    'upernet_convnext-xl-in22k_8xb2-160k_ade20k-640x640.py':
        ('xlarge', 640, 0.4, 8e-5, 12, False, 'convnext_xlarge_22k_224.pth'),
}
SLIDE_STRIDE = {512: 341, 640: 426}
LONG_SIDE = {512: 2048, 640: 2560}


def load(name: str) -> Config:
    return read_config(str(CONFIGS / 'upernet' / name))


def test_every_paper_config_is_in_the_table():
    assert {p.name for p in (CONFIGS / 'upernet').glob('*.py')} == set(OFFICIAL)


@pytest.mark.parametrize('name', sorted(OFFICIAL))
def test_hyperparameters_match_the_official_recipe(name):
    arch, crop, drop_path, lr, num_layers, fp16, checkpoint = OFFICIAL[name]
    cfg = load(name)
    backbone, channels = cfg.model.backbone, list(ARCH_SETTINGS[arch].channels)
    assert (backbone.type, backbone.arch, backbone.drop_path_rate) == ('ConvNeXt', arch, drop_path)
    assert backbone.layer_scale_init_value == 1.0
    assert backbone.init_cfg == dict(type='Pretrained', checkpoint=URL + checkpoint)

    head, aux = cfg.model.decode_head, cfg.model.auxiliary_head
    assert (head.type, head.in_channels, head.channels, head.pool_scales) == \
        ('UPerHead', channels, 512, (1, 2, 3, 6))
    assert head.dropout_ratio == 0.1 and head.num_classes == 150
    assert head.norm_cfg.type == 'SyncBN'
    assert (aux.type, aux.in_index, aux.in_channels, aux.channels) == \
        ('FCNHead', 2, channels[2], 256)
    assert aux.loss_decode.loss_weight == 0.4 and aux.num_classes == 150

    wrapper = cfg.optim_wrapper
    assert wrapper.type == ('AmpOptimWrapper' if fp16 else 'OptimWrapper')
    assert wrapper.constructor == 'ConvNeXtLayerDecayOptimizerConstructor'
    assert wrapper.optimizer == dict(type='AdamW', lr=lr, betas=(0.9, 0.999), weight_decay=0.05)
    assert wrapper.paramwise_cfg == dict(decay_rate=0.9, decay_type='stage_wise',
                                         num_layers=num_layers)

    warmup, poly = cfg.param_scheduler
    assert (warmup.type, warmup.start_factor, warmup.end) == ('LinearLR', 1e-6, 1500)
    assert (poly.type, poly.power, poly.eta_min, poly.begin, poly.end) == \
        ('PolyLR', 1.0, 0.0, 1500, 160000)
    assert (cfg.train_cfg.type, cfg.train_cfg.max_iters) == ('IterBasedTrainLoop', 160000)
    assert cfg.train_dataloader.batch_size == 2


@pytest.mark.parametrize('name', sorted(OFFICIAL))
def test_augmentation_and_slide_test(name):
    crop = OFFICIAL[name][1]
    cfg = load(name)
    by_type = {t.type: t for t in cfg.train_dataloader.dataset.pipeline}
    assert by_type['LoadAnnotations'].reduce_zero_label
    assert by_type['RandomResize'].scale == (LONG_SIDE[crop], crop)
    assert by_type['RandomResize'].ratio_range == (0.5, 2.0)
    assert by_type['RandomCrop'].crop_size == (crop, crop)
    assert by_type['RandomCrop'].cat_max_ratio == 0.75
    assert by_type['RandomFlip'].prob == 0.5 and 'PhotoMetricDistortion' in by_type
    assert cfg.model.test_cfg == dict(mode='slide', crop_size=(crop, crop),
                                      stride=(SLIDE_STRIDE[crop], ) * 2)
    assert cfg.model.data_preprocessor.size == (crop, crop)


def test_tta_pipeline_is_multi_scale_flip_with_reduced_labels():
    cfg = load('upernet_convnext-t_8xb2-160k_ade20k-512x512.py')
    scales, flips, annotations, _ = cfg.tta_pipeline[1].transforms
    assert [t.scale_factor for t in scales] == [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
    assert [t.prob for t in flips] == [0.0, 1.0]
    assert annotations == [dict(type='LoadAnnotations', reduce_zero_label=True)]
    assert cfg.tta_model.type == 'SegTTAModel'


@pytest.mark.parametrize('name', sorted(OFFICIAL))
def test_builds(name):
    cfg = load(name)
    init_default_scope('mmseg')
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    assert model.backbone.arch == ARCH_SETTINGS[OFFICIAL[name][0]]
    assert model.decode_head.num_classes == 150
