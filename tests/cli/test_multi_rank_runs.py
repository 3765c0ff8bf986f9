"""Two ranks (gloo, CPU) of the Mask R-CNN demo, launched as users launch them: torchrun through
tools/dist_train.sh, and Slurm through tools/slurm_train.sh with a stand-in ``srun`` that sets
each task's ``SLURM_*`` variables (fake_srun.py). What each test shows:

* every rank draws its own random numbers, and a run killed and resumed draws, on each rank,
  what the uninterrupted run drew (and reaches its losses);
* SIGTERM to the whole job, or to one rank only: every rank stops after the same iteration,
  one checkpoint, status 143 on every rank, nothing left running, the lock released, and
  --resume ends exactly like the uninterrupted run;
* a live training's lock is refused on every rank with one line and no hang, while a crashed
  run's lock on another node does not block the requeued job (same Slurm job id);
* one download per node, and a failed download fails every rank with the same line, no hang.

These are `slow`: CI runs them (``make test-all``), ``make test`` does not.
"""
import functools
import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from convnext_dense.engine.hooks.work_dir_lock import process_start

from processes import free_port, marked_environment, processes_marked, wait_for

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / 'configs/demo/mask-rcnn_convnext-atto_toy.py'
ITERS = 8
SCHEDULE = ['--seed', '0', '--deterministic', '--cfg-options', f'train_cfg.max_iters={ITERS}',
            f'train_cfg.val_begin={ITERS + 1}', 'default_hooks.checkpoint.interval=2',
            'default_hooks.checkpoint.max_keep_ckpts=-1', 'default_hooks.logger.interval=1']

# Records, before each iteration and after RngStateHook restored a resumed run's states, a
# fingerprint of the torch generator every draw of the model (drop path, RoI sampling) takes.
DRAW_RECORDER = '''
import hashlib, json, os
import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class DrawRecorder(Hook):
    priority = 'LOW'

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        state = hashlib.sha1(torch.get_rng_state().numpy().tobytes()).hexdigest()[:16]
        os.makedirs(os.path.join(runner.work_dir, 'draws'), exist_ok=True)
        path = os.path.join(runner.work_dir, 'draws', f'rank{get_rank()}.jsonl')
        with open(path, 'a') as f:
            f.write(json.dumps(dict(iter=runner.iter + 1, state=state)) + '\\n')
'''


@pytest.fixture(scope='module')
def root(toy_run_dir) -> Path:
    """The runs' folder: the toy data, the draw recorder, a config with it whose backbone is
    initialised from a URL (a local server counting requests: ``root.server``) and ``srun``."""
    import torch
    from convnext_dense.models import ConvNeXt
    root = toy_run_dir('multi_rank')
    (root / 'draw_recorder.py').write_text(DRAW_RECORDER)
    (root / 'served').mkdir()
    torch.save(ConvNeXt(arch='atto').state_dict(), root / 'served/atto.pth')
    server = SERVERS[root] = CountingServer(root / 'served')
    (root / 'config.py').write_text(
        f"_base_ = '{DEMO}'\n"
        "custom_imports = dict(imports=[*_base_.custom_imports.imports, 'draw_recorder'])\n"
        "custom_hooks = [*_base_.custom_hooks, dict(type='DrawRecorder')]\n"
        f"model = dict(backbone=dict(init_cfg=dict(type='Pretrained', "
        f"checkpoint='{server.url}/atto.pth')))\n")
    bin_dir = root / 'bin'
    bin_dir.mkdir()
    (bin_dir / 'srun').write_text(
        f'#!/bin/sh\nexec {sys.executable} {Path(__file__).parent / "fake_srun.py"} "$@"\n')
    (bin_dir / 'srun').chmod(0o755)
    yield root
    server.httpd.shutdown()


SERVERS = {}


def environment(root: Path, **extra) -> dict:
    path = os.pathsep.join([str(root / 'bin'), os.environ['PATH']])
    inherited = {k: v for k, v in os.environ.items()
                 if k not in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK') and not k.startswith('SLURM_')}
    return marked_environment(dict(
        inherited, PYTHON=sys.executable, PORT=str(free_port()), MASTER_PORT=str(free_port()),
        MASTER_ADDR='127.0.0.1',
        OMP_NUM_THREADS='1', PATH=path, TORCH_HOME=str(root / 'torch_home'),
        PYTHONPATH=os.pathsep.join([str(root), os.environ.get('PYTHONPATH', '')]),
        NO_PROXY='127.0.0.1', **extra))


def torchrun(work_dir: Path, *extra: str) -> list:
    return ['bash', str(REPO / 'tools/dist_train.sh'), 'config.py', '2', '--work-dir',
            str(work_dir), *extra, *SCHEDULE]


def slurm(work_dir: Path, *extra: str) -> list:
    return ['bash', str(REPO / 'tools/slurm_train.sh'), 'cpu', 'demo', 'config.py',
            str(work_dir), *extra, *SCHEDULE]


def start(command: list, root: Path, env: dict) -> subprocess.Popen:
    process = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    process.env = env
    return process


def kill_everything(process: subprocess.Popen) -> None:
    for pid in processes_marked(process.env):
        os.kill(pid, signal.SIGKILL)
    process.wait()


def finish(process: subprocess.Popen, timeout: float = 300) -> str:
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_everything(process)
        raise AssertionError(f'the job hung for {timeout} s')
    time.sleep(0.5)
    left = processes_marked(process.env)
    assert not left, f'processes left running: {left}\n{output[-3000:]}'
    return output


def run(command: list, root: Path, env: dict, status: int = 0) -> str:
    process = start(command, root, env)
    output = finish(process)
    assert process.returncode == status, output[-5000:]
    return output


def draws(work_dir: Path) -> dict:
    """{rank: {iteration: generator fingerprint}}, the latest run's where runs overlap."""
    found = {}
    for rank in (0, 1):
        lines = (work_dir / 'draws' / f'rank{rank}.jsonl').read_text().splitlines()
        found[rank] = {r['iter']: r['state'] for r in map(json.loads, lines)}
    return found


def losses(work_dir: Path) -> dict:
    found = {}
    for log in sorted(work_dir.glob('*/vis_data/scalars.json')):
        for line in log.read_text().splitlines():
            record = json.loads(line)
            if 'loss' in record:
                found[record['step']] = record['loss']
    return found


def rank_pids(process: subprocess.Popen) -> list:
    """The ranks' processes of a launch: the children of torchrun's agent (not their
    data-loader workers)."""
    def command(pid) -> bytes:
        return Path(f'/proc/{pid}/cmdline').read_bytes()

    def parent(pid) -> int:
        return int(Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()[1])

    return sorted(pid for pid in processes_marked(process.env)
                  if b'convnext_dense\x00train' in command(pid)
                  and b'torch.distributed.run' in command(parent(pid)))


def assert_resumes_exactly(work_dir: Path, reference: Path, stopped_at: int) -> None:
    got, expected = draws(work_dir), draws(reference)
    for rank in (0, 1):
        assert got[rank] == expected[rank], f'rank {rank} drew differently after the resume'
    after = {i: v for i, v in losses(work_dir).items() if i > stopped_at}
    assert after and after == {i: v for i, v in losses(reference).items() if i > stopped_at}


class CountingServer:
    """A local HTTP server of one folder that counts the requests for each file."""

    def __init__(self, folder: Path):
        counts = self.counts = {}

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self):
                counts[self.path] = counts.get(self.path, 0) + 1
                super().do_GET()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(
            ('127.0.0.1', 0), functools.partial(Handler, directory=str(folder)))
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f'http://127.0.0.1:{self.httpd.server_address[1]}'


@pytest.fixture(scope='module')
def uninterrupted(root) -> Path:
    """The reference: 8 iterations on 2 ranks, uninterrupted; the first run to initialise the
    backbone from its URL: one download, by local rank 0 (both ranks share a node)."""
    work_dir = root / 'uninterrupted'
    output = run(torchrun(work_dir), root, environment(root))
    assert 'distributed run on CPU with the gloo backend' in output
    assert SERVERS[root].counts == {'/atto.pth': 1}, SERVERS[root].counts
    assert (work_dir / f'iter_{ITERS}.pth').is_file()
    return work_dir


def test_every_rank_draws_its_own_numbers(uninterrupted):
    drawn = draws(uninterrupted)
    assert sorted(drawn[0]) == sorted(drawn[1]) == list(range(1, ITERS + 1))
    assert all(drawn[0][i] != drawn[1][i] for i in drawn[0]), 'ranks share one random stream'


def test_a_killed_job_resumes_with_every_ranks_draws(root, uninterrupted):
    work_dir = root / 'killed'
    env = environment(root)
    process = start(torchrun(work_dir), root, env)
    wait_for(work_dir / 'iter_4.pth', process)
    time.sleep(0.5)  # the write of iteration 4 has been renamed into place
    kill_everything(process)  # every process of the job, at once: a node lost
    run(torchrun(work_dir, '--resume', str(work_dir / 'iter_4.pth')), root, environment(root))
    assert_resumes_exactly(work_dir, uninterrupted, stopped_at=4)


@pytest.mark.parametrize('target', ['the whole job', 'one rank'])
def test_sigterm_stops_every_rank_after_one_iteration_and_the_job_resumes(root, uninterrupted,
                                                                        target):
    work_dir = root / f'sigterm_{target.replace(" ", "_")}'
    process = start(torchrun(work_dir), root, environment(root))
    wait_for(work_dir / 'iter_2.pth', process)
    if target == 'the whole job':
        os.killpg(process.pid, signal.SIGTERM)  # as a scheduler does
    else:
        os.kill(rank_pids(process)[-1], signal.SIGTERM)
    output = finish(process, timeout=120)
    stops = [line for line in output.splitlines() if line.startswith('stopped: SIGTERM')]
    assert len(stops) == 2 and stops[0] == stops[1], output[-4000:]
    stopped_at = int(stops[0].split('after iteration ')[1].split(';')[0])
    assert f'checkpoint {work_dir}/iter_{stopped_at}.pth holds iteration' in stops[0]
    if target == 'the whole job':
        assert process.returncode == 143, output[-3000:]
    else:  # torchrun reports a job whose ranks failed with 1, and each rank's status
        assert output.count('exitcode  : 143') == 2, output[-3000:]
    assert 'DataLoader worker' not in output
    assert not (work_dir / 'train.lock').exists()
    run(torchrun(work_dir, '--resume'), root, environment(root))
    assert_resumes_exactly(work_dir, uninterrupted, stopped_at)


def test_slurm_job_stopped_then_requeued_on_another_node_resumes(root, uninterrupted):
    """srun signals every task; the requeued job (same SLURM_JOB_ID) finds a lock left on
    another node by a crash and takes it over."""
    work_dir = root / 'slurm'
    env = environment(root, GPUS='2', SLURM_JOB_ID='777')
    process = start(slurm(work_dir), root, env)
    wait_for(work_dir / 'iter_2.pth', process)
    os.killpg(process.pid, signal.SIGTERM)
    output = finish(process, timeout=120)
    assert process.returncode == 143, output[-3000:]
    stops = [line for line in output.splitlines() if line.startswith('stopped: SIGTERM')]
    assert len(stops) == 2 and stops[0] == stops[1], output[-4000:]
    stopped_at = int(stops[0].split('after iteration ')[1].split(';')[0])
    (work_dir / 'train.lock').write_text('node-17 4242 - 777\n')  # a crash on another node
    output = run(slurm(work_dir, '--resume'), root, env)
    assert "it is this Slurm job's (777), from before it was requeued" in output
    assert_resumes_exactly(work_dir, uninterrupted, stopped_at)


@pytest.mark.parametrize('launcher', ['torchrun', 'slurm'])
def test_a_live_trainings_lock_is_refused_on_every_rank(root, launcher, tmp_path):
    work_dir = tmp_path / 'locked'
    work_dir.mkdir()
    lock = work_dir / 'train.lock'
    # This test's own process: alive, on this host, not the run's.
    lock.write_text(f'{socket.gethostname()} {os.getpid()} {process_start(os.getpid())} -\n')
    command = torchrun(work_dir) if launcher == 'torchrun' else slurm(work_dir)
    process = start(command, root, environment(root, GPUS='2'))
    output = finish(process, timeout=240)
    refusals = [line for line in output.splitlines() if line.startswith('error: ')]
    assert len(refusals) == 2 and refusals[0] == refusals[1], output[-3000:]
    assert refusals[0] == (f'error: {work_dir} is in use by another training (process '
                           f'{os.getpid()}, lock {lock}); wait for it, stop it, or use another '
                           f'--work-dir.')
    assert process.returncode == (2 if launcher == 'slurm' else 1)
    assert lock.read_text().split()[1] == str(os.getpid())


def test_a_failed_download_fails_every_rank_with_one_line(root, tmp_path):
    url = f'http://127.0.0.1:{free_port()}/missing.pth'  # nothing listens there
    init = f'model.backbone.init_cfg.checkpoint={url}'
    process = start(slurm(tmp_path / 'work') + [init], root, environment(root, GPUS='2'))
    output = finish(process, timeout=240)
    failures = [line for line in output.splitlines() if line.startswith('error: ')]
    assert len(failures) == 2 and failures[0] == failures[1], output[-3000:]
    assert failures[0].startswith(f'error: {url}: download failed:')
    assert process.returncode == 2
