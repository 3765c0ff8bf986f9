"""The legend strip: one swatch per entry in its colour, wrapping onto new rows."""
import numpy as np

from convnext_dense.visualization import add_legend


def test_swatches_in_their_colours_and_rows_wrap():
    picture = np.zeros((50, 120, 3), np.uint8)
    entries = [(f'class {i}', (10 * i, 200, 255 - 10 * i)) for i in range(6)]
    out = add_legend(picture, entries)
    assert out.shape[1:] == (120, 3) and out.shape[0] > 50 + 22  # 120 px fit < 6 entries a row
    assert np.array_equal(out[:50], picture)
    strip = out[50:].reshape(-1, 3)
    for _, colour in entries:
        assert (strip == colour).all(axis=1).any(), colour


def test_no_entries_leave_the_picture_alone():
    picture = np.ones((4, 4, 3), np.uint8)
    assert add_legend(picture, []) is picture
