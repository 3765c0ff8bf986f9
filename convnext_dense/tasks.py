"""Detection (mmdet) and semantic segmentation (mmseg): everything that differs between the two,
in one place. A config's ``default_scope`` names its task (:func:`task_of`).

Each :class:`Task` knows its registry scope, how its framework builds a model from a config and
checkpoint and runs inference on one image, how results are dumped and drawn by the test tool,
how a prediction becomes JSON (and a label map), how to make a synthetic training batch for
benchmarks, and how its model is exported to ONNX and run in ONNX Runtime.
"""
import abc
import importlib
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.structures import BaseDataElement


class Task(abc.ABC):
    """The framework-specific half of a detector's or segmentor's life cycle."""

    name: str
    scope: str
    result_dump_metric: str
    # The registered model type that runs an exported ONNX file in ONNX Runtime.
    onnxruntime_model_type: str
    # Post-processing constants an exported file records beside its graph: name -> JSON types.
    export_constants: Dict[str, Tuple[type, ...]]
    # Whether predictions carry one full-image mask per instance (their memory grows with it).
    predicts_instance_masks: bool = False
    # Whether a picture of a prediction needs a legend of the classes shown (colour maps do).
    pictures_need_legend: bool = False
    # Legend entries for what a picture shows but the metrics do not score.
    unscored_legend_entries: List[Tuple[str, Tuple[int, int, int]]] = []

    def registry(self, name: str):
        """The framework's registry called ``name`` (``'MODELS'``, ``'DATASETS'``, ...)."""
        return getattr(importlib.import_module(f'{self.scope}.registry'), name)

    @abc.abstractmethod
    def init_model(self, cfg: Config):
        """The framework's model from ``cfg`` as its own ``init_*`` API builds it for inference
        (on CPU, eval mode, ``model.cfg`` set), with no checkpoint: ours are read by
        :mod:`convnext_dense.checkpoint.loading`, not by the framework."""

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

    @abc.abstractmethod
    def export_constant_values(self, cfg: Config) -> Dict[str, Any]:
        """The values of :attr:`export_constants` in ``cfg``."""

    @abc.abstractmethod
    def export_graph(self, model, fixed_size: bool):
        """The exportable ``nn.Module`` of the framework's ``model`` (eval mode, CPU)."""

    def onnxruntime_model(self, cfg: Config, onnx_file: str) -> dict:
        """The model config that runs ``onnx_file`` in ONNX Runtime in place of ``cfg``'s."""
        return dict(type=self.onnxruntime_model_type, onnx_file=onnx_file,
                    num_classes=self.num_classes(cfg))

    def label_map(self, sample: BaseDataElement) -> Optional[np.ndarray]:
        """The class index of every pixel, (H, W), for tasks that predict one; else None."""
        return None

    def __repr__(self) -> str:
        return f'<Task {self.name} ({self.scope})>'


class DetectionTask(Task):
    name, scope, result_dump_metric = 'detection', 'mmdet', 'DumpDetResults'
    onnxruntime_model_type = 'OnnxRuntimeDetector'
    export_constants = {'mask_thr_binary': (int, float)}
    predicts_instance_masks = True

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

    def export_constant_values(self, cfg):
        return {'mask_thr_binary': float(cfg.model.test_cfg.rcnn.mask_thr_binary)}

    def export_graph(self, model, fixed_size):
        from .deploy.detector_graph import TwoStageDetectorGraph
        from .errors import InputError
        if not (hasattr(model, 'rpn_head') and getattr(model, 'roi_head', None) is not None
                and model.roi_head.with_mask):
            raise InputError(f'{type(model).__name__}: only two-stage detectors with an RPN '
                             f'and a mask head (Mask R-CNN, Cascade Mask R-CNN) export.')
        return TwoStageDetectorGraph(model)


class SegmentationTask(Task):
    name, scope, result_dump_metric = 'segmentation', 'mmseg', 'DumpResults'
    onnxruntime_model_type = 'OnnxRuntimeSegmentor'
    export_constants = {'align_corners': (bool, )}
    pictures_need_legend = True
    # mmseg's visualiser leaves ignored pixels unlit.
    unscored_legend_entries = [('unlabelled (not scored)', (0, 0, 0))]

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

    def export_constant_values(self, cfg):
        return {'align_corners': bool(cfg.model.decode_head.get('align_corners', False))}

    def export_graph(self, model, fixed_size):
        from .deploy.segmentor_graph import SegmentorGraph
        return SegmentorGraph(model, fixed_size=fixed_size)

    def label_map(self, sample):
        return sample.pred_sem_seg.data[0].cpu().numpy()


def _visualization_hook(cfg: Config) -> dict:
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        raise ValueError('--show-dir needs a `visualization` hook in default_hooks.')
    hook['draw'] = True
    return hook


DETECTION = DetectionTask()
SEGMENTATION = SegmentationTask()
TASKS = {task.scope: task for task in (DETECTION, SEGMENTATION)}
TASKS_BY_NAME = {task.name: task for task in TASKS.values()}


def task_of(cfg: Config) -> Task:
    """The task of a config, by its ``default_scope`` (mmdet if it sets none, as mmdet's
    configs rely on); other scopes are refused with the choices."""
    scope = cfg.get('default_scope') or 'mmdet'
    if scope not in TASKS:
        raise ValueError(f"default_scope {scope!r} is not a task convnext-dense runs; "
                         f"use {' or '.join(repr(s) for s in TASKS)}.")
    return TASKS[scope]
