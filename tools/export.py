"""`convnext-dense export` (convnext_dense/cli), kept here for the mmdet / mmseg habit."""
import sys

from convnext_dense.cli import run

if __name__ == '__main__':
    sys.exit(run('export', sys.argv[1:]))
