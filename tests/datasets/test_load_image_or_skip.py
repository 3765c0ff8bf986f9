"""Unreadable training images are skipped (None: mmengine draws another sample) and reported."""
import cv2
import numpy as np

from convnext_dense.datasets.load_image_or_skip import LoadImageOrSkip


def test_good_image_loads_bad_ones_are_skipped_and_counted(tmp_path, monkeypatch):
    good = tmp_path / 'good.png'
    cv2.imwrite(str(good), np.full((8, 8, 3), 7, np.uint8))
    corrupt = tmp_path / 'corrupt.png'
    corrupt.write_bytes(b'not a png at all')
    messages = []
    monkeypatch.setattr('convnext_dense.datasets.load_image_or_skip.print_log',
                        lambda message, **kwargs: messages.append(message))
    monkeypatch.setattr(LoadImageOrSkip, 'skipped', 0)
    transform = LoadImageOrSkip()
    assert transform(dict(img_path=str(good)))['img'].shape == (8, 8, 3)
    assert transform(dict(img_path=str(corrupt))) is None
    assert transform(dict(img_path=str(tmp_path / 'missing.png'))) is None
    assert LoadImageOrSkip.skipped == 2
    assert str(corrupt) in messages[0] and '(1 skipped so far' in messages[0]
    assert 'missing.png' in messages[1] and '(2 skipped so far' in messages[1]
