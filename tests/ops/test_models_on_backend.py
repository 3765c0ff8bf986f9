"""The detectors and segmentors in scope train and predict on CPU with only our kernels.

Stock mmdet / mmseg configs (from their packaged ``.mim/configs``) are built with small inputs;
the kernels each model calls are recorded, and any unprovided kernel would raise
MissingKernelError and fail the test."""
import os
from typing import Callable, Set

import mmdet
import mmseg
import pytest
import torch
from mmengine.config import Config
from mmengine.model.utils import revert_sync_batchnorm
from mmengine.registry import init_default_scope

import convnext_dense.ops.kernels as kernels
from convnext_dense.ops.backend import EXT_NAME

MMDET_CONFIGS = os.path.join(os.path.dirname(mmdet.__file__), '.mim', 'configs')
MMSEG_CONFIGS = os.path.join(os.path.dirname(mmseg.__file__), '.mim', 'configs')


@pytest.fixture
def called_kernels(monkeypatch) -> Set[str]:
    """Names of our kernels called during the test."""
    import sys
    ext = sys.modules[EXT_NAME]
    called: Set[str] = set()

    def recording(name: str, kernel: Callable) -> Callable:
        def wrapper(*args, **kwargs):
            called.add(name)
            return kernel(*args, **kwargs)
        return wrapper

    for name, kernel in kernels.PROVIDED_KERNELS.items():
        monkeypatch.setattr(ext, name, recording(name, kernel))
    return called


def detection_batch(model, size: int = 128, num_images: int = 2):
    from mmdet.structures import DetDataSample
    from mmdet.structures.mask import BitmapMasks
    from mmengine.structures import InstanceData
    inputs, samples = [], []
    for _ in range(num_images):
        inputs.append(torch.randint(0, 255, (3, size, size), dtype=torch.uint8))
        sample = DetDataSample(metainfo=dict(img_shape=(size, size), ori_shape=(size, size),
                                             scale_factor=(1.0, 1.0), pad_shape=(size, size)))
        masks = torch.zeros(2, size, size, dtype=torch.uint8)
        masks[0, 10:60, 20:70] = 1
        masks[1, 70:120, 40:100] = 1
        sample.gt_instances = InstanceData(
            bboxes=torch.tensor([[20.0, 10, 70, 60], [40.0, 70, 100, 120]]),
            labels=torch.tensor([1, 3]), masks=BitmapMasks(masks.numpy(), size, size))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def build_detector(config: str, backbone: dict = None, neck_in_channels=None):
    """A stock mmdet config's model, without pretrained weights; optionally another backbone."""
    from mmdet.registry import MODELS
    cfg = Config.fromfile(os.path.join(MMDET_CONFIGS, config))
    init_default_scope('mmdet')
    cfg.model.backbone.init_cfg = None
    if backbone is not None:
        cfg.model.backbone.update(backbone)
        cfg.model.neck.in_channels = neck_in_channels
    # Fewer proposals keep CPU time down; the ops reached are the same.
    cfg.model.train_cfg.rpn_proposal.max_per_img = 100
    cfg.model.test_cfg.rpn.max_per_img = 50
    return revert_sync_batchnorm(MODELS.build(cfg.model))


def train_step_and_predict(model, data):
    """One loss + backward in train mode, then predict in eval mode, on raw ``data``."""
    model.train()
    batch = model.data_preprocessor(data, True)
    losses = model.loss(batch['inputs'], batch['data_samples'])
    total, _ = model.parse_losses(losses)
    total.backward()
    model.eval()
    batch = model.data_preprocessor(data, False)
    with torch.no_grad():
        results = model.predict(batch['inputs'], batch['data_samples'])
    return total, results


def test_stock_mask_rcnn_r50_trains_and_predicts(called_kernels):
    model = build_detector('mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py')
    loss, results = train_step_and_predict(model, detection_batch(model))
    assert torch.isfinite(loss)
    assert len(results) == 2 and 'masks' in results[0].pred_instances
    assert called_kernels == {'nms', 'roi_align_forward', 'roi_align_backward'}


def test_cascade_mask_rcnn_giou_4conv1fc_with_our_backbone(called_kernels):
    # The stock config names mmpretrain's ConvNeXt; `type` moves it to ours (atto for speed).
    model = build_detector(
        'convnext/cascade-mask-rcnn_convnext-t-p4-w7_fpn_4conv1fc-giou_amp-ms-crop-3x_coco.py',
        backbone=dict(type='ConvNeXt', arch='atto'), neck_in_channels=[40, 80, 160, 320])
    loss, results = train_step_and_predict(model, detection_batch(model))
    assert torch.isfinite(loss)
    assert 'masks' in results[0].pred_instances
    assert called_kernels == {'nms', 'roi_align_forward', 'roi_align_backward'}


def test_upernet_with_our_backbone_needs_no_kernel(called_kernels):
    from mmseg.registry import MODELS
    from mmseg.structures import SegDataSample
    from mmengine.structures import PixelData
    cfg = Config.fromfile(os.path.join(
        MMSEG_CONFIGS, 'convnext/convnext-tiny_upernet_8xb2-amp-160k_ade20k-512x512.py'))
    init_default_scope('mmseg')
    cfg.model.backbone.update(type='ConvNeXt', arch='atto', init_cfg=None)
    cfg.model.decode_head.in_channels = [40, 80, 160, 320]
    cfg.model.decode_head.channels = 64
    cfg.model.auxiliary_head.in_channels = 160
    cfg.model.test_cfg = dict(mode='whole')
    model = revert_sync_batchnorm(MODELS.build(cfg.model))
    size = 128
    samples = []
    for _ in range(2):
        sample = SegDataSample(metainfo=dict(img_shape=(size, size), ori_shape=(size, size),
                                             pad_shape=(size, size)))
        sample.gt_sem_seg = PixelData(data=torch.randint(0, 150, (1, size, size)))
        samples.append(sample)
    inputs = [torch.randint(0, 255, (3, size, size), dtype=torch.uint8) for _ in range(2)]
    loss, results = train_step_and_predict(model, dict(inputs=inputs, data_samples=samples))
    assert torch.isfinite(loss)
    assert results[0].pred_sem_seg.data.shape == (1, size, size)
    assert called_kernels == set()
