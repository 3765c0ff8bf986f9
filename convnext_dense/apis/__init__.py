from .prediction_json import detection_to_json, segmentation_to_json
from .predictor import Predictor

__all__ = ['Predictor', 'detection_to_json', 'segmentation_to_json']
