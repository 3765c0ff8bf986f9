"""One training per work dir: a live holder is refused by pid and process start, a dead one's
lock (or one whose pid another process now has, or this requeued Slurm job's, or any with
take_over) is taken over, the lock is released when the run ends however it ends, and stale
temporary files are removed. Several ranks: tests/cli/test_multi_rank_runs.py."""
import os
import socket
import subprocess
import sys
from types import SimpleNamespace

import pytest

from convnext_dense.engine.hooks.work_dir_lock import (LOCK_NAME, WorkDirInUseError,
                                                       WorkDirLockHook, process_start)


@pytest.fixture
def runner(tmp_path):
    return SimpleNamespace(work_dir=str(tmp_path))


def hold_lock(runner, pid: int, host: str = None, start: str = '') -> None:
    with open(os.path.join(runner.work_dir, LOCK_NAME), 'w') as f:
        f.write(f'{host or socket.gethostname()} {pid} {start}\n')


@pytest.fixture
def other_process():
    other = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])
    yield other
    other.kill()
    other.wait()


@pytest.mark.parametrize('recorded', ['start', 'no start (an older lock)'])
def test_a_live_holder_is_refused(runner, other_process, recorded):
    start = process_start(other_process.pid) if recorded == 'start' else ''
    hold_lock(runner, other_process.pid, start=start)
    with pytest.raises(WorkDirInUseError,
                       match=f'another training \\(process {other_process.pid}'):
        WorkDirLockHook().before_train(runner)


def test_a_live_process_that_reused_the_holders_id_does_not_hold_the_lock(runner,
                                                                         other_process):
    """The lock's pid is alive, but that process started at another time than the holder
    did: a pid reused after a reboot or in another container."""
    boot, ticks = process_start(other_process.pid).split('/')
    hold_lock(runner, other_process.pid, start=f'{boot}/{int(ticks) - 1}')
    WorkDirLockHook().before_train(runner)
    with open(os.path.join(runner.work_dir, LOCK_NAME)) as f:
        assert f.read().split()[1:] == [str(os.getpid()), process_start(os.getpid()), '-']


def test_a_dead_holders_lock_is_taken_over_and_released_after_training(runner):
    finished = subprocess.run([sys.executable, '-c', 'import os; print(os.getpid())'],
                              capture_output=True, text=True)
    hold_lock(runner, int(finished.stdout))
    hook = WorkDirLockHook()
    hook.before_train(runner)
    lock = os.path.join(runner.work_dir, LOCK_NAME)
    assert open(lock).read().split() == [socket.gethostname(), str(os.getpid()),
                                         process_start(os.getpid()), '-']
    hook.after_train(runner)
    assert not os.path.exists(lock)


def test_a_lock_of_another_host_is_refused_with_its_path(runner):
    hold_lock(runner, 1234, host='gpu-node-7')
    with pytest.raises(WorkDirInUseError, match='process 1234 on host gpu-node-7.*delete the'):
        WorkDirLockHook().before_train(runner)


def test_temporary_files_of_killed_writes_are_removed_and_nothing_else(runner, tmp_path):
    stale = [tmp_path / '.iter_8.pth.a1b2c3.tmp', tmp_path / '.last_checkpoint.x9.tmp']
    kept = [tmp_path / 'iter_4.pth', tmp_path / 'notes.tmp', tmp_path / 'sub' / '.x.tmp']
    (tmp_path / 'sub').mkdir()
    for path in stale + kept:
        path.write_bytes(b'data')
    WorkDirLockHook().before_train(runner)
    assert not any(path.exists() for path in stale)
    assert all(path.exists() for path in kept)


def test_this_slurm_jobs_lock_from_another_node_is_taken_over(runner, monkeypatch):
    """Slurm requeues a preempted or failed job with its id, possibly on another node."""
    hold_lock(runner, 1234, host='gpu-node-7', start='- 5551')
    monkeypatch.setenv('SLURM_JOB_ID', '5551')
    hook = WorkDirLockHook()
    hook.before_train(runner)
    lock = os.path.join(runner.work_dir, LOCK_NAME)
    assert open(lock).read().split() == [socket.gethostname(), str(os.getpid()),
                                         process_start(os.getpid()), '5551']
    monkeypatch.setenv('SLURM_JOB_ID', '5552')  # another job: refused
    hold_lock(runner, 1234, host='gpu-node-7', start='- 5551')
    with pytest.raises(WorkDirInUseError, match='--take-over-lock'):
        WorkDirLockHook().before_train(runner)


def test_take_over_takes_any_lock(runner, other_process):
    hold_lock(runner, other_process.pid, start=process_start(other_process.pid))
    WorkDirLockHook(take_over=True).before_train(runner)
    lock = os.path.join(runner.work_dir, LOCK_NAME)
    assert open(lock).read().split()[1] == str(os.getpid())


def test_the_lock_is_released_at_exit_when_training_does_not_end(tmp_path):
    """A run stopped by a signal or crashed never reaches after_train: the lock goes at exit;
    a lock another run took over meanwhile stays."""
    script = (
        'import sys; from types import SimpleNamespace\n'
        'from convnext_dense.engine.hooks.work_dir_lock import WorkDirLockHook\n'
        'WorkDirLockHook().before_train(SimpleNamespace(work_dir=sys.argv[1]))\n'
        'if sys.argv[2] == "taken": open(sys.argv[1] + "/train.lock", "w").write("other 1 - -\\n")\n'
        'raise RuntimeError("crashed")\n')
    for case in ('ours', 'taken'):
        work_dir = tmp_path / case
        work_dir.mkdir()
        crashed = subprocess.run([sys.executable, '-c', script, str(work_dir), case],
                                 capture_output=True, text=True)
        assert 'RuntimeError: crashed' in crashed.stderr
        assert (work_dir / LOCK_NAME).exists() == (case == 'taken')
