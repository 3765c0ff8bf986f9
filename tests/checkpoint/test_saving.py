"""Checkpoints written atomically: mmengine's checkpoint backend when a config names it."""
import subprocess
import sys

from mmengine.fileio import get_file_backend
from mmengine.fileio.backends import LocalBackend

from convnext_dense.checkpoint.saving import AtomicLocalBackend


def test_configs_pick_the_atomic_backend_by_name_and_local_stays_mmengines(tmp_path):
    assert type(get_file_backend(str(tmp_path / 'x.pth'))) is LocalBackend
    backend = get_file_backend(str(tmp_path / 'x.pth'), backend_args=dict(backend='atomic_local'))
    assert isinstance(backend, AtomicLocalBackend)
    backend.put(b'abc', str(tmp_path / 'sub' / 'x.pth'))
    backend.put_text('iter_2.pth', str(tmp_path / 'last_checkpoint'))
    assert (tmp_path / 'sub' / 'x.pth').read_bytes() == b'abc'
    assert (tmp_path / 'last_checkpoint').read_text() == 'iter_2.pth'


def test_a_failed_checkpoint_write_names_the_file_and_the_checkpoint_that_remains(tmp_path):
    """A file-size limit (as a full disk) stops the write of iter_8.pth: the error names it
    and the intact iter_4.pth, and leaves no temporary file."""
    script = f'''
import resource, signal, torch
from convnext_dense.checkpoint.saving import AtomicLocalBackend, WriteFailedError
torch.save({{'state_dict': {{}}}}, {str(tmp_path / 'iter_4.pth')!r})
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG as an OSError, not a kill
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
try:
    AtomicLocalBackend().put(b'x' * 10000, {str(tmp_path / 'iter_8.pth')!r})
except WriteFailedError as error:
    print(error)
'''
    result = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                            timeout=120)
    message = result.stdout.strip()
    assert message.startswith(f'writing {tmp_path / "iter_8.pth"} failed (File too large)')
    assert f'The newest complete checkpoint, {tmp_path / "iter_4.pth"}, is intact' in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ['iter_4.pth']
