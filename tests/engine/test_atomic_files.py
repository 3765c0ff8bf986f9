"""mmengine's local writes go through a temporary file and a rename."""
import os

import pytest
from mmengine.fileio import get_file_backend

from convnext_dense.engine.atomic_files import AtomicLocalBackend, write_atomically


def test_mmengine_local_backend_is_atomic(tmp_path):
    backend = get_file_backend(str(tmp_path / 'x.pth'))
    assert isinstance(backend, AtomicLocalBackend)
    backend.put(b'abc', str(tmp_path / 'sub' / 'x.pth'))
    backend.put_text('iter_2.pth', str(tmp_path / 'last_checkpoint'))
    assert (tmp_path / 'sub' / 'x.pth').read_bytes() == b'abc'
    assert (tmp_path / 'last_checkpoint').read_text() == 'iter_2.pth'


def test_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / 'iter_4.pth'
    target.write_bytes(b'old complete checkpoint')

    def dies_mid_write(fd):
        raise OSError('No space left on device')

    monkeypatch.setattr(os, 'fsync', dies_mid_write)
    with pytest.raises(OSError, match='No space left'):
        write_atomically(b'new checkpoint', target)
    assert target.read_bytes() == b'old complete checkpoint'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['iter_4.pth']
