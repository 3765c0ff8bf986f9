"""ConvNeXt V2 paper configs against the V2 paper's recipes (Woo et al. 2023, appendix: COCO
Mask R-CNN 3x with large-scale jitter, batch 32, AdamW 1e-4, soft-NMS; ADE20K UperNet 160k,
batch 16, multi-scale test) and the sweeps' chosen values; each builds and trains one step with
an atto backbone, and the inference paths they add (soft-NMS, multi-scale + flip) run."""
import copy
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.model.utils import revert_sync_batchnorm
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope

from convnext_dense.apis import Predictor
from convnext_dense.cli.model_zoo import zoo_entry
from convnext_dense.engine.config import read_config
from convnext_dense.models import ARCH_SETTINGS
from convnext_dense.tasks import task_of

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'
V2_URL = 'https://dl.fbaipublicfiles.com/convnext/convnextv2/'
V2_DIRS = ('mask_rcnn_v2', 'cascade_mask_rcnn_v2', 'upernet_v2')

# config: (arch, drop path, lr, layer decay, num_layers, backbone weights (None: unpublished),
#          published result (box AP, mask AP) / (ss, ms) mIoU, None: not run by the paper)
DET = 'mask_rcnn_v2/mask-rcnn_convnext-v2-{}_fpn_lsj-3x-{}_coco.py'
SEG = 'upernet_v2/upernet_convnext-v2-{}_8xb2-160k_ade20k-{}.py'
V2 = {
    DET.format('b', 'fcmae'): ('base', 0.4, 1e-4, 0.95, 12, 'im1k/convnextv2_base_1k_224_ema.pt',
                               (52.9, 46.6)),
    DET.format('l', 'fcmae'): ('large', 0.5, 1e-4, 0.9, 12,
                               'im1k/convnextv2_large_1k_224_ema.pt', (54.4, 47.7)),
    DET.format('h', 'fcmae'): ('huge', 0.5, 1e-4, 0.9, 12, 'im1k/convnextv2_huge_1k_224_ema.pt',
                               (55.7, 48.9)),
    DET.format('b', 'supervised'): ('base', 0.4, 1e-4, 0.95, 12, None, (51.0, 45.6)),
    DET.format('l', 'supervised'): ('large', 0.5, 1e-4, 0.9, 12, None, (51.5, 45.8)),
    DET.format('t', 'fcmae'): ('tiny', 0.4, 1e-4, 0.95, 6, 'im1k/convnextv2_tiny_1k_224_ema.pt',
                               (None, None)),
    'cascade_mask_rcnn_v2/cascade-mask-rcnn_convnext-v2-t_fpn_lsj-3x-fcmae_coco.py':
        ('tiny', 0.4, 2e-4, 0.7, 6, 'im1k/convnextv2_tiny_1k_224_ema.pt', (None, None)),
    SEG.format('b', '512x512-fcmae'): ('base', 0.4, 1e-4, 0.9, 12,
                                       'im1k/convnextv2_base_1k_224_ema.pt', (None, 52.1)),
    SEG.format('l', '512x512-fcmae'): ('large', 0.4, 1e-4, 0.9, 12,
                                       'im1k/convnextv2_large_1k_224_ema.pt', (None, 53.7)),
    SEG.format('h', '512x512-fcmae'): ('huge', 0.4, 1e-4, 0.9, 12,
                                       'im1k/convnextv2_huge_1k_224_ema.pt', (None, 55.0)),
    SEG.format('b', '512x512-supervised'): ('base', 0.4, 1e-4, 0.9, 12, None, (None, 50.5)),
    SEG.format('l', '512x512-supervised'): ('large', 0.4, 1e-4, 0.9, 12, None, (None, 51.6)),
    SEG.format('h', '640x640-fcmae-in22k'): ('huge', 0.4, 1e-4, 0.9, 12,
                                             'im22k/convnextv2_huge_22k_512_ema.pt',
                                             (None, 57.0)),
    SEG.format('t', '512x512-fcmae'): ('tiny', 0.4, 1e-4, 0.9, 6,
                                       'im1k/convnextv2_tiny_1k_224_ema.pt', (None, None)),
    **{SEG.format(size, '512x512-fcmae'): (size, 0.1, 1e-4, 0.9, 6,
                                           f'im1k/convnextv2_{size}_1k_224_ema.pt', (None, None))
       for size in ('atto', 'femto', 'pico', 'nano')},
}
ATTO = list(ARCH_SETTINGS['atto'].channels)


def load(config: str) -> Config:
    return read_config(str(CONFIGS / config))


def test_every_v2_config_is_in_the_table():
    found = {str(p.relative_to(CONFIGS)) for d in V2_DIRS for p in (CONFIGS / d).glob('*.py')}
    assert found == set(V2)


@pytest.mark.slow
@pytest.mark.parametrize('config', sorted(V2))
def test_recipe_and_published_result(config):
    arch, drop_path, lr, decay, num_layers, weights, result = V2[config]
    cfg = load(config)
    backbone = cfg.model.backbone
    assert (backbone.arch, backbone.use_grn, backbone.layer_scale_init_value) == \
        (arch, True, 0.0)
    assert backbone.drop_path_rate == drop_path
    checkpoint = backbone.init_cfg.checkpoint
    zoo_checkpoint = zoo_entry(str(CONFIGS / config))['backbone_checkpoint']
    if weights:
        assert checkpoint == V2_URL + weights == zoo_checkpoint
    else:  # no published weights: a local path the user fills, and the zoo says so
        assert not checkpoint.startswith('http') and zoo_checkpoint is None
    wrapper = cfg.optim_wrapper
    assert wrapper.type == 'AmpOptimWrapper' and wrapper.optimizer.lr == lr
    assert wrapper.paramwise_cfg == dict(decay_rate=decay, decay_type='layer_wise',
                                         num_layers=num_layers)
    zoo = cfg.model_zoo
    if 'miou' in zoo:
        assert tuple(zoo.miou) == result
        assert cfg.train_cfg.max_iters == 160000 and cfg.train_dataloader.batch_size == 2
        ratios = [t.scale_factor for t in cfg.tta_pipeline[1].transforms[0]]
        assert ratios == [0.75, 1.0, 1.25]
        assert cfg.model.decode_head.in_channels == list(ARCH_SETTINGS[arch].channels)
    else:
        assert (zoo.box_ap, zoo.mask_ap) == result
        assert cfg.train_cfg.max_epochs == 36
        assert (cfg.train_dataloader.batch_size, cfg.auto_scale_lr.base_batch_size) == (4, 32)
        jitter = next(t for t in cfg.train_pipeline if t.type == 'RandomResize')
        assert (jitter.scale, jitter.ratio_range) == ((1024, 1024), (0.1, 2.0))
        rcnn = cfg.model.test_cfg.rcnn
        assert rcnn.nms.type == 'soft_nms' and cfg.model.test_cfg.rpn.nms.type == 'nms'
        assert cfg.model.neck.in_channels == list(ARCH_SETTINGS[arch].channels)


def with_atto_backbone(cfg: Config) -> Config:
    """The config's model with an atto backbone (random weights) and heads to match."""
    model = copy.deepcopy(cfg.model)
    model.backbone.update(arch='atto', init_cfg=None)
    if 'neck' in model:
        model.neck.in_channels = ATTO
    else:
        model.decode_head.in_channels = ATTO
        model.auxiliary_head.in_channels = ATTO[2]
        model.data_preprocessor.size = (64, 64)  # not the 512 crops: seconds, not minutes
    cfg.model = model
    return cfg


@pytest.mark.slow
@pytest.mark.parametrize('config', sorted(V2))
def test_trains_one_step_with_an_atto_backbone(config):
    cfg = with_atto_backbone(load(config))
    task = task_of(cfg)
    with DefaultScope.overwrite_default_scope(task.scope):
        model = revert_sync_batchnorm(task.registry('MODELS').build(cfg.model))
        model.init_weights()
        wrapper = build_optim_wrapper(model, dict(cfg.optim_wrapper, type='OptimWrapper'))
        num_classes = 150 if task.scope == 'mmseg' else 80
        batch = task.synthetic_batch(num_classes, 2, 64, 64, seed=0)
        losses = model.train_step(batch, wrapper)
    assert losses and all(torch.isfinite(v).all() for v in losses.values())


def test_soft_nms_inference_of_a_v2_detector():
    cfg = with_atto_backbone(load(DET.format('b', 'fcmae')))
    cfg.model.test_cfg.rcnn.score_thr = 0.0  # an untrained model: keep every box
    for head in (cfg.model.roi_head.bbox_head, cfg.model.roi_head.mask_head):
        head.num_classes = 2  # soft-NMS runs per class over all 1000 proposals
    predictor = Predictor(cfg)
    sample = predictor.predict(np.random.default_rng(0).integers(0, 255, (96, 128, 3),
                                                                  np.uint8))
    boxes = sample.pred_instances
    assert len(boxes) > 0 and (boxes.scores[:-1] >= boxes.scores[1:]).all()


def test_multi_scale_flip_inference_of_a_v2_segmentor(tmp_path):
    cfg = with_atto_backbone(load(SEG.format('b', '512x512-fcmae')))
    image, label = tmp_path / 'a.jpg', tmp_path / 'a.png'
    cv2.imwrite(str(image), np.random.default_rng(0).integers(0, 255, (64, 96, 3), np.uint8))
    cv2.imwrite(str(label), np.full((64, 96), 3, np.uint8))
    with DefaultScope.overwrite_default_scope('mmseg'):
        from mmseg.registry import MODELS
        tta_model = MODELS.build(dict(cfg.tta_model, module=cfg.model))
        tta_model.module = revert_sync_batchnorm(tta_model.module)
        tta_model.eval()
        views = Compose(cfg.tta_pipeline)(dict(img_path=str(image), seg_map_path=str(label),
                                               reduce_zero_label=True, seg_fields=[]))
        assert len(views['inputs']) == 6  # 3 scales x (no flip, flip)
        with torch.no_grad():
            result = tta_model.test_step(pseudo_collate([views]))
    assert result[0].pred_sem_seg.data.shape == (1, 64, 96)
