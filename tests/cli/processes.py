"""What the tools' tests need to launch and watch processes: free ports, the processes a launch
left (data-loader workers run in process groups of their own, and torchrun starts each rank in
a session of its own, so neither a group nor a session holds them all: an environment variable
every descendant inherits does), a file to wait for."""
import os
import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def processes_in_session(session: int) -> list:
    """The live processes of session ``session`` (a ``start_new_session`` Popen's pid; None:
    every live process)."""
    found = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f'/proc/{entry}/stat').read_text()
        except OSError:
            continue
        state, _, _, sid = stat.rsplit(')', 1)[1].split()[:4]
        if (session is None or int(sid) == session) and state != 'Z':
            found.append(int(entry))
    return found


MARK = 'CONVNEXT_DENSE_TEST_LAUNCH'


def marked_environment(env: dict) -> dict:
    """``env`` plus a variable unique to this launch, inherited by every process it starts."""
    return dict(env, **{MARK: f'{os.getpid()}-{time.monotonic_ns()}'})


def processes_marked(env: dict) -> list:
    """The live processes started with ``env`` (:func:`marked_environment`) or by them."""
    wanted = f'{MARK}={env[MARK]}'.encode()
    found = []
    for pid in processes_in_session(None):
        try:
            if wanted in Path(f'/proc/{pid}/environ').read_bytes().split(b'\0'):
                found.append(pid)
        except OSError:
            continue
    return found


def wait_for(path: Path, process: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while not path.exists():
        assert process.poll() is None and time.time() < deadline, f'run ended before {path}'
        time.sleep(0.05)
