"""Reliability of tools/train.py, end to end on the Mask R-CNN demo (CPU): kill -9 and resume,
truncated checkpoints, determinism, NaN losses and bad input. Each fault, and what happens:

* SIGKILL mid-run, then --resume: same final weights and metrics as an uninterrupted run; the
  temporary files of killed writes are removed by the resumed run.
* SIGTERM mid-run: the step finishes, is checkpointed, the run exits 143 with no process left;
  --resume then ends like an uninterrupted run.
* resumed after the last iteration (killed in the final validation): the validation runs.
* newest checkpoint truncated: --resume warns, takes the previous one, ends with the same weights.
* two runs with --seed --deterministic: bit-identical losses at every iteration.
* NaN loss: stops naming iteration, loss term and last good checkpoint (or, with
  --nonfinite-loss skip, drops that step and goes on); the weights on disk stay finite.
* typo in --cfg-options, unknown type, wrong-arch checkpoint, invalid annotation JSON,
  missing images, empty dataset: one clear error; the work dir is left as it was.
"""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from convnext_dense.checkpoint.integrity import checkpoint_problem
from processes import free_port, processes_in_session, wait_for

# End-to-end runs of the commands: the slow tier (make test-all, CI).
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
DEMO = str(REPO / 'configs/demo/mask-rcnn_convnext-atto_toy.py')
ITERS = 20
# 20 iterations, a checkpoint every 4 (all kept), losses logged at every iteration, validation
# (COCO mAP) once, at the end.
SCHEDULE = ['--seed', '0', '--deterministic', '--cfg-options', f'train_cfg.max_iters={ITERS}',
            f'train_cfg.val_begin={ITERS}', 'default_hooks.checkpoint.interval=4',
            'default_hooks.checkpoint.max_keep_ckpts=-1', 'default_hooks.logger.interval=1']


def train_command(work_dir: Path, *extra: str) -> list:
    return [sys.executable, str(REPO / 'tools/train.py'), DEMO, '--work-dir', str(work_dir),
            *extra, *SCHEDULE]


def run(command: list, cwd: Path, expect_ok: bool = True) -> str:
    # cwd on PYTHONPATH: custom_imports of modules written next to the runs.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(cwd), os.environ.get('PYTHONPATH', '')]))
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600,
                            env=env)
    output = result.stdout + result.stderr
    assert (result.returncode == 0) == expect_ok, output[-5000:]
    return output


def losses(work_dir: Path) -> dict:
    """{iteration: loss} over every run in the work dir (a resumed run adds one)."""
    found = {}
    for log in sorted(work_dir.glob('*/vis_data/scalars.json')):
        for line in log.read_text().splitlines():
            record = json.loads(line)
            if 'loss' in record:
                found[record['step']] = record['loss']
    return found


def final_metrics(work_dir: Path) -> dict:
    logs = sorted(work_dir.glob('*/vis_data/scalars.json'))
    records = [json.loads(line) for line in logs[-1].read_text().splitlines()]
    return {k: v for r in records if 'coco/bbox_mAP' in r for k, v in r.items()
            if k.startswith('coco/')}


def weights(path: Path) -> dict:
    return torch.load(path, map_location='cpu', weights_only=True)['state_dict']


def assert_same_weights(a: Path, b: Path) -> None:
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    different = [k for k in wa if not torch.equal(wa[k], wb[k])]
    assert not different, f'{len(different)} tensors differ, e.g. {different[:3]}'


def snapshot(work_dir: Path) -> dict:
    return {str(p.relative_to(work_dir)): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in work_dir.rglob('*') if p.is_file()}


@pytest.fixture(scope='module')
def root(toy_run_dir) -> Path:
    return toy_run_dir('reliability')


@pytest.fixture(scope='module')
def uninterrupted(root) -> Path:
    work_dir = root / 'uninterrupted'
    run(train_command(work_dir), root)
    return work_dir


def test_two_seeded_deterministic_runs_have_bit_identical_losses(root, uninterrupted):
    again = root / 'again'
    run(train_command(again), root)
    reference = losses(uninterrupted)
    assert sorted(reference) == list(range(1, ITERS + 1))
    assert losses(again) == reference  # exact float equality, every iteration
    assert_same_weights(again / f'iter_{ITERS}.pth', uninterrupted / f'iter_{ITERS}.pth')


def test_sigkill_then_resume_ends_like_an_uninterrupted_run(root, uninterrupted):
    work_dir = root / 'killed'
    process = subprocess.Popen(train_command(work_dir), cwd=root, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    while not (work_dir / 'iter_8.pth').exists():
        assert process.poll() is None and time.time() < deadline, 'run ended before iter 8'
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert not (work_dir / f'iter_{ITERS}.pth').exists()
    # Atomic writes: whatever checkpoint the kill left under a final name is complete (a torn
    # write can only be a hidden temporary file).
    for checkpoint in work_dir.glob('iter_*.pth'):
        assert checkpoint_problem(str(checkpoint)) is None, checkpoint

    stale = work_dir / '.iter_12.pth.k1ll3d.tmp'  # what a kill mid-write leaves
    stale.write_bytes(b'partial')

    out = run(train_command(work_dir, '--resume'), root)
    assert 'resumed epoch: 0, iter: ' in out
    assert not stale.exists() and 'Removed 1 temporary file(s)' in out
    assert_same_weights(work_dir / f'iter_{ITERS}.pth', uninterrupted / f'iter_{ITERS}.pth')
    assert final_metrics(work_dir) == final_metrics(uninterrupted)
    resumed, reference = losses(work_dir), losses(uninterrupted)
    assert {i: resumed[i] for i in range(9, ITERS + 1)} == \
        {i: reference[i] for i in range(9, ITERS + 1)}


def start_training(work_dir: Path, root: Path, *extra: str, options=()) -> subprocess.Popen:
    """``train_command`` in its own session; ``options`` are added to its --cfg-options."""
    return subprocess.Popen(train_command(work_dir, *extra) + list(options), cwd=root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


@pytest.mark.parametrize('signal_number', [signal.SIGTERM, signal.SIGINT])
def test_a_signal_checkpoints_the_step_ends_every_process_and_resumes(root, uninterrupted,
                                                                     signal_number):
    """SIGTERM (a scheduler) and SIGINT (Ctrl-C; a KeyboardInterrupt traceback before) alike:
    the iteration finishes and is checkpointed, one line, exit status 128 + the signal."""
    name = signal.Signals(signal_number).name
    work_dir = root / f'stopped_by_{name}'
    process = start_training(work_dir, root)
    wait_for(work_dir / 'iter_4.pth', process)
    process.send_signal(signal_number)  # the main process only, as `kill PID` does
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 128 + signal_number, stderr[-3000:]
    assert 'Traceback' not in stderr, stderr[-3000:]
    last = stderr.strip().splitlines()[-1]
    assert last.startswith(f'stopped: {name} received: stopped after iteration ')
    stopped_at = int(last.split('stopped after iteration ')[1].split(';')[0])
    assert 4 <= stopped_at < ITERS and (work_dir / f'iter_{stopped_at}.pth').exists()
    time.sleep(1)
    assert not processes_in_session(process.pid), 'a data-loader worker outlived the run'

    run(train_command(work_dir, '--resume'), root)
    assert_same_weights(work_dir / f'iter_{ITERS}.pth', uninterrupted / f'iter_{ITERS}.pth')


def test_a_signal_in_a_validation_stops_it_and_the_run_resumes(root):
    """A validation after iteration 4 (the toy set: 56 batches, ~11 s): SIGTERM stops it at
    the next batch (before: the whole validation and one more iteration ran), with the
    checkpoint of iteration 4, and --resume goes on to the end."""
    work_dir = root / 'stopped_in_validation'
    validate_at_4 = ['train_cfg.val_begin=4', 'train_cfg.val_interval=4']
    process = start_training(work_dir, root, options=validate_at_4)
    wait_for(work_dir / 'iter_4.pth', process)
    time.sleep(1)  # CheckpointHook writes iteration 4 just before the validation starts
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, stderr[-3000:]
    assert stderr.strip().splitlines()[-1].startswith(
        'stopped: SIGTERM received: stopped in the validation after iteration 4; checkpoint ')
    assert not (work_dir / 'iter_5.pth').exists()
    run(train_command(work_dir, '--resume') + validate_at_4, root)
    assert (work_dir / f'iter_{ITERS}.pth').exists()


def test_a_run_resumed_after_its_last_iteration_runs_the_missing_validation(root, uninterrupted):
    work_dir = root / 'killed_in_validation'
    shutil.copytree(uninterrupted, work_dir, ignore=shutil.ignore_patterns('2*'))  # no logs
    out = run(train_command(work_dir, '--resume'), root)
    assert 'running the final validation' in out
    assert final_metrics(work_dir) == final_metrics(uninterrupted)


def test_truncated_newest_checkpoint_falls_back_to_the_previous_one(root, uninterrupted):
    work_dir = root / 'truncated'
    shutil.copytree(uninterrupted, work_dir)
    newest = work_dir / f'iter_{ITERS}.pth'
    newest.write_bytes(newest.read_bytes()[:100_000])
    out = run(train_command(work_dir, '--resume'), root)
    assert f'Skipping checkpoint {newest}: truncated' in out
    assert f'iter_{ITERS - 4}.pth' in out
    assert_same_weights(newest, uninterrupted / f'iter_{ITERS}.pth')

    newest.write_bytes(newest.read_bytes()[:100_000])
    out = run(train_command(work_dir, '--resume', str(newest)), root, expect_ok=False)
    assert f'Checkpoint {newest}: truncated' in out and f'iter_{ITERS - 4}.pth' in out


NAN_INJECTOR = '''
from mmdet.registry import HOOKS
from mmengine.hooks import Hook


@HOOKS.register_module()
class NanLossAt(Hook):
    """Makes the RoI head's classification loss NaN at one iteration."""

    def __init__(self, iteration):
        self.iteration = iteration

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        model = runner.model
        if runner.iter + 1 != self.iteration:
            model.__dict__.pop('loss', None)
            return
        original = type(model).loss.__get__(model)

        def poisoned(*args, **kwargs):
            losses = original(*args, **kwargs)
            losses['loss_cls'] = losses['loss_cls'] * float('nan')
            return losses

        model.loss = poisoned
'''


@pytest.fixture(scope='module')
def nan_config(root) -> str:
    """The demo config plus the injector (a user config over ours, as people write them)."""
    (root / 'nan_injector.py').write_text(NAN_INJECTOR)
    config = root / 'nan_config.py'
    config.write_text(f"_base_ = '{DEMO}'\n"
                      "custom_imports = dict(imports=[*_base_.custom_imports.imports, "
                      "'nan_injector'])\n"
                      "custom_hooks = [*_base_.custom_hooks, dict(type='NanLossAt', "
                      "iteration=3)]\n")
    return str(config)


def nan_run(config: str, work_dir: Path, *extra: str) -> list:
    return [sys.executable, str(REPO / 'tools/train.py'), config, '--work-dir', str(work_dir),
            *extra, '--cfg-options', 'train_cfg.max_iters=6', 'train_cfg.val_begin=100',
            'default_hooks.checkpoint.interval=2', 'default_hooks.logger.interval=1']


def assert_finite(path: Path) -> None:
    assert all(torch.isfinite(t).all() for t in weights(path).values() if t.is_floating_point())


def test_nan_loss_stops_naming_iteration_term_and_last_checkpoint(root, nan_config):
    work_dir = root / 'nan_stop'
    out = run(nan_run(nan_config, work_dir), root, expect_ok=False)
    assert 'Non-finite loss at iteration 3 (terms: loss, loss_cls)' in out
    assert f'Last good checkpoint: {work_dir / "iter_2.pth"}' in out
    assert_finite(work_dir / 'iter_2.pth')
    assert not (work_dir / 'iter_4.pth').exists()


def test_nan_loss_skip_mode_drops_the_step_and_finishes(root, nan_config):
    work_dir = root / 'nan_skip'
    out = run(nan_run(nan_config, work_dir, '--nonfinite-loss', 'skip'), root)
    assert 'Non-finite loss at iteration 3' in out and 'Step skipped (1 so far)' in out
    assert_finite(work_dir / 'iter_6.pth')


@pytest.mark.parametrize('extra, message', [
    (['train_cfg.max_iter=5'], "no entry 'train_cfg.max_iter'; did you mean max_iters"),
    (['model.backbone.type=ConvNext'], "'ConvNext' is not a registered model component; did "
                                       "you mean ConvNeXt"),
    (['model.backbone.drop_pat_rate=0.1'], 'did you mean drop_path_rate'),
])
def test_config_mistakes_stop_before_anything_is_written(root, uninterrupted, extra, message):
    before = snapshot(uninterrupted)
    out = run(train_command(uninterrupted, '--resume')[:-len(SCHEDULE)] + SCHEDULE + extra,
              root, expect_ok=False)
    assert message in out
    assert snapshot(uninterrupted) == before


def test_checkpoint_of_another_arch_is_refused_before_loading(root, uninterrupted):
    work_dir = root / 'wrong_arch'
    out = run(train_command(work_dir) + ['model.backbone.arch=femto',
                                         f'load_from={uninterrupted / "iter_4.pth"}'],
              root, expect_ok=False)
    assert 'does not fit' in out and 'tensors have other shapes' in out
    assert 'backbone.downsample_layers.0.0.weight: checkpoint (40, 3, 4, 4) vs model (48, 3, 4, 4)' in out


@pytest.fixture
def data_copy(root, uninterrupted, tmp_path) -> Path:
    """A private copy of the toy COCO data (generated by the first run) to break."""
    shutil.copytree(root / 'data', tmp_path / 'data')
    return tmp_path


def short_run(cwd: Path, expect_ok: bool) -> str:
    return run([sys.executable, str(REPO / 'tools/train.py'), DEMO, '--work-dir',
                str(cwd / 'work'), '--cfg-options', 'train_cfg.max_iters=2',
                'train_cfg.val_begin=100'], cwd, expect_ok=expect_ok)


def test_invalid_annotation_json_is_named(data_copy):
    ann = data_copy / 'data/toy_coco/annotations/train.json'
    ann.write_text(ann.read_text()[:5000])
    out = short_run(data_copy, expect_ok=False)
    assert 'annotation file data/toy_coco/annotations/train.json is not valid JSON' in out
    assert not (data_copy / 'work').exists()


def test_a_few_missing_images_are_skipped_many_stop_the_run(data_copy):
    train_images = sorted((data_copy / 'data/toy_coco/train').glob('*.png'))
    train_images[0].unlink()
    out = short_run(data_copy, expect_ok=True)
    assert f'1 of {len(train_images)} samples of the train dataset' in out
    assert 'their samples will be skipped' in out
    for image in train_images[1:4]:
        image.unlink()
    out = short_run(data_copy, expect_ok=False)
    assert f'4 of {len(train_images)} samples of the train dataset' in out


def test_empty_dataset_is_named(data_copy):
    ann = data_copy / 'data/toy_coco/annotations/train.json'
    coco = json.loads(ann.read_text())
    coco['images'], coco['annotations'] = [], []
    ann.write_text(json.dumps(coco))
    out = short_run(data_copy, expect_ok=False)
    assert 'train_dataloader: annotation file data/toy_coco/annotations/train.json lists no images' in out
    coco['images'] = [dict(id=1, file_name='000000.png', width=160, height=160)]
    ann.write_text(json.dumps(coco))
    out = short_run(data_copy, expect_ok=False)
    assert 'has no annotations, and filter_cfg.filter_empty_gt=True drops every image' in out
    assert not (data_copy / 'work').exists()


def worker_of_rank(launcher_pid: int, rank: int) -> int:
    """The torchrun worker process with LOCAL_RANK=rank (found through /proc) among the
    launcher's descendants (dist_train.sh -> torchrun -> workers)."""
    pending, seen = [str(launcher_pid)], []
    while pending:
        children = subprocess.run(['pgrep', '-P', pending.pop()], capture_output=True,
                                  text=True).stdout.split()
        for pid in children:
            seen.append(pid)
            pending.append(pid)
            environ = Path(f'/proc/{pid}/environ').read_bytes().split(b'\0')
            command = Path(f'/proc/{pid}/cmdline').read_bytes()
            if (f'LOCAL_RANK={rank}'.encode() in environ and b'torch.distributed.run'
                    not in command):
                return int(pid)
    raise AssertionError(f'no worker of rank {rank} under {launcher_pid}: {seen}')


@pytest.mark.slow
def test_a_dying_rank_takes_the_job_down_and_the_job_resumes(root):
    work_dir = root / 'dist'
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(free_port()), OMP_NUM_THREADS='1')
    head = ['bash', str(REPO / 'tools/dist_train.sh'), DEMO, '2', '--work-dir', str(work_dir)]
    options = ['--cfg-options', 'train_cfg.max_iters=12', 'train_cfg.val_begin=100',
               'default_hooks.checkpoint.interval=2', 'default_hooks.logger.interval=1']
    launcher = subprocess.Popen(head + options, cwd=root, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    while not (work_dir / 'iter_4.pth').exists():
        assert launcher.poll() is None and time.time() < deadline, 'job ended before iter 4'
        time.sleep(0.1)
    survivor = worker_of_rank(launcher.pid, 0)
    os.kill(worker_of_rank(launcher.pid, 1), signal.SIGKILL)
    killed_at = time.time()
    try:
        code = launcher.wait(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(launcher.pid, signal.SIGKILL)
        raise AssertionError('the job hung for 120 s after a rank died')
    assert code != 0 and time.time() - killed_at < 120
    assert not Path(f'/proc/{survivor}').exists(), 'rank 0 outlived the job'

    env['PORT'] = str(free_port())
    result = subprocess.run(head + ['--resume'] + options, cwd=root, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    assert 'resumed epoch: 0, iter: ' in result.stdout + result.stderr
    assert (work_dir / 'iter_12.pth').is_file()
