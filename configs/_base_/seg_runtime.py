# mmseg's runtime with what every run of our configs does (convnext_dense_runtime.py). mmseg
# keeps default_hooks in its schedules, so our schedules set the atomic checkpoint writes.
_base_ = ['mmseg::_base_/default_runtime.py', './convnext_dense_runtime.py']

default_scope = 'mmseg'
