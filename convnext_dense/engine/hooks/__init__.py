"""Hooks our runtime configs declare, so every entry point (our tools, mmengine's Runner,
mmdet's / mmseg's tools) runs the same ones."""
from .nonfinite_loss import NonFiniteLossHook
from .preflight import PreflightHook
from .progress_bar import ProgressBarHook
from .rng_state import RngStateHook
from .weights_only_checkpoint import WeightsOnlyCheckpointHook

__all__ = ['NonFiniteLossHook', 'PreflightHook', 'ProgressBarHook', 'RngStateHook',
           'WeightsOnlyCheckpointHook']
