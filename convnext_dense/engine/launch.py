"""Maps the command-line flags of the ``train`` and ``test`` commands to config keys.

Nothing here adds behaviour a config does not show: what every run does (hooks, robust image
loading, atomic checkpoints) is declared in the configs' runtime bases, and each flag sets the
config key it names. What differs between detection and segmentation (result dumping,
visualisation) is the config's task's (:mod:`convnext_dense.tasks`). Distributed runs on
CPU-only machines (gloo) are prepared here too.
"""
import datetime
import os
import os.path as osp
import subprocess
import tempfile
from typing import Optional

import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from ..checkpoint import check_checkpoint, latest_complete_checkpoint
from ..errors import ConfigError, InputError
from ..tasks import task_of

DEFAULT_COLLECTIVE_TIMEOUT_S = 600


def build_runner(cfg: Config) -> Runner:
    """mmengine's Runner, or the config's own ``runner_type``."""
    return Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)


def set_work_dir(cfg: Config, config_path: str, work_dir: Optional[str]) -> None:
    """``--work-dir``, else the config's own, else ``./work_dirs/<config name>``."""
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(config_path))[0])


def check_work_dir(work_dir: str) -> None:
    """The work dir is a folder this process can write to (made if missing), or
    :class:`InputError` naming it: a regular file where a folder should be, or no write
    permission (read-only mounts included)."""
    path = osp.abspath(work_dir)
    existing = path
    while not osp.exists(existing):
        existing = osp.dirname(existing)
    if not osp.isdir(existing):
        raise InputError(f'work dir {work_dir}: {existing} is a file, not a folder; choose '
                         f'another with --work-dir.')
    try:
        os.makedirs(path, exist_ok=True)
        descriptor, probe = tempfile.mkstemp(dir=path, prefix='.write-test-')
        os.close(descriptor)
        os.remove(probe)
    except OSError as error:
        raise InputError(f'work dir {work_dir}: cannot write there ({error.strerror}); '
                         f'choose a writable folder with --work-dir.') from None


def enable_amp(cfg: Config) -> None:
    """Switches the optimizer wrapper to mixed precision (dynamic loss scale)."""
    if not torch.cuda.is_available():
        raise ValueError('--amp needs a CUDA device: mmengine.AmpOptimWrapper only runs on GPU '
                         '(or NPU / MLU / MUSA), and none is available here.')
    if cfg.optim_wrapper.get('type', 'OptimWrapper') != 'AmpOptimWrapper':
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')


def set_resume(cfg: Config, resume: Optional[str]) -> None:
    """``'auto'``: the newest *complete* checkpoint in the work dir (truncated ones are passed
    over with a warning; none: train from the start); a path: that checkpoint, which must be
    complete (:class:`CorruptCheckpointError` otherwise)."""
    if resume is None:
        return
    if resume == 'auto':
        resume = latest_complete_checkpoint(cfg.work_dir)
        if resume is None:
            print_log(f'--resume: no complete checkpoint in {cfg.work_dir}; training from the '
                      f'start.', logger='current')
            return
    elif not osp.isfile(resume):
        raise FileNotFoundError(f'--resume checkpoint {resume} does not exist.')
    check_checkpoint(resume)
    cfg.resume = True
    cfg.load_from = resume


def enable_auto_scale_lr(cfg: Config) -> None:
    """Scales lrs by (GPUs x images per GPU) / ``auto_scale_lr.base_batch_size``."""
    if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
        raise ValueError('--auto-scale-lr needs `auto_scale_lr = dict(base_batch_size=...)` '
                         'in the config.')
    cfg.auto_scale_lr.enable = True


def prepare_cpu_distributed(cfg: Config, launcher: str) -> None:
    """Lets a ``torchrun`` or Slurm launch run on CPU with gloo.

    mmengine 0.10.x's launchers call ``torch.cuda.set_device`` and wrap DDP with a CUDA
    ``device_ids``; neither works without a GPU. We open the gloo process group first (the
    Runner then keeps it) and give DDP ``device_ids=None``, as CPU modules need. Under Slurm the
    ranks come from ``srun``'s variables (:func:`slurm_rendezvous`).
    """
    if launcher not in ('pytorch', 'slurm') or torch.cuda.is_available():
        return
    if launcher == 'slurm':
        slurm_rendezvous()
    cfg.env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
    wrapper = dict(cfg.get('model_wrapper_cfg') or {})
    wrapper.setdefault('type', 'MMDistributedDataParallel')
    wrapper.update(device_ids=None, broadcast_buffers=False)
    wrapper.setdefault('find_unused_parameters', cfg.get('find_unused_parameters', False))
    cfg.model_wrapper_cfg = wrapper
    if not dist.is_initialized():
        # A collective waiting on a dead peer gives up after this long (torchrun's agent
        # usually ends the job sooner, when it sees a worker die).
        timeout = cfg.env_cfg.dist_cfg.get('timeout', DEFAULT_COLLECTIVE_TIMEOUT_S)
        dist.init_process_group(backend='gloo', rank=int(os.environ['RANK']),
                                world_size=int(os.environ['WORLD_SIZE']),
                                timeout=datetime.timedelta(seconds=timeout))
    print_log('No CUDA device: distributed run on CPU with the gloo backend.', logger='current')


def slurm_rendezvous() -> None:
    """``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT`` from the
    variables ``srun`` sets, as mmengine's Slurm launcher derives them: the first host of
    ``SLURM_NODELIST`` (``MASTER_ADDR`` if set wins), port ``MASTER_PORT`` or 29500."""
    missing = [name for name in ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_NODELIST')
               if name not in os.environ]
    if missing:
        raise InputError(f'--launcher slurm: {", ".join(missing)} not set; start the tool '
                         f'with srun (tools/slurm_train.sh), or use --launcher pytorch.')
    os.environ['RANK'] = os.environ['SLURM_PROCID']
    os.environ['WORLD_SIZE'] = os.environ['SLURM_NTASKS']
    os.environ['LOCAL_RANK'] = os.environ.get('SLURM_LOCALID', '0')
    os.environ.setdefault('MASTER_PORT', '29500')
    if 'MASTER_ADDR' not in os.environ:
        nodes = os.environ['SLURM_NODELIST']
        try:
            hosts = subprocess.run(['scontrol', 'show', 'hostnames', nodes], check=True,
                                   capture_output=True, text=True).stdout.split()
        except (OSError, subprocess.CalledProcessError):
            hosts = [nodes] if nodes.replace('-', '').replace('.', '').isalnum() else []
        if not hosts:
            raise InputError(f'--launcher slurm: cannot expand SLURM_NODELIST={nodes} without '
                             f'scontrol; set MASTER_ADDR to the first node\'s address.')
        os.environ['MASTER_ADDR'] = hosts[0]


def add_result_dump(cfg: Config, out_file: str) -> None:
    """Appends a metric that pickles every prediction to ``out_file``."""
    if not out_file.endswith(('.pkl', '.pickle')):
        raise ValueError(f'--out must name a .pkl / .pickle file, got {out_file}')
    dump = dict(type=task_of(cfg).result_dump_metric, out_file_path=out_file)
    evaluators = cfg.test_evaluator
    cfg.test_evaluator = (list(evaluators) if isinstance(evaluators, (list, tuple))
                          else [evaluators]) + [dump]


def enable_visualisation(cfg: Config, show_dir: str) -> None:
    """Draws predictions (boxes / masks, or segmentation overlays) into ``show_dir``."""
    task_of(cfg).enable_visualisation(cfg, show_dir)


def use_onnx_model(cfg: Config, onnx_file: str) -> None:
    """Tests ``onnx_file`` (from ``tools/export.py``) in ONNX Runtime instead of the config's
    PyTorch model: the dataloader, evaluator and hooks stay the config's."""
    cfg.model = task_of(cfg).onnxruntime_model(cfg, onnx_file)
    cfg.load_from = None


def enable_test_time_augmentation(cfg: Config) -> None:
    """Multi-scale + flip testing with the config's ``tta_model`` and ``tta_pipeline``."""
    missing = [key for key in ('tta_model', 'tta_pipeline') if key not in cfg]
    if missing:
        raise ValueError(f'--tta needs {missing} in the config.')
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    cfg.tta_model.module = cfg.model
    cfg.model = cfg.tta_model


def enable_tensorboard(cfg: Config) -> None:
    """Also log scalars (losses, lr, metrics) to TensorBoard event files under the run's
    ``vis_data/``; the same as adding ``dict(type='TensorboardVisBackend')`` to the config's
    ``visualizer.vis_backends``."""
    backends = list(cfg.visualizer.get('vis_backends') or [dict(type='LocalVisBackend')])
    if not any(b.get('type') == 'TensorboardVisBackend' for b in backends):
        backends.append(dict(type='TensorboardVisBackend'))
    cfg.visualizer.vis_backends = backends


def set_randomness(cfg: Config, seed: Optional[int], deterministic: bool) -> None:
    """``--seed`` / ``--deterministic``: mmengine seeds python, numpy and torch (and data loader
    workers) with ``seed``; deterministic mode also makes torch use deterministic algorithms."""
    if seed is None and not deterministic:
        return
    randomness = dict(cfg.get('randomness') or {})
    if seed is not None:
        randomness['seed'] = seed
    if deterministic:
        randomness['deterministic'] = True
        if randomness.get('seed') is None:
            raise ValueError('--deterministic needs a seed: pass --seed N (or set '
                             'randomness.seed in the config).')
    cfg.randomness = randomness


def take_over_lock(cfg: Config) -> None:
    """``--take-over-lock``: the config's ``WorkDirLockHook`` takes over the work dir's lock
    whoever holds it (``take_over=True``): for a lock left by a run killed on another host."""
    hooks = [h for h in cfg.get('custom_hooks') or [] if h.get('type') == 'WorkDirLockHook']
    if not hooks:
        raise ConfigError('--take-over-lock sets WorkDirLockHook.take_over, and this config '
                          'declares no WorkDirLockHook in custom_hooks.')
    for hook in hooks:
        hook['take_over'] = True


def set_nonfinite_loss_action(cfg: Config, action: str) -> None:
    """``--nonfinite-loss stop|skip``: the ``action`` of the config's ``NonFiniteLossHook``."""
    hooks = [h for h in cfg.get('custom_hooks') or [] if h.get('type') == 'NonFiniteLossHook']
    if not hooks:
        raise ValueError('--nonfinite-loss sets NonFiniteLossHook.action, and this config '
                         "declares no NonFiniteLossHook in custom_hooks (our runtime bases "
                         "do: configs/_base_/det_runtime.py, seg_runtime.py).")
    for hook in hooks:
        hook['action'] = action
