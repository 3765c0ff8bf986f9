"""Whole models exported to ONNX (standard operators only, any image size) give mmdet's and
mmseg's own predictions in ONNX Runtime: Mask R-CNN, Cascade Mask R-CNN and UperNet with V1 and
V2 backbones, briefly trained so that their outputs are not the initial ones, on toy scenes at
two sizes. mmdet's / mmseg's ``predict`` is the reference; ``OnnxRuntimeDetector`` /
``OnnxRuntimeSegmentor`` (what tools/test.py and tools/infer.py run) produce what is compared."""
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.optim import OptimWrapper
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData
from mmseg.structures import SegDataSample

from convnext_dense.apis import Predictor
from convnext_dense.datasets import toy_ade20k, toy_coco
from convnext_dense.datasets.toy_scenes import render_scene
from convnext_dense.deploy import OnnxRuntimeDetector, OnnxRuntimeSegmentor
from convnext_dense.deploy.metadata import export_metadata
from convnext_dense.deploy.onnx_export import (export_graph, export_onnx, non_standard_operators,
                                               operators)
from convnext_dense.engine.config import load_config
from convnext_dense.errors import InputError
from convnext_dense.tasks import DETECTION

REPO = Path(__file__).resolve().parents[2]
CONFIGS = {'mask-rcnn': 'configs/demo/mask-rcnn_convnext-atto_toy.py',
           'cascade-mask-rcnn': 'configs/demo/cascade-mask-rcnn_convnext-atto_toy.py',
           'upernet': 'configs/demo/upernet_convnext-atto_toy.py'}
V2_OPTIONS = {'model.backbone.use_grn': True, 'model.backbone.layer_scale_init_value': 0.0}
# A few steps teach the box heads mostly "background": no score threshold keeps the full
# max_per_img detections to compare (the class-wise NMS then has work to do). Their mask
# probabilities are still near 0.5 everywhere, where a threshold flips pixels on float rounding:
# the masks are compared soft (mmdet's uint8 0-255 for a negative threshold).
DETECTION_OPTIONS = {'model.test_cfg.rcnn.score_thr': 0.0,
                     'model.test_cfg.rcnn.mask_thr_binary': -1.0}
SIZES = ((160, 160), (136, 200))  # the traced size, and one the graph pads to 32s itself


def trained_predictor(name: str, v2: bool, steps: int = 3) -> Predictor:
    """The demo model after a few AdamW steps on synthetic batches (eval mode)."""
    options = dict(V2_OPTIONS if v2 else {}, **({} if name == 'upernet' else DETECTION_OPTIONS))
    cfg = load_config(str(REPO / CONFIGS[name]), options, check_data=False)
    predictor = Predictor(cfg)
    model = predictor.model.train()
    optimizer = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-4))
    for step in range(steps):
        model.train_step(predictor.task.synthetic_batch(len(predictor.model.dataset_meta['classes']),
                                                        2, 160, 160, seed=step), optimizer)
    model.eval()
    return predictor


def scenes(size, detection: bool, count=2):
    """Toy scenes as the task's toy dataset draws them (cropped to ``size``)."""
    options = (toy_coco if detection else toy_ade20k).SCENE_OPTIONS
    rng = np.random.default_rng(sum(size))
    return [render_scene(rng, max(size), **options)[0][:size[0], :size[1]].copy()
            for _ in range(count)]


def reference_and_onnxruntime(predictor, runtime, image: np.ndarray):
    """mmdet's / mmseg's ``predict`` on ``image`` (its own preprocessor, no resize) and the
    ONNX Runtime model's prediction, as samples."""
    height, width = image.shape[:2]
    sample_type = DetDataSample if predictor.task is DETECTION else SegDataSample
    meta = dict(img_shape=(height, width), ori_shape=(height, width), scale_factor=(1.0, 1.0))
    tensor = torch.from_numpy(image).permute(2, 0, 1).contiguous()
    data = predictor.model.data_preprocessor(
        dict(inputs=[tensor], data_samples=[sample_type(metainfo=meta)]), False)
    with torch.no_grad():
        expected = predictor.model.predict(data['inputs'], data['data_samples'])[0]
    found = runtime.test_step(dict(inputs=[tensor], data_samples=[sample_type(metainfo=meta)]))[0]
    return expected, found


def assert_same_detections(expected: InstanceData, found: InstanceData):
    assert len(expected) == len(found) > 0
    assert torch.equal(expected.labels, found.labels)
    torch.testing.assert_close(found.bboxes, expected.bboxes, rtol=1e-3, atol=1e-2)
    torch.testing.assert_close(found.scores, expected.scores, rtol=1e-4, atol=1e-5)
    assert found.masks.dtype == expected.masks.dtype == torch.uint8
    assert (found.masks.int() - expected.masks.int()).abs().max() <= 1  # 0-255 rounding
    assert expected.masks.flatten(1).max(1).values.gt(128).any()  # some mask above 0.5


@pytest.mark.slow
@pytest.mark.parametrize('v2', [False, True], ids=['v1', 'v2'])
@pytest.mark.parametrize('name', CONFIGS)
def test_exported_model_gives_the_frameworks_predictions(name, v2, tmp_path):
    predictor = trained_predictor(name, v2)
    graph = export_graph(predictor.model, predictor.task, fixed_size=False)
    metadata = export_metadata(predictor.cfg, predictor.task, predictor.model.dataset_meta,
                               SIZES[0], dynamic=True)
    path = str(tmp_path / f'{name}.onnx')
    model = export_onnx(graph, path, SIZES[0], dynamic=True, metadata=metadata)
    onnx.checker.check_model(path, full_check=True)
    assert not non_standard_operators(model)
    used = {op for _, op in operators(model)}
    detection = predictor.task is DETECTION
    assert ({'RoiAlign', 'NonMaxSuppression', 'TopK'} if detection else {'Resize'}) <= used

    runtime = (OnnxRuntimeDetector if detection else OnnxRuntimeSegmentor)(path)
    assert runtime.dataset_meta['classes'] == tuple(predictor.model.dataset_meta['classes'])
    for size in SIZES:
        for image in scenes(size, detection):
            expected, found = reference_and_onnxruntime(predictor, runtime, image)
            if detection:
                assert_same_detections(expected.pred_instances, found.pred_instances)
            else:
                same = (expected.pred_sem_seg.data == found.pred_sem_seg.data).float().mean()
                assert same >= 0.999
                assert len(expected.pred_sem_seg.data.unique()) > 1  # not one class everywhere


@pytest.mark.slow
def test_sliding_window_segmentation_exports_for_its_size(tmp_path):
    predictor = trained_predictor('upernet', v2=False)
    predictor.model.test_cfg = ConfigDict(mode='slide', crop_size=(96, 96), stride=(64, 64))
    with pytest.raises(InputError, match='fixed --shape'):
        export_graph(predictor.model, predictor.task, fixed_size=False)
    graph = export_graph(predictor.model, predictor.task, fixed_size=True)
    metadata = export_metadata(predictor.cfg, predictor.task, predictor.model.dataset_meta,
                               SIZES[0], dynamic=False)
    path = str(tmp_path / 'slide.onnx')
    export_onnx(graph, path, SIZES[0], dynamic=False, metadata=metadata)
    runtime = OnnxRuntimeSegmentor(path)
    image = scenes(SIZES[0], detection=False, count=1)[0]
    expected, found = reference_and_onnxruntime(predictor, runtime, image)
    torch.testing.assert_close(found.seg_logits.data, expected.seg_logits.data, atol=1e-4,
                               rtol=1e-4)
    with pytest.raises(InputError, match='exported for 160x160 images only'):
        runtime.test_step(dict(inputs=[torch.zeros(3, 128, 160, dtype=torch.uint8)],
                               data_samples=[SegDataSample()]))
