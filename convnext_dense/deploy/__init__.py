"""Deployment: whole detectors and segmentors exported to ONNX (standard operators only) and run
by ONNX Runtime. ``import convnext_dense`` registers the ONNX Runtime models; onnx and
onnxruntime (the ``deploy`` extra) are imported only when one is built or a model exported."""
from .onnxruntime_model import OnnxRuntimeDetector, OnnxRuntimeModel, OnnxRuntimeSegmentor

__all__ = ['OnnxRuntimeDetector', 'OnnxRuntimeModel', 'OnnxRuntimeSegmentor']
