"""Installs ``convnext_dense_mmcv_ext.pth`` at the top of site-packages, for regular and
editable installs alike (see ``_convnext_dense_ext_finder.py`` for why). Everything else about
the package is declared in ``pyproject.toml``."""
import os

from setuptools import setup
from setuptools.command.build_py import build_py

STARTUP_PTH = 'convnext_dense_mmcv_ext.pth'


class BuildPyWithStartupHook(build_py):
    """build_py, plus the start-up ``.pth`` at the root of what gets installed: the build
    directory of a wheel, or, for an editable install (PEP 660), the editable wheel itself,
    whose build directory setuptools does not ship."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            root = self.get_finalized_command('install').install_lib
        else:
            root = self.build_lib
        self.copy_file(STARTUP_PTH, os.path.join(root, STARTUP_PTH))


setup(cmdclass={'build_py': BuildPyWithStartupHook})
