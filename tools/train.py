"""`convnext-dense train` (convnext_dense/cli), kept here for the mmdet / mmseg habit."""
import sys

from convnext_dense.cli import run

if __name__ == '__main__':
    sys.exit(run('train', sys.argv[1:]))
