"""StopOnSignalHook's handler: a first signal is noted (the run stops after the step, tested
end to end in tests/cli/test_reliability_runs.py); a second one stops the run at once, since
a scheduler's SIGKILL follows the first within seconds and a user presses Ctrl-C again; the
same request delivered twice within a moment (a launcher forwarding it to a group that had it)
is one. Several ranks, and data-loader workers: tests/cli/test_multi_rank_runs.py."""
import os
import signal
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest
from mmengine.logging import MessageHub

from convnext_dense.engine.hooks.stop_on_signal import REPEAT_WINDOW_S, StopOnSignalHook
from convnext_dense.errors import RunStopped


@pytest.fixture
def hook():
    hub = MessageHub.get_instance('stop-on-signal-test')
    hub.update_info('last_ckpt', 'work/iter_8.pth')
    hook = StopOnSignalHook()
    hook.before_train(SimpleNamespace(message_hub=hub))
    yield hook
    hook.after_train(None)


def test_the_same_signal_delivered_twice_at_once_is_one_request(hook):
    hook._note(signal.SIGTERM, None)
    hook._note(signal.SIGTERM, None)
    assert hook._received == 'SIGTERM'


def test_a_second_signal_stops_at_once_naming_the_last_checkpoint(hook):
    hook._note(signal.SIGTERM, None)
    assert hook._received == 'SIGTERM'
    hook._received_at -= REPEAT_WINDOW_S
    with pytest.raises(RunStopped, match=r'^SIGINT received after SIGTERM: stopped at '
                       r'once, mid-step; resume from the last checkpoint '
                       r'\(work/iter_8\.pth\)') as stop:
        hook._note(signal.SIGINT, None)
    assert stop.value.status == 130


def test_the_previous_handlers_come_back_after_training():
    # Not always Python's default: a shell without job control starts background commands
    # with SIGINT ignored.
    before = signal.getsignal(signal.SIGINT)
    hook = StopOnSignalHook()
    hook.before_train(SimpleNamespace(message_hub=None))
    assert signal.getsignal(signal.SIGINT) == hook._note
    hook.after_train(None)
    assert signal.getsignal(signal.SIGINT) is before


WORKER_SCRIPT = '''
import os, signal, time, torch
from torch.utils.data import DataLoader
from convnext_dense.engine.runner import SafeLoadingRunner

class Pids(torch.utils.data.Dataset):
    def __len__(self):
        return 100
    def __getitem__(self, index):
        if index:  # busy: an orphan checks for its main process only between items
            time.sleep(120)
        return torch.tensor([os.getpid(), os.getpgid(0)])

loader = SafeLoadingRunner.build_dataloader(DataLoader(Pids(), num_workers=2))
batches = iter(loader)  # kept: its workers live while it does
pid, group = next(batches)[0].tolist()
print(os.getpid(), os.getpgid(0), pid, group, flush=True)
time.sleep(120)
'''


def test_data_loader_workers_leave_the_signalled_group_and_die_with_their_main_process():
    """A signal to the main process's group does not reach the workers (the main process
    decides); killing the main process (and its group) still ends them at once, even busy
    (an orphan would finish its item first: here two minutes)."""
    main = subprocess.Popen([sys.executable, '-c', WORKER_SCRIPT], stdout=subprocess.PIPE,
                            text=True, start_new_session=True)
    main_pid, main_group, worker, worker_group = map(int, main.stdout.readline().split())
    assert worker != main_pid and worker_group == worker != main_group
    workers = children(main_pid)
    assert len(workers) == 2 and worker in workers
    try:
        os.killpg(main_group, signal.SIGKILL)
        main.wait()
        deadline = time.time() + 30
        while any(map(alive, workers)):
            assert time.time() < deadline, 'a worker outlived its main process'
            time.sleep(0.1)
    finally:
        for pid in filter(alive, workers):
            os.kill(pid, signal.SIGKILL)


def children(pid: int) -> list:
    found = []
    for entry in filter(str.isdigit, os.listdir('/proc')):
        try:
            with open(f'/proc/{entry}/stat') as f:
                if int(f.read().rsplit(')', 1)[1].split()[1]) == pid:
                    found.append(int(entry))
        except (FileNotFoundError, ProcessLookupError):
            continue
    return found


def alive(pid: int) -> bool:
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except FileNotFoundError:
        return False
