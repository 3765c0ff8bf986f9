"""The ``mmcv._ext`` stand-in: installed when needed, never over a compiled mmcv, and failing
only when an unprovided op is called. Import order matters, so each case runs a fresh
interpreter."""
import subprocess
import sys
import textwrap

import pytest

from convnext_dense.ops import MissingKernelError
from convnext_dense.ops.backend import TorchvisionExtModule, build_ext_module


def run_python(code: str) -> str:
    result = subprocess.run([sys.executable, '-c', textwrap.dedent(code)], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_mmdet_and_mmseg_models_import_after_the_package():
    out = run_python("""
        import convnext_dense, mmdet.models, mmseg.models, mmcv.ops, sys
        from convnext_dense.ops.backend import TorchvisionExtModule
        print(type(sys.modules['mmcv._ext']).__name__)
    """)
    assert out.strip() == TorchvisionExtModule.__name__


def test_compiled_mmcv_is_left_untouched():
    out = run_python("""
        import sys, types
        import mmcv

        class CompiledExt(types.ModuleType):  # like mmcv's compiled _ext: every kernel there
            def __getattr__(self, name):
                if name.startswith('__'):
                    raise AttributeError(name)
                return lambda *args, **kwargs: None

        real = CompiledExt('mmcv._ext')
        sys.modules['mmcv._ext'] = real
        import convnext_dense
        from convnext_dense.ops import install_op_backend
        assert install_op_backend() is False
        print(sys.modules['mmcv._ext'] is real)
    """)
    assert out.strip() == 'True'


def test_mmengine_full_mmcv_check_does_not_raise():
    out = run_python("""
        import convnext_dense
        from mmengine.utils.dl_utils import mmcv_full_available
        print(mmcv_full_available())
    """)
    assert out.strip() == 'False'


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
