# mmdet's runtime, plus the import that installs our op backend and registers ConvNeXt.
_base_ = 'mmdet::_base_/default_runtime.py'

default_scope = 'mmdet'
custom_imports = dict(imports=['convnext_dense'], allow_failed_imports=False)
