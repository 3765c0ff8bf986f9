"""Detection (mmdet) and semantic segmentation (mmseg): everything that differs between the two,
in one place. A config's ``default_scope`` names its task (:func:`task_of`).

Each :class:`Task` knows its registry scope, how its framework builds a model from a config and
checkpoint and runs inference on one image, how results are dumped and drawn by the test tool,
how a prediction becomes JSON, and how to make a synthetic training batch for benchmarks.
"""
import abc
import importlib
import os.path as osp
from typing import Any, Dict, Sequence, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.structures import BaseDataElement


class Task(abc.ABC):
    """The framework-specific half of a detector's or segmentor's life cycle."""

    name: str
    scope: str
    result_dump_metric: str

    def registry(self, name: str):
        """The framework's registry called ``name`` (``'MODELS'``, ``'DATASETS'``, ...)."""
        return getattr(importlib.import_module(f'{self.scope}.registry'), name)

    @abc.abstractmethod
    def init_model(self, cfg: Config):
        """The framework's model from ``cfg`` as its own ``init_*`` API builds it for inference
        (on CPU, eval mode, ``model.cfg`` set), with no checkpoint: ours are read by
        :mod:`convnext_dense.checkpoint_loading`, not by the framework."""

    @abc.abstractmethod
    def num_classes(self, cfg: Config) -> int:
        """How many classes the config's model predicts."""

    @abc.abstractmethod
    def inference(self, model, image: Union[str, np.ndarray]) -> BaseDataElement:
        """The prediction for one image (path, or (H, W, 3) uint8 BGR array)."""

    def draw_arguments(self, score_thr: float) -> dict:
        """Keyword arguments of the visualiser's ``add_datasample``."""
        return {}

    @abc.abstractmethod
    def enable_visualisation(self, cfg: Config, show_dir: str) -> None:
        """Makes the test loop draw every prediction into ``show_dir``."""

    @abc.abstractmethod
    def to_json(self, sample: BaseDataElement, classes: Sequence[str], image: str,
                score_thr: float) -> dict:
        """The prediction as JSON (schema in :mod:`convnext_dense.apis.prediction_json`)."""

    @abc.abstractmethod
    def synthetic_batch(self, num_classes: int, batch_size: int, height: int, width: int,
                        seed: int) -> Dict[str, Any]:
        """Random uint8 images with random ground truth, as the data loader would give them."""

    def __repr__(self) -> str:
        return f'<Task {self.name} ({self.scope})>'


class DetectionTask(Task):
    name, scope, result_dump_metric = 'detection', 'mmdet', 'DumpDetResults'

    def num_classes(self, cfg):
        head = cfg.model.roi_head.bbox_head
        return (head[-1] if isinstance(head, (list, tuple)) else head).num_classes

    def init_model(self, cfg):
        from mmdet.apis import init_detector
        return init_detector(cfg, None, device='cpu')

    def inference(self, model, image):
        from mmdet.apis import inference_detector
        return inference_detector(model, image)

    def draw_arguments(self, score_thr):
        return dict(pred_score_thr=score_thr)

    def enable_visualisation(self, cfg, show_dir):
        _visualization_hook(cfg)['test_out_dir'] = osp.abspath(show_dir)

    def to_json(self, sample, classes, image, score_thr):
        from .apis.prediction_json import detection_to_json
        return detection_to_json(sample, classes, image, score_thr)

    def synthetic_batch(self, num_classes, batch_size, height, width, seed):
        from mmdet.testing import demo_mm_inputs
        return demo_mm_inputs(batch_size, (3, height, width), num_classes=num_classes,
                              with_mask=True)


class SegmentationTask(Task):
    name, scope, result_dump_metric = 'segmentation', 'mmseg', 'DumpResults'

    def num_classes(self, cfg):
        return cfg.model.decode_head.num_classes

    def init_model(self, cfg):
        from mmseg.apis import init_model
        return init_model(cfg, None, device='cpu')

    def inference(self, model, image):
        from mmseg.apis import inference_model
        return inference_model(model, image)

    def enable_visualisation(self, cfg, show_dir):
        _visualization_hook(cfg)['interval'] = 1  # mmseg's hook draws every 50th image
        cfg.visualizer['save_dir'] = show_dir

    def to_json(self, sample, classes, image, score_thr):
        from .apis.prediction_json import segmentation_to_json
        return segmentation_to_json(sample, classes, image)

    def synthetic_batch(self, num_classes, batch_size, height, width, seed):
        from mmengine.structures import PixelData
        from mmseg.structures import SegDataSample
        rng = np.random.RandomState(seed)
        inputs, samples = [], []
        for _ in range(batch_size):
            inputs.append(torch.from_numpy(rng.randint(0, 255, (3, height, width), np.uint8)))
            sample = SegDataSample()
            sample.set_metainfo(dict(img_shape=(height, width), ori_shape=(height, width),
                                     pad_shape=(height, width)))
            labels = rng.randint(0, num_classes, (1, height, width))
            sample.gt_sem_seg = PixelData(data=torch.from_numpy(labels))
            samples.append(sample)
        return dict(inputs=inputs, data_samples=samples)


def _visualization_hook(cfg: Config) -> dict:
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        raise ValueError('--show-dir needs a `visualization` hook in default_hooks.')
    hook['draw'] = True
    return hook


DETECTION = DetectionTask()
SEGMENTATION = SegmentationTask()
TASKS = {task.scope: task for task in (DETECTION, SEGMENTATION)}


def task_of(cfg: Config) -> Task:
    """The task of a config, by its ``default_scope`` (mmdet if it sets none, as mmdet's
    configs rely on); other scopes are refused with the choices."""
    scope = cfg.get('default_scope') or 'mmdet'
    if scope not in TASKS:
        raise ValueError(f"default_scope {scope!r} is not a task convnext-dense runs; "
                         f"use {' or '.join(repr(s) for s in TASKS)}.")
    return TASKS[scope]
