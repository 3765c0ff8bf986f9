"""Hooks our runtime configs declare, so every entry point (our tools, mmengine's Runner,
mmdet's / mmseg's tools) runs the same ones."""
from .nonfinite_loss import NonFiniteLossHook
from .preflight import PreflightHook
from .progress_bar import ProgressBarHook
from .resumed_validation import ResumedValidationHook
from .rng_state import RngStateHook
from .stop_on_signal import StopOnSignalHook
from .weights_only_checkpoint import WeightsOnlyCheckpointHook
from .work_dir_lock import WorkDirLockHook

ALL_HOOKS = (NonFiniteLossHook, PreflightHook, ProgressBarHook, ResumedValidationHook,
             RngStateHook, StopOnSignalHook, WeightsOnlyCheckpointHook, WorkDirLockHook)

__all__ = [hook.__name__ for hook in ALL_HOOKS] + ['ALL_HOOKS']
