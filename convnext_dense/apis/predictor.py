"""Prediction on images with a trained detector or segmentor, and pictures of the result.

mmdet's and mmseg's own model builders, inference functions and visualisers do the work; the
config's task (:mod:`convnext_dense.tasks`) picks which. The checkpoint is read without running
code from it (:mod:`convnext_dense.checkpoint.loading`) and must fit the model exactly: a model
half loaded from another model's checkpoint is refused, never used. SyncBN layers (the paper
heads use them) are turned into plain BatchNorm, since inference runs in one process.
"""
import copy
import functools
import warnings
from typing import Optional, Tuple, Union

import mmcv
import numpy as np
import torch
from mmengine.config import Config
from mmengine.model.utils import revert_sync_batchnorm
from mmengine.registry import DefaultScope
from mmengine.structures import BaseDataElement

from ..checkpoint import load_checkpoint
from ..engine.config import load_config
from ..engine.precision import set_tf32
from ..errors import InputError
from ..checkpoint import check_fit, unwrap_state_dict
from ..tasks import task_of
from ..visualization.legend import add_legend


def _ensure_palette(dataset_meta: dict) -> None:
    # Checkpoints that name their classes but carry no palette (converted ones, for instance)
    # would make mmseg's visualiser fail; a fixed palette keeps colours stable between runs.
    if dataset_meta.get('palette') is None:
        rng = np.random.default_rng(0)
        dataset_meta['palette'] = [tuple(int(c) for c in rng.integers(0, 256, 3))
                                   for _ in dataset_meta['classes']]


def checkpoint_dataset_meta(checkpoint: dict) -> Optional[dict]:
    """The class names (and palette) a checkpoint's ``meta`` records: mmengine's
    ``dataset_meta``, or the ``CLASSES`` / ``PALETTE`` of mmdet 2.x / mmseg 0.x checkpoints."""
    meta = checkpoint.get('meta') or {}
    if isinstance(meta.get('dataset_meta'), dict):
        return {key.lower(): value for key, value in meta['dataset_meta'].items()}
    if 'CLASSES' in meta:
        return {'classes': meta['CLASSES'],
                **({'palette': meta['PALETTE']} if meta.get('PALETTE') else {})}
    return None


def check_device(device: str) -> None:
    """Refuses, in one line, a CUDA device on a machine that has none."""
    if device.startswith('cuda') and not torch.cuda.is_available():
        raise InputError(f'device {device!r}: no CUDA device is available here '
                         f'(torch.cuda.is_available() is False); use cpu.')


class Predictor:
    """A model from ``config`` (path or Config) and ``checkpoint``, ready to predict.

    ``predict(image)`` takes an image path or an (H, W, 3) uint8 BGR array (as mmcv reads
    images) and returns mmdet's ``DetDataSample`` (``pred_instances``: boxes (N, 4) xyxy in
    image pixels, scores, labels, masks (N, H, W)) or mmseg's ``SegDataSample``
    (``pred_sem_seg``: (1, H, W) class indices). ``checkpoint`` may also be a ``.onnx`` file
    from ``tools/export.py``: ONNX Runtime then predicts, through the same pipeline.
    """

    def __init__(self, config: Union[str, Config], checkpoint: Optional[str] = None,
                 device: str = 'cpu', trust_checkpoint: bool = False):
        check_device(device)
        cfg = load_config(config, check_data=False) if isinstance(config, str) else config
        set_tf32((cfg.get('env_cfg') or {}).get('tf32'))
        self.task = task_of(cfg)
        if checkpoint and checkpoint.endswith('.onnx'):
            model = self._onnxruntime_model(cfg, checkpoint, device)
        else:
            model = self._pytorch_model(cfg, checkpoint, trust_checkpoint)
        self.model = model.to(device)
        self.cfg = self.model.cfg

    def _onnxruntime_model(self, cfg: Config, onnx_file: str, device: str):
        """A file from ``tools/export.py``, run by ONNX Runtime (CPU)."""
        if device != 'cpu':
            raise InputError(f'{onnx_file}: ONNX models run on the CPU here; use --device cpu.')
        model = self.task.registry('MODELS').build(self.task.onnxruntime_model(cfg, onnx_file))
        model.cfg = cfg
        return model

    def _pytorch_model(self, cfg: Config, checkpoint: Optional[str], trust_checkpoint: bool):
        """The framework's model with ``checkpoint``'s weights (read without running code)."""
        # The checkpoint is read first: a bad one is refused before a model is built.
        loaded = load_checkpoint(checkpoint, trust=trust_checkpoint) if checkpoint else None
        with DefaultScope.overwrite_default_scope(self.task.scope):
            with warnings.catch_warnings(record=True) as caught:
                model = revert_sync_batchnorm(self.task.init_model(cfg))
            # Without a checkpoint mmdet warns that it uses COCO's classes; ours come below.
            for warning in caught:
                if 'checkpoint is None' not in str(warning.message):
                    warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                           warning.lineno)
            if loaded is not None:
                state = unwrap_state_dict(loaded, prefix='')
                check_fit(model, state, checkpoint)
                model.load_state_dict(state)
            model.dataset_meta = self._dataset_meta(cfg, loaded)
        return model

    def _dataset_meta(self, cfg: Config, checkpoint: Optional[dict]) -> dict:
        """Classes from the checkpoint (else the config's test set); palette from the config's
        test set, else the checkpoint, else a fixed random one (mmdet's order)."""
        dataset = copy.deepcopy(cfg.test_dataloader.dataset)
        dataset['lazy_init'] = True
        config_meta = dict(self.task.registry('DATASETS').build(dataset).metainfo)
        meta = dict((checkpoint and checkpoint_dataset_meta(checkpoint)) or config_meta)
        if config_meta.get('palette') is not None and \
                len(config_meta['palette']) >= len(meta['classes']):
            meta['palette'] = config_meta['palette']
        _ensure_palette(meta)
        return meta

    def predict(self, image: Union[str, np.ndarray]) -> BaseDataElement:
        with DefaultScope.overwrite_default_scope(self.task.scope):
            return self.task.inference(self.model, image)

    def draw(self, image: Union[str, np.ndarray], sample: BaseDataElement, out_file: str,
             score_thr: float = 0.3, draw_gt: bool = False) -> np.ndarray:
        """Writes a PNG of the predictions (boxes, class names, scores and masks; or the class
        colour map with a legend of the classes shown), with the ground truth beside them if
        ``draw_gt`` and ``sample`` carries it; returns the RGB picture."""
        rgb = mmcv.imread(image, channel_order='rgb') if isinstance(image, str) else image[..., ::-1]
        picture = self._draw(rgb, sample, score_thr, draw_gt=draw_gt, draw_pred=True)
        if self.task.pictures_need_legend:
            picture = add_legend(picture, self._legend_entries(sample, draw_gt))
        mmcv.imwrite(picture[..., ::-1], out_file)
        return picture

    def draw_panels(self, rgb: np.ndarray, sample: BaseDataElement,
                    score_thr: float = 0.3) -> Tuple[np.ndarray, np.ndarray]:
        """(ground truth, prediction) pictures of ``sample`` drawn on ``rgb`` (H, W, 3) uint8
        RGB, each (H, W, 3) RGB; ``sample`` carries both (``gt_instances`` / ``gt_sem_seg``
        beside ``pred_instances`` / ``pred_sem_seg``) in ``rgb``'s pixels."""
        return (self._draw(rgb, sample, score_thr, draw_gt=True, draw_pred=False),
                self._draw(rgb, sample, score_thr, draw_gt=False, draw_pred=True))

    def _draw(self, rgb: np.ndarray, sample: BaseDataElement, score_thr: float, **what):
        with DefaultScope.overwrite_default_scope(self.task.scope):
            self.visualizer.add_datasample('prediction', rgb, sample, show=False, **what,
                                           **self.task.draw_arguments(score_thr))
            return self.visualizer.get_image()

    def _legend_entries(self, sample: BaseDataElement, draw_gt: bool):
        maps = [sample.pred_sem_seg] + ([sample.gt_sem_seg] if draw_gt and
                                        'gt_sem_seg' in sample else [])
        labels = sorted({int(v) for m in maps for v in np.unique(m.data.cpu().numpy())})
        classes, palette = self.model.dataset_meta['classes'], self.model.dataset_meta['palette']
        return [(classes[label], tuple(palette[label])) for label in labels
                if label < len(classes)]

    @functools.cached_property
    def visualizer(self):
        """The config's visualiser (mmdet's or mmseg's), writing only where ``draw`` says."""
        registry = self.task.registry('VISUALIZERS')
        settings = dict(self.cfg.visualizer, name=f'predictor-{id(self)}', vis_backends=None,
                        save_dir=None)
        visualizer = registry.build(settings)
        visualizer.dataset_meta = self.model.dataset_meta
        return visualizer
