"""Run-time checks, declared in our runtime configs: datasets before the first iteration (and
the test set before testing), checkpoints before their weights reach the model, and what
deterministic mode needs on CUDA.

Config-time checks (before a Runner exists) are in :mod:`..config`.
"""
import os.path as osp

import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.runner import BaseLoop

from ...datasets.image_file import image_file_problem
from ...errors import DatasetError
from ...checkpoint import CheckpointMismatchError, check_fit, unwrap_state_dict
from ..dataset_wrappers import leaf_datasets
from ..determinism import check_deterministic_cuda, prepare_cublas

FILE_KEYS = ('img_path', 'seg_map_path')


def _describe(dataset) -> str:
    return (f'{type(dataset).__name__}(data_root={getattr(dataset, "data_root", None)!r}, '
            f'ann_file={getattr(dataset, "ann_file", None)!r})')


class PreflightHook(Hook):
    """Checks the datasets before the first iteration (and the test set before testing) and
    the fit of every checkpoint before it is loaded into the model.

    Missing image / label files, and images that are empty or not in an image format (by their
    first bytes; every image of a validation / test set, up to ``max_sampled_images`` spread
    over a training set): up to ``max_missing_fraction`` of a training set is reported and left
    to ``LoadImageOrSkip``, which skips those samples; more, or any in a validation / test set
    (every image is scored), stops the run with the count and examples.

    Under deterministic algorithms (``randomness.deterministic``): cuBLAS is configured for
    them, and a model on CUDA with modules that have no deterministic CUDA backward is refused
    before the first iteration (:mod:`..determinism`).
    """

    priority = 'VERY_HIGH'

    def __init__(self, max_missing_fraction: float = 0.01, max_listed: int = 5,
                 max_sampled_images: int = 2000):
        self.max_missing_fraction = max_missing_fraction
        self.max_listed = max_listed
        self.max_sampled_images = max_sampled_images

    def before_train(self, runner) -> None:
        model = runner.model.module if hasattr(runner.model, 'module') else runner.model
        if torch.are_deterministic_algorithms_enabled() and any(
                p.is_cuda for p in model.parameters()):
            check_deterministic_cuda(model)
        self._check(runner.train_dataloader.dataset, 'train', tolerate_missing=True)
        if runner.val_loop is not None:
            self._check(runner.val_dataloader.dataset, 'val', tolerate_missing=False)

    def before_test(self, runner) -> None:
        self._check(runner.test_dataloader.dataset, 'test', tolerate_missing=False)

    def _check(self, dataset, split: str, tolerate_missing: bool) -> None:
        for leaf in leaf_datasets(dataset):
            if len(leaf) == 0:
                raise DatasetError(f'The {split} dataset {_describe(leaf)} is empty (after '
                                   f'filter_cfg={getattr(leaf, "filter_cfg", None)}).')
            self._check_files(leaf, split, tolerate_missing)

    def _check_files(self, dataset, split: str, tolerate_missing: bool) -> None:
        if not hasattr(dataset, 'get_data_info'):
            return
        total = len(dataset)
        infos = [dataset.get_data_info(index) for index in range(total)]
        problems = [f'{info[k]} (missing)' for info in infos for k in FILE_KEYS
                    if info.get(k) and not osp.exists(info[k])]
        images = [info['img_path'] for info in infos
                  if info.get('img_path') and osp.exists(info['img_path'])]
        # Every image of a set that is scored; a spread sample of a training set (headers
        # only: a read of a few bytes each).
        step = max(1, len(images) // self.max_sampled_images) if tolerate_missing else 1
        sampled = images[::step]
        unreadable = [f'{path} ({problem})' for path in sampled
                      for problem in [image_file_problem(path)] if problem]
        problems += unreadable
        if not problems:
            return
        estimated = len(problems) - len(unreadable) + len(unreadable) * step
        listed = ', '.join(problems[:self.max_listed])
        summary = (f'{"about " if step > 1 and unreadable else ""}{min(estimated, total)} of '
                   f'{total} samples of the {split} dataset {_describe(dataset)} have missing '
                   f'or unreadable files, e.g. {listed}')
        if tolerate_missing and estimated <= self.max_missing_fraction * total:
            if is_main_process():
                print_log(summary + '; their samples will be skipped.', logger='current',
                          level=30)
            return
        raise DatasetError(summary + '.')

    def before_run(self, runner) -> None:
        # Called before the Runner loads a checkpoint; a Runner that trains has built its train
        # loop by then, one that only tests or validates has not.
        self._training = isinstance(getattr(runner, '_train_loop', None), BaseLoop)
        if torch.are_deterministic_algorithms_enabled():
            prepare_cublas()  # before the first matmul creates cuBLAS's workspace

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Resuming, testing and validating need the checkpoint to fit the model exactly (a
        half-loaded model is never evaluated or trained on); starting a training from
        ``load_from`` refuses a checkpoint with tensors of other shapes or none of the model's
        keys (another arch or model family)."""
        state = unwrap_state_dict(checkpoint, prefix='')
        model = runner.model.module if hasattr(runner.model, 'module') else runner.model
        source = getattr(runner, '_load_from', None) or 'the checkpoint'
        if getattr(runner, '_resume', False) or not getattr(self, '_training', False):
            check_fit(model, state, source)
            return
        expected = model.state_dict()
        mis_shaped = [f'{k}: checkpoint {tuple(v.shape)} vs model {tuple(expected[k].shape)}'
                      for k, v in state.items() if k in expected and v.shape != expected[k].shape]
        matched = sum(k in expected for k in state)
        if mis_shaped or matched == 0:
            raise CheckpointMismatchError(
                f'Checkpoint {source} does not fit {type(model).__name__}: '
                f'{len(mis_shaped)} tensors have other shapes ({"; ".join(mis_shaped[:5])}), '
                f'{matched} of its {len(state)} keys are model keys. Is it for another arch?')
