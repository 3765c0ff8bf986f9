"""mmengine's Runner with every checkpoint read by our safe loader; declared by the runtime
configs (``runner_type = 'SafeLoadingRunner'``), so mmdet's / mmseg's own train and test tools
build it too.

mmengine reads ``load_from`` / resume checkpoints given as URLs through torch.hub, which
unpickles them fully: a crafted file runs code. This Runner reads them, local or remote, with
:func:`~convnext_dense.checkpoint.load_checkpoint` (``weights_only``); the config key
``trust_checkpoint = True`` (``--trust-checkpoint``) is the user's explicit opt-in to full
unpickling.

The config key ``compile`` compiles the model's backbone and neck, not mmengine's whole training
step (:mod:`convnext_dense.engine.compile`).

It also applies ``env_cfg.tf32`` (:mod:`convnext_dense.engine.precision`) with the rest of
mmengine's environment set-up, and builds data loaders whose workers leave SIGTERM / SIGINT to
the main process (:mod:`~convnext_dense.engine.hooks.stop_on_signal`): the workers of mmengine's
iteration-based loop start when the loop is built, before any hook could change them.
"""
import os
from functools import partial

from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint_to_model

from ..checkpoint import check_resumable, load_checkpoint
from .compile import compile_options, compile_static_parts
from .hooks.stop_on_signal import leave_stop_signals_to_the_main_process
from .precision import set_tf32


class SafeLoadingRunner(Runner):
    """A :class:`mmengine.runner.Runner` whose ``load_checkpoint`` (used by ``load_from`` and
    resume) reads the file or URL without running code from it, unless the config sets
    ``trust_checkpoint=True``, that applies ``env_cfg.tf32``, and whose data-loader workers
    leave SIGTERM / SIGINT to the main process. Everything else is mmengine's."""

    def _maybe_compile(self, target: str) -> None:
        """mmengine compiles the whole ``target`` step (losses, optimizer step included) when
        the config sets ``compile``; this compiles its static parts instead
        (:mod:`convnext_dense.engine.compile`), for training and, through :meth:`val` /
        :meth:`test`, inference."""
        options = compile_options(self.cfg.get('compile'))
        if options is None:
            return
        compiled = compile_static_parts(self.model, options)
        if compiled:
            self.logger.info(f'torch.compile({options or ""}) of the model\'s '
                             f'{" and ".join(compiled)}; the first iterations compile them.')

    def val(self) -> dict:
        self._maybe_compile('val_step')
        return super().val()

    def test(self) -> dict:
        self._maybe_compile('test_step')
        return super().test()

    def setup_env(self, env_cfg: dict) -> None:
        super().setup_env(env_cfg)
        set_tf32(env_cfg.get('tf32'))

    @staticmethod
    def build_dataloader(dataloader, seed=None, diff_rank_seed: bool = False):
        loader = Runner.build_dataloader(dataloader, seed=seed, diff_rank_seed=diff_rank_seed)
        init = getattr(loader, 'worker_init_fn', None)
        if getattr(init, 'func', None) is not leave_stop_signals_to_the_main_process:
            loader.worker_init_fn = partial(leave_stop_signals_to_the_main_process,
                                            main_pid=os.getpid(), worker_init_fn=init)
        return loader

    _resuming = False

    def resume(self, filename: str, *args, **kwargs) -> None:
        """mmengine's resume, from a checkpoint that holds a training state
        (:func:`~convnext_dense.checkpoint.check_resumable`, before anything reads it)."""
        self._resuming = True
        try:
            super().resume(filename, *args, **kwargs)
        finally:
            self._resuming = False

    def load_checkpoint(self, filename: str, map_location='cpu', strict: bool = False,
                        revise_keys: list = [(r'^module.', '')]):  # noqa: B006 (mmengine's)
        checkpoint = load_checkpoint(filename, map_location=map_location,
                                     trust=bool(self.cfg.get('trust_checkpoint', False)))
        if self._resuming:
            check_resumable(checkpoint, filename)
        # The rest is mmengine's Runner.load_checkpoint, step for step.
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(self.model) else self.model
        checkpoint = _load_checkpoint_to_model(model, checkpoint, strict,
                                               revise_keys=revise_keys)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

