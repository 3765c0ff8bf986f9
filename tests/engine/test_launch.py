"""Command-line choices turned into config changes, and their errors."""
import os
import socket

import pytest
import torch
import torch.distributed as dist
from mmengine.config import Config

from convnext_dense.engine import launch
from convnext_dense.checkpoint.integrity import CorruptCheckpointError
from convnext_dense.errors import ConfigError, InputError


def detection_cfg(**extra) -> Config:
    return Config(dict(default_scope='mmdet', optim_wrapper=dict(type='OptimWrapper'),
                       env_cfg=dict(dist_cfg=dict(backend='nccl')),
                       test_evaluator=dict(type='CocoMetric'),
                       default_hooks=dict(visualization=dict(type='DetVisualizationHook')),
                       visualizer=dict(type='DetLocalVisualizer'), model=dict(type='MaskRCNN'),
                       test_dataloader=dict(dataset=dict(pipeline=[])), **extra))


def test_work_dir_defaults_to_config_name():
    cfg = detection_cfg()
    launch.set_work_dir(cfg, 'configs/demo/my-model.py', None)
    assert cfg.work_dir == './work_dirs/my-model'
    launch.set_work_dir(cfg, 'configs/demo/my-model.py', '/tmp/x')
    assert cfg.work_dir == '/tmp/x'


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU-only error')
def test_amp_without_gpu_is_a_clear_error():
    with pytest.raises(ValueError, match='--amp needs a CUDA device'):
        launch.enable_amp(detection_cfg())


def test_resume_modes(tmp_path):
    cfg = detection_cfg()
    cfg.work_dir = str(tmp_path)
    launch.set_resume(cfg, 'auto')  # nothing to resume from: train from the start
    assert not cfg.get('resume') and cfg.get('load_from') is None
    checkpoint = tmp_path / 'iter_4.pth'
    torch.save({'state_dict': {}}, checkpoint)
    launch.set_resume(cfg, 'auto')
    assert cfg.resume is True and cfg.load_from == str(checkpoint)
    launch.set_resume(cfg, str(checkpoint))
    assert cfg.load_from == str(checkpoint)
    (tmp_path / 'empty.pth').write_bytes(b'')
    with pytest.raises(CorruptCheckpointError, match='empty.pth: truncated'):
        launch.set_resume(cfg, str(tmp_path / 'empty.pth'))
    with pytest.raises(FileNotFoundError, match='missing.pth does not exist'):
        launch.set_resume(cfg, str(tmp_path / 'missing.pth'))


def test_result_dump_follows_the_scope():
    cfg = detection_cfg()
    launch.add_result_dump(cfg, 'out.pkl')
    assert [e['type'] for e in cfg.test_evaluator] == ['CocoMetric', 'DumpDetResults']
    seg = Config(dict(default_scope='mmseg', test_evaluator=[dict(type='IoUMetric')]))
    launch.add_result_dump(seg, 'out.pkl')
    assert seg.test_evaluator[-1] == dict(type='DumpResults', out_file_path='out.pkl')
    with pytest.raises(ValueError, match='out.json'):
        launch.add_result_dump(cfg, 'out.json')


def test_visualisation_and_tta_settings():
    cfg = detection_cfg()
    launch.enable_visualisation(cfg, 'vis')
    assert cfg.default_hooks.visualization.draw and cfg.default_hooks.visualization.test_out_dir
    with pytest.raises(ValueError, match=r"\['tta_model', 'tta_pipeline'\]"):
        launch.enable_test_time_augmentation(cfg)
    cfg.tta_model, cfg.tta_pipeline = dict(type='DetTTAModel'), [dict(type='Load')]
    launch.enable_test_time_augmentation(cfg)
    assert cfg.model.type == 'DetTTAModel' and cfg.model.module.type == 'MaskRCNN'
    assert cfg.test_dataloader.dataset.pipeline == [dict(type='Load')]


@pytest.mark.skipif(torch.cuda.is_available(), reason='the CPU-only distributed path')
def test_cpu_distributed_uses_gloo_and_cpu_ddp(monkeypatch):
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    for key, value in dict(RANK='0', WORLD_SIZE='1', MASTER_ADDR='127.0.0.1',
                           MASTER_PORT=str(port)).items():
        monkeypatch.setenv(key, value)
    cfg = detection_cfg()
    try:
        launch.prepare_cpu_distributed(cfg, 'pytorch')
        assert dist.is_initialized() and dist.get_backend() == 'gloo'
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg.device_ids is None
    untouched = detection_cfg()
    launch.prepare_cpu_distributed(untouched, 'none')
    assert 'model_wrapper_cfg' not in untouched


def test_slurm_variables_give_the_rendezvous(monkeypatch):
    for name in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT'):
        # Set first, so that monkeypatch restores them: slurm_rendezvous writes os.environ,
        # and a MASTER_ADDR left behind would send later launches to gpu-node-3.
        monkeypatch.setenv(name, '')
        monkeypatch.delenv(name)
    monkeypatch.setenv('SLURM_PROCID', '5')
    monkeypatch.setenv('SLURM_NTASKS', '16')
    monkeypatch.setenv('SLURM_LOCALID', '1')
    monkeypatch.setenv('SLURM_NODELIST', 'gpu-node-3')
    monkeypatch.setenv('PATH', '/nonexistent')  # no scontrol: a single plain host name is used
    launch.slurm_rendezvous()
    assert [os.environ[name] for name in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR',
                                          'MASTER_PORT')] == ['5', '16', '1', 'gpu-node-3', '29500']
    monkeypatch.delenv('MASTER_ADDR')
    monkeypatch.setenv('SLURM_NODELIST', 'gpu-node-[3-4]')
    with pytest.raises(InputError, match=r'cannot expand SLURM_NODELIST=gpu-node-\[3-4\] '
                       'without scontrol; set MASTER_ADDR'):
        launch.slurm_rendezvous()
    monkeypatch.delenv('SLURM_NTASKS')
    with pytest.raises(InputError, match='SLURM_NTASKS not set; start the tool with srun'):
        launch.slurm_rendezvous()


def test_take_over_lock_sets_the_hooks_key():
    cfg = Config(dict(custom_hooks=[dict(type='RngStateHook'), dict(type='WorkDirLockHook')]))
    launch.take_over_lock(cfg)
    assert cfg.custom_hooks[1] == dict(type='WorkDirLockHook', take_over=True)
    with pytest.raises(ConfigError, match='declares no WorkDirLockHook'):
        launch.take_over_lock(Config(dict(custom_hooks=[])))
