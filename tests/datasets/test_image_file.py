"""image_file_problem tells images from what is not one by their first bytes."""
import cv2
import numpy as np
import pytest

from convnext_dense.datasets.image_file import image_file_problem


@pytest.mark.parametrize('suffix', ['.png', '.jpg', '.bmp', '.tif', '.webp', '.ppm'])
def test_images_opencv_writes_pass(tmp_path, suffix):
    path = tmp_path / f'a{suffix}'
    assert cv2.imwrite(str(path), np.zeros((8, 8, 3), np.uint8))
    assert image_file_problem(str(path)) is None


@pytest.mark.parametrize('content, problem', [
    (b'', 'empty file, 0 bytes'),
    (b'<html>oops</html>', "not an image: starts with b'<html>oo'"),
])
def test_empty_and_foreign_files_are_named(tmp_path, content, problem):
    path = tmp_path / 'a.jpg'
    path.write_bytes(content)
    assert image_file_problem(str(path)) == problem
