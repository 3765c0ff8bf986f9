# mmseg's runtime, plus the import that installs our op backend and registers ConvNeXt.
_base_ = 'mmseg::_base_/default_runtime.py'

default_scope = 'mmseg'
custom_imports = dict(imports=['convnext_dense'], allow_failed_imports=False)
