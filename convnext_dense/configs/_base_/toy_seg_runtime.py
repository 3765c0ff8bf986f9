# mmseg runtime for the short iteration-based toy runs: log every 20 iterations (metrics at
# their iteration), one checkpoint at the end, written atomically (`max_iters` comes from the schedule base).
_base_ = './seg_runtime.py'

custom_imports = dict(imports=['convnext_dense', 'convnext_dense.datasets.toy_ade20k',
                              'convnext_dense.evaluation.per_class_iou'],
                      allow_failed_imports=False)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=-1, save_last=True,
                    max_keep_ckpts=2, backend_args=dict(backend='atomic_local')),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
