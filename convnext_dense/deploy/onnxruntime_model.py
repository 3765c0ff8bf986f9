"""An exported ONNX model run by ONNX Runtime, in the shape of an mmengine model, so mmengine's
test loop (with the config's dataloader and CocoMetric / IoUMetric) and mmdet's / mmseg's
inference functions use it as they use the PyTorch model."""
from abc import abstractmethod
from typing import List, Optional

import numpy as np
import torch
from mmengine.config import ConfigDict
from mmengine.model import BaseModel
from mmengine.structures import InstanceData, PixelData

from ..errors import InputError
from .metadata import check_fits_config, read_metadata


class OnnxRuntimeModel(BaseModel):
    """``onnx_file`` (written by ``tools/export.py``) on ONNX Runtime's CPU provider.

    ``test_step`` / ``val_step`` take the data loader's batch (``inputs``: (3, H, W) uint8 images
    as the test pipeline made them; ``data_samples`` with their metainfo) and return the samples
    with predictions in original-image pixels, as the PyTorch model's ``predict`` does; the
    subclasses turn the graph's outputs into mmdet's / mmseg's prediction fields.
    ``dataset_meta`` (classes, palette) comes from the file, which must have as many classes
    as ``num_classes`` when given (the config's, set by ``tools/test.py`` and the Predictor).
    Inference only.
    """

    task_name: str

    def __init__(self, onnx_file: str, num_threads: int = 0,
                 data_preprocessor: Optional[dict] = None, num_classes: Optional[int] = None):
        # The runner hands every model the config's data_preprocessor; the graph holds its own
        # preprocessing, so the batch goes to it as the pipeline made it.
        super().__init__()
        import onnx  # the deploy extra's dependencies, needed only here
        import onnxruntime
        try:
            model = onnx.load(onnx_file, load_external_data=False)
        except Exception as error:  # onnx raises DecodeError, OSError, ... for a bad file
            raise InputError(f'{onnx_file}: not a readable ONNX model ({error}).') from None
        self.metadata = read_metadata(model, onnx_file)
        if self.metadata['task'] != self.task_name:
            raise InputError(f'{onnx_file}: an exported {self.metadata["task"]} model, and this '
                             f'config is for {self.task_name}.')
        if num_classes is not None:
            check_fits_config(self.metadata, num_classes, onnx_file)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = num_threads
        self.session = onnxruntime.InferenceSession(
            model.SerializeToString(), options, providers=['CPUExecutionProvider'])
        self.output_names = [output.name for output in self.session.get_outputs()]
        self.dataset_meta = dict(classes=tuple(self.metadata['classes']),
                                 palette=[tuple(c) for c in self.metadata['palette']])
        fixed = self.metadata['input'].get('shape')
        self.fixed_shape = tuple(fixed) if fixed else None
        self.onnx_file = onnx_file

    def run(self, image: torch.Tensor) -> dict:
        """The graph's outputs, by name, for one (3, H, W) image."""
        if self.fixed_shape and tuple(image.shape[-2:]) != self.fixed_shape:
            raise InputError(f'{self.onnx_file}: exported for {self.fixed_shape[0]}x'
                             f'{self.fixed_shape[1]} images only, got {image.shape[-2]}x'
                             f'{image.shape[-1]}; export with --dynamic for any size.')
        batch = image[None].float().numpy()
        outputs = self.session.run(None, {'image': batch})
        return {name: torch.from_numpy(np.ascontiguousarray(value))
                for name, value in zip(self.output_names, outputs)}

    def test_step(self, data: dict) -> list:
        return [self.predict_one(image, sample)
                for image, sample in zip(data['inputs'], data['data_samples'])]

    val_step = test_step

    @abstractmethod
    def predict_one(self, image: torch.Tensor, sample):
        """``sample`` with this task's prediction fields for ``image`` (3, H, W)."""

    def forward(self, *args, **kwargs):
        raise RuntimeError('an ONNX Runtime model only predicts (test_step / val_step).')


class OnnxRuntimeDetector(OnnxRuntimeModel):
    """Mask R-CNN / Cascade Mask R-CNN graphs: boxes rescaled to the original image; masks
    pasted there and thresholded at the config's ``mask_thr_binary`` by mmdet's own
    ``FCNMaskHead`` post-processing (a class-agnostic head without layers of its own use)."""

    task_name = 'detection'

    def __init__(self, onnx_file: str, num_threads: int = 0,
                 data_preprocessor: Optional[dict] = None, num_classes: Optional[int] = None):
        super().__init__(onnx_file, num_threads, data_preprocessor, num_classes)
        from mmdet.models.roi_heads.mask_heads import FCNMaskHead
        self.mask_pasting = FCNMaskHead(num_convs=0, num_classes=1, class_agnostic=True)
        self.mask_cfg = ConfigDict(mask_thr_binary=self.metadata['mask_thr_binary'])

    def predict_one(self, image, sample):
        outputs = self.run(image)
        boxes = outputs['boxes']
        scale_w, scale_h = sample.metainfo.get('scale_factor', (1.0, 1.0))
        meta = dict(sample.metainfo, scale_factor=(scale_w, scale_h))
        masks = self.mask_pasting._predict_by_feat_single(
            outputs['masks'][:, None], boxes.clone(), outputs['labels'], meta, self.mask_cfg,
            rescale=True, activate_map=True)
        sample.pred_instances = InstanceData(
            bboxes=boxes / boxes.new_tensor([scale_w, scale_h, scale_w, scale_h]),
            scores=outputs['scores'], labels=outputs['labels'], masks=masks)
        return sample


class OnnxRuntimeSegmentor(OnnxRuntimeModel):
    """UperNet (mmseg ``EncoderDecoder``) graphs: logits resized to the original image and
    their argmax, as mmseg's ``postprocess_result`` does."""

    task_name = 'segmentation'

    def predict_one(self, image, sample):
        from mmseg.models.utils import resize
        logits = self.run(image)['seg_logits']
        height, width = sample.metainfo['ori_shape'][:2]
        if tuple(logits.shape[-2:]) != (height, width):
            logits = resize(logits, size=(height, width), mode='bilinear',
                            align_corners=self.metadata['align_corners'], warning=False)
        logits = logits[0]
        sample.seg_logits = PixelData(data=logits)
        sample.pred_sem_seg = PixelData(data=logits.argmax(dim=0, keepdim=True))
        return sample


ONNXRUNTIME_MODELS: List[type] = [OnnxRuntimeDetector, OnnxRuntimeSegmentor]
