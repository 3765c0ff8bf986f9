"""Atomic writes: files and directories."""
import os

import pytest

from convnext_dense.fileio import create_directory_atomically, write_atomically


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


def test_directory_appears_whole_or_not_at_all(tmp_path):
    def fill_then_fail(staging):
        (open(os.path.join(staging, 'a.txt'), 'w')).close()
        raise OSError('disk full')

    with pytest.raises(OSError, match='disk full'):
        create_directory_atomically(str(tmp_path / 'data'), fill_then_fail)
    assert list(tmp_path.iterdir()) == []
    create_directory_atomically(str(tmp_path / 'data'),
                                lambda d: open(os.path.join(d, 'a.txt'), 'w').close())
    assert sorted(p.name for p in tmp_path.iterdir()) == ['data']


def test_atomic_writes_get_the_mode_open_would_give(tmp_path):
    write_atomically(b'data', tmp_path / 'file.bin')
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / 'file.bin').stat().st_mode & 0o777 == 0o666 & ~umask
