"""The ``mmcv._ext`` stand-in: found whatever was imported first, never over a compiled mmcv,
failing only when an unprovided op is called. Import order is process-wide state, so each case
runs a fresh interpreter, as a user's script would."""
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

from convnext_dense.ops import MissingKernelError
from convnext_dense.ops.backend import TorchvisionExtModule, build_ext_module

REPO = Path(__file__).resolve().parents[2]
SITE_PACKAGES = sysconfig.get_paths()['purelib']
CHECK_OPS = """
import sys
import mmcv.cnn.bricks.transformer as transformer
assert hasattr(transformer, 'MultiScaleDeformableAttention'), 'mmcv.ops left out'
print(type(sys.modules['mmcv._ext']).__name__)
"""


def run_python(code: str, *flags: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *flags, '-c', textwrap.dedent(code)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def output_of(code: str, *flags: str, cwd=None) -> str:
    result = run_python(code, *flags, cwd=cwd)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.mark.parametrize('first_import', [
    'import mmpretrain.models; import convnext_dense; import mmdet.models',
    'from mmdet.apis import init_detector',
    'from mmseg.apis import init_model',
    'import timm; import mmcv.ops',
    'import mmcv.cnn.bricks.transformer',
    'import convnext_dense; import mmdet.models; import mmseg.models',
])
@pytest.mark.slow
def test_any_import_order_finds_our_kernels(first_import, tmp_path):
    out = output_of(first_import + '\n' + CHECK_OPS, cwd=tmp_path)  # not the repo: no shortcut
    assert out.strip().splitlines()[-1] == TorchvisionExtModule.__name__


def test_regular_install_ships_the_start_up_hook(tmp_path):
    """A wheel built from the project, unpacked as a site directory in an interpreter that has
    no other start-up hook (-S: no site-packages processing, so not our editable install's)."""
    subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation',
                    '-q', '-w', str(tmp_path / 'wheel'), str(REPO)], check=True,
                   capture_output=True, timeout=600)
    wheel, = (tmp_path / 'wheel').glob('*.whl')
    install = tmp_path / 'site'
    zipfile.ZipFile(wheel).extractall(install)
    assert (install / 'convnext_dense_mmcv_ext.pth').is_file()
    out = output_of(textwrap.dedent(f"""
        import site, sys
        sys.path.append({SITE_PACKAGES!r})  # the dependencies, without their .pth files
        site.addsitedir({str(install)!r})
    """) + CHECK_OPS + 'import convnext_dense\nprint(convnext_dense.__file__)\n', '-S',
                    cwd=tmp_path)
    assert out.split()[-2] == TorchvisionExtModule.__name__
    assert out.split()[-1].startswith(str(install))


def test_without_the_hook_a_late_import_says_what_to_do(tmp_path):
    result = run_python(f"""
        import sys, warnings
        sys.path[:0] = [{SITE_PACKAGES!r}, {str(REPO)!r}]
        import mmcv.cnn.bricks.transformer  # mmcv.ops fails: nothing serves mmcv._ext yet
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            import convnext_dense
        print([str(w.message) for w in caught])
    """, '-S', cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'MultiScaleDeformableAttention' in result.stdout
    assert 'convnext_dense_mmcv_ext.pth' in result.stdout


def test_compiled_mmcv_wins(tmp_path):
    compiled = tmp_path / 'fake_mmcv'
    compiled.mkdir()
    (compiled / '_ext.py').write_text(textwrap.dedent("""
        def __getattr__(name):  # like mmcv's compiled _ext: every kernel there
            return lambda *args, **kwargs: None
    """))
    out = output_of(f"""
        import sys, mmcv
        mmcv.__path__.insert(0, {str(compiled)!r})  # where a compiled mmcv keeps _ext
        import mmcv.ops, convnext_dense
        from convnext_dense.ops import install_op_backend
        assert install_op_backend() is False
        print(sys.modules['mmcv._ext'].__file__)
    """, cwd=tmp_path)
    assert out.strip() == str(compiled / '_ext.py')


def test_mmengines_full_mmcv_check_and_what_it_gates_work():
    out = output_of("""
        import torch
        from mmengine.model.utils import revert_sync_batchnorm
        from mmengine.utils.dl_utils import mmcv_full_available
        model = revert_sync_batchnorm(torch.nn.Sequential(torch.nn.SyncBatchNorm(4)))
        print(mmcv_full_available(), type(model[0]).__name__)
    """)
    assert out.split() == ['True', '_BatchNormXd']


def test_unprovided_op_fails_at_call_time_naming_it():
    module = build_ext_module()
    deform = module.deform_conv_forward  # attribute access (mmcv's load_ext check) succeeds
    with pytest.raises(MissingKernelError, match="'deform_conv_forward'.*full mmcv"):
        deform()
    with pytest.raises(AttributeError):
        module.__path__  # dunders are real attribute errors, so importlib is not misled


def test_installed_module_serves_our_kernels():
    import importlib
    from convnext_dense.ops import nms
    mmcv_nms = importlib.import_module('mmcv.ops.nms')
    assert isinstance(mmcv_nms.ext_module, TorchvisionExtModule)
    assert mmcv_nms.ext_module.nms is nms
