"""The quick start that `make demo` runs: ConvNeXt from the mmdet and mmseg registries, the
feature pyramid it emits, and one Mask R-CNN training step + prediction on CPU."""
import os
import time

import mmdet
import torch
from mmengine.config import Config
from mmengine.model.utils import revert_sync_batchnorm
from mmengine.registry import init_default_scope

import convnext_dense  # noqa: F401  (op backend, registries)
from convnext_dense.models import ConvNeXt

MASK_RCNN_CONFIG = os.path.join(os.path.dirname(mmdet.__file__), '.mim', 'configs', 'convnext',
                                'mask-rcnn_convnext-t-p4-w7_fpn_amp-ms-crop-3x_coco.py')


def print_feature_pyramid() -> None:
    from mmdet.registry import MODELS as MMDET_MODELS
    from mmseg.registry import MODELS as MMSEG_MODELS
    for scope, registry in (('mmdet', MMDET_MODELS), ('mmseg', MMSEG_MODELS)):
        model = registry.build(dict(type='ConvNeXt', arch='tiny')).eval()
        with torch.no_grad():
            outs = model(torch.randn(1, 3, 224, 224))
        shapes = ', '.join(f'{tuple(o.shape[1:])}/s{s}' for o, s in zip(outs, model.out_strides))
        print(f'[{scope}] ConvNeXt-T on 224x224 -> {shapes}')


def mask_rcnn_step() -> None:
    from mmdet.registry import MODELS
    from mmdet.structures import DetDataSample
    from mmdet.structures.mask import BitmapMasks
    from mmengine.structures import InstanceData
    cfg = Config.fromfile(MASK_RCNN_CONFIG)
    init_default_scope('mmdet')
    # The stock config with mmpretrain's ConvNeXt-T; ours by changing `type` (atto for CPU).
    cfg.model.backbone = dict(type='ConvNeXt', arch='atto', drop_path_rate=0.1)
    cfg.model.neck.in_channels = list(ConvNeXt(arch='atto').out_channels)
    model = revert_sync_batchnorm(MODELS.build(cfg.model))
    size = 192
    masks = torch.zeros(1, size, size, dtype=torch.uint8)
    masks[0, 40:140, 30:120] = 1
    sample = DetDataSample(metainfo=dict(img_shape=(size, size), ori_shape=(size, size),
                                         scale_factor=(1.0, 1.0)))
    sample.gt_instances = InstanceData(bboxes=torch.tensor([[30.0, 40, 120, 140]]),
                                       labels=torch.tensor([0]),
                                       masks=BitmapMasks(masks.numpy(), size, size))
    data = dict(inputs=[torch.randint(0, 255, (3, size, size), dtype=torch.uint8)],
                data_samples=[sample])
    start = time.perf_counter()
    model.train()
    loss, log_vars = model.parse_losses(model(**model.data_preprocessor(data, True), mode='loss'))
    loss.backward()
    model.eval()
    with torch.no_grad():
        result = model(**model.data_preprocessor(data, False), mode='predict')[0]
    print(f'Mask R-CNN + ConvNeXt-atto: train step loss {loss.item():.3f}, '
          f'{len(result.pred_instances)} predicted instances with masks, '
          f'{time.perf_counter() - start:.1f} s on CPU')


if __name__ == '__main__':
    print_feature_pyramid()
    mask_rcnn_step()
