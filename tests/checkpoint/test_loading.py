"""No code runs from a checkpoint on any path a user takes: crafted files served over HTTP
(127.0.0.1 only) to every tool, the Predictor, ``load_from`` and ``init_cfg``, and planted in
the download cache under an official URL's name. Each must be refused with a line naming it
and leave no trace of the code having run; ``--trust-checkpoint`` is the only way to run it."""
import functools
import hashlib
import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import torch

from convnext_dense.apis import Predictor
from convnext_dense.checkpoint.loading import (UnreadableCheckpointError,
                                               UntrustedCheckpointError, cache_dir,
                                               load_checkpoint)
from convnext_dense.models import ConvNeXt

REPO = Path(__file__).resolve().parents[2]
DET = str(REPO / 'configs/demo/mask-rcnn_convnext-atto_toy.py')
SEG = str(REPO / 'configs/demo/upernet_convnext-atto_toy.py')
OFFICIAL_URL = 'https://dl.fbaipublicfiles.com/convnext/convnext_tiny_1k_224.pth'


class Payload:
    """Unpickling this creates ``marker``: the stand-in for an attacker's command."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, 'w')


def write_crafted(path: Path, marker: Path) -> Path:
    torch.save({'state_dict': {'w': torch.zeros(1)}, 'meta': Payload(marker)}, path)
    return path


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path, monkeypatch):
    """(base URL, served folder, marker path, environment for tools): a local HTTP server and
    a private download cache."""
    served = tmp_path / 'served'
    served.mkdir()
    handler = functools.partial(QuietHandler, directory=str(served))
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    monkeypatch.setenv('NO_PROXY', '127.0.0.1')
    env = dict(os.environ)
    marker = tmp_path / 'code_ran'
    write_crafted(served / 'crafted.pth', marker)
    yield f'http://127.0.0.1:{httpd.server_address[1]}', served, marker, env
    httpd.shutdown()


def run_tool(env: dict, tool: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / 'tools' / tool), *args], env=env,
                          cwd=env['TORCH_HOME'].rsplit('/', 1)[0], capture_output=True,
                          text=True, timeout=300)


TOOL_PATHS = {
    'infer': lambda url, d: ('infer.py', DET, url, str(REPO / 'README.md'), '--out-dir', d),
    'test_detector': lambda url, d: ('test.py', DET, url, '--work-dir', d),
    'test_segmentor': lambda url, d: ('test.py', SEG, url, '--work-dir', d),
    'train_load_from': lambda url, d: ('train.py', DET, '--work-dir', d, '--cfg-options',
                                       f'load_from={url}', 'train_cfg.max_iters=1'),
    'convert_checkpoint': lambda url, d: ('convert_checkpoint.py', url, f'{d}/out.pth'),
}


@pytest.mark.slow
@pytest.mark.parametrize('path', sorted(TOOL_PATHS))
def test_tools_refuse_a_crafted_url_and_name_it(server, path, tmp_path):
    base, _, marker, env = server
    url = f'{base}/crafted.pth'
    result = run_tool(env, *TOOL_PATHS[path](url, str(tmp_path / 'out')))
    assert not marker.exists(), 'code in the checkpoint ran'
    assert result.returncode == 2, result.stderr[-3000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f'error: {url}: refused: unpickling it would call io.open')
    assert '--trust-checkpoint' in last and 'Traceback' not in result.stderr


def test_trust_checkpoint_is_the_explicit_opt_in(server, tmp_path):
    """The same file with --trust-checkpoint is unpickled fully: the marker appears, so the
    tests above would see code that ran."""
    base, _, marker, env = server
    run_tool(env, 'convert_checkpoint.py', f'{base}/crafted.pth', str(tmp_path / 'out.pth'),
             '--trust-checkpoint')
    assert marker.exists()


def test_predictor_and_backbone_init_cfg_refuse_a_crafted_url(server):
    base, _, marker, _ = server
    url = f'{base}/crafted.pth'
    with pytest.raises(UntrustedCheckpointError, match='refused'):
        Predictor(SEG, url)
    backbone = ConvNeXt(arch='atto', init_cfg=dict(type='Pretrained', checkpoint=url))
    with pytest.raises(UntrustedCheckpointError, match='refused'):
        backbone.init_weights()
    assert not marker.exists()


def test_a_file_planted_in_the_download_cache_is_refused_offline(tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    marker = tmp_path / 'code_ran'
    planted = Path(cache_dir()) / Path(OFFICIAL_URL).name
    planted.parent.mkdir(parents=True)
    write_crafted(planted, marker)
    env = dict(os.environ, https_proxy='http://127.0.0.1:9')  # no network: a download fails
    result = subprocess.run([sys.executable, str(REPO / 'tools/convert_checkpoint.py'),
                             OFFICIAL_URL, str(tmp_path / 'out.pth')], env=env,
                            capture_output=True, text=True, timeout=300)
    assert not marker.exists()
    assert result.returncode == 2
    assert f'error: {OFFICIAL_URL}: refused' in result.stderr


def test_a_good_url_downloads_once_into_the_cache(server):
    base, served, _, _ = server
    model = ConvNeXt(arch='atto')
    torch.save({'state_dict': model.state_dict()}, served / 'atto.pth')
    digest = hashlib.sha256((served / 'atto.pth').read_bytes()).hexdigest()
    checkpoint = load_checkpoint(f'{base}/atto.pth')
    assert set(checkpoint['state_dict']) == set(model.state_dict())
    cached = Path(cache_dir()) / 'atto.pth'
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == digest
    (served / 'atto.pth').unlink()  # the second load is served from the cache
    assert set(load_checkpoint(f'{base}/atto.pth')['state_dict']) == set(model.state_dict())


def test_a_download_that_does_not_match_the_hash_in_its_name_is_refused(server):
    base, served, _, _ = server
    torch.save({'w': torch.zeros(1)}, served / 'model-deadbeef.pth')
    with pytest.raises(UnreadableCheckpointError, match='the name says it starts with deadbeef'):
        load_checkpoint(f'{base}/model-deadbeef.pth')


def test_an_unreachable_url_is_named(server):
    base, _, _, _ = server
    with pytest.raises(UnreadableCheckpointError, match=f'{base}/missing.pth: download failed'):
        load_checkpoint(f'{base}/missing.pth')


def config_source_that_writes(marker: Path) -> str:
    """A config whose parsing (mmengine executes ``.py`` configs) creates ``marker``."""
    return f'gpu_ids = [0]\n_ = open({str(marker)!r}, "w").write("ran")\n'


@pytest.mark.parametrize('trust', [False, True])
def test_config_strings_in_a_plain_checkpoint_are_not_run(tmp_path, trust):
    """Plain data, which weights-only loading accepts, carrying config source where mmengine's
    Runner.resume (meta.config) and BaseInferencer (message_hub.runtime_info.cfg) parse it
    with Config.fromstring(..., '.py'). Trusted (the control): the code runs."""
    from mmengine.config import Config
    marker = tmp_path / 'ran'
    path = tmp_path / 'plain.pth'
    torch.save({'state_dict': {'w': torch.zeros(1)},
                'meta': dict(epoch=1, iter=2, config=config_source_that_writes(marker)),
                'message_hub': dict(runtime_info=dict(cfg=config_source_that_writes(marker)))},
               path)
    checkpoint = load_checkpoint(str(path), trust=trust)
    for source in (checkpoint['meta'].get('config'),
                   checkpoint['message_hub']['runtime_info'].get('cfg')):
        if source is not None:
            Config.fromstring(source, file_format='.py')
    assert marker.exists() is trust
    if not trust:
        assert checkpoint['meta']['config'] == 'gpu_ids = [0]'  # what resume reads, kept
        assert 'cfg' not in checkpoint['message_hub']['runtime_info']


@pytest.fixture(scope='module')
def demo_runner(toy_run_dir):
    """Our Runner on the Mask R-CNN demo, and a checkpoint it wrote."""
    from convnext_dense.engine.config import load_config
    from convnext_dense.engine.launch import build_runner
    from mmengine.registry import DefaultScope
    root = toy_run_dir('demo_runner')
    scopes = dict(DefaultScope._instance_dict)  # a Runner sets its scope for the whole process
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)  # the demo config reads data/toy_coco
        cfg = load_config(DET)
        cfg.work_dir = str(root / 'work')
        # Its own visualiser: this module-scoped Runner outlives the test that builds it, and
        # mmengine keeps one visualiser per name per process (tests/conftest.py).
        cfg.visualizer.name = 'checkpoint-loading-tests'
        runner = build_runner(cfg)
        runner.save_checkpoint(str(root), 'ours.pth', save_optimizer=False,
                               save_param_scheduler=False)
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(scopes)
    return runner, root / 'ours.pth'


@pytest.fixture
def runner_and_checkpoint(demo_runner):
    """The demo Runner, trusting no checkpoint, and its checkpoint as plain data to edit."""
    runner, path = demo_runner
    runner.cfg.trust_checkpoint = False
    return runner, torch.load(path, weights_only=True)


def test_resume_from_a_plain_checkpoint_runs_no_code(runner_and_checkpoint, tmp_path):
    """mmengine's Runner.resume on our Runner, from a checkpoint our run wrote and someone
    edited: its meta.config made Python source. Trusted (the control), the code runs."""
    runner, checkpoint = runner_and_checkpoint
    marker = tmp_path / 'ran'
    checkpoint['meta']['config'] = config_source_that_writes(marker)
    torch.save(checkpoint, tmp_path / 'edited.pth')
    runner.resume(str(tmp_path / 'edited.pth'))
    assert not marker.exists() and runner.iter == checkpoint['meta']['iter']
    runner.cfg.trust_checkpoint = True
    runner.resume(str(tmp_path / 'edited.pth'))
    assert marker.exists()


def test_resume_from_a_checkpoint_without_a_training_state_is_named(runner_and_checkpoint,
                                                                    tmp_path):
    """A released model (weights and meta, no epoch / iter): mmengine's KeyError 'epoch'
    before; a message hub whose history lengths disagree: mmengine's AssertionError."""
    from convnext_dense.checkpoint.integrity import CorruptCheckpointError
    runner, checkpoint = runner_and_checkpoint
    released = dict(state_dict=checkpoint['state_dict'],
                    meta=dict(dataset_meta=checkpoint['meta']['dataset_meta']))
    torch.save(released, tmp_path / 'released.pth')
    with pytest.raises(CorruptCheckpointError, match=r'released\.pth: no training state '
                       r'\(meta\.epoch / meta\.iter missing\).*load_from'):
        runner.resume(str(tmp_path / 'released.pth'))
    scalars = checkpoint['message_hub']['log_scalars']
    scalars['train/loss'] = dict(scalars.get('train/loss') or {}, __history_buffer__=True,
                                 log_history=[1.0, 2.0], count_history=[1], max_length=10)
    torch.save(checkpoint, tmp_path / 'edited.pth')
    with pytest.raises(CorruptCheckpointError, match=r"edited\.pth: message_hub\.log_scalars"
                       r"\['train/loss'\] has 2 values and 1 counts"):
        runner.resume(str(tmp_path / 'edited.pth'))
