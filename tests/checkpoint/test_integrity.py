"""Truncated or corrupt checkpoints are found without unpickling them, and passed over."""
import pytest
import torch

from convnext_dense.checkpoint import integrity as checkpoint_integrity
from convnext_dense.checkpoint.integrity import (CorruptCheckpointError, check_checkpoint,
                                                        checkpoint_problem,
                                                        latest_complete_checkpoint,
                                                        run_checkpoints)


def write_checkpoints(work_dir, iterations):
    for i in iterations:
        torch.save({'state_dict': {'w': torch.full((64, 64), float(i))}}, work_dir / f'iter_{i}.pth')


def truncate(path, keep: float = 0.5):
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])


def test_newest_complete_checkpoint_is_chosen_with_a_warning(tmp_path, monkeypatch):
    warnings = []
    monkeypatch.setattr(checkpoint_integrity, 'print_log',
                        lambda message, **kwargs: warnings.append(message))
    write_checkpoints(tmp_path, [2, 4, 6, 10])
    truncate(tmp_path / 'iter_10.pth')
    truncate(tmp_path / 'iter_6.pth', keep=0.95)
    assert [p.split('/')[-1] for p in run_checkpoints(str(tmp_path))] == [
        'iter_10.pth', 'iter_6.pth', 'iter_4.pth', 'iter_2.pth']  # numeric, not text, order
    assert latest_complete_checkpoint(str(tmp_path)).endswith('iter_4.pth')
    assert len(warnings) == 2 and 'iter_10.pth' in warnings[0] and 'iter_6.pth' in warnings[1]


def test_flipped_byte_is_a_crc_mismatch(tmp_path):
    write_checkpoints(tmp_path, [2])
    path = tmp_path / 'iter_2.pth'
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    assert checkpoint_problem(str(path)) is not None


def test_explicit_corrupt_checkpoint_names_file_and_fallback(tmp_path):
    write_checkpoints(tmp_path, [2, 4])
    truncate(tmp_path / 'iter_4.pth')
    with pytest.raises(CorruptCheckpointError, match=r'iter_4\.pth: truncated.*iter_2\.pth'):
        check_checkpoint(str(tmp_path / 'iter_4.pth'))
    check_checkpoint(str(tmp_path / 'iter_2.pth'))


def test_no_checkpoint_at_all(tmp_path):
    assert latest_complete_checkpoint(str(tmp_path)) is None
