# mmdet runtime for the short iteration-based toy runs: log every 20 iterations (validation
# metrics at their iteration, not epoch 0), keep the last
# two checkpoints (written at the end of training; `max_iters` comes from the schedule base).
_base_ = './det_runtime.py'

custom_imports = dict(imports=['convnext_dense', 'convnext_dense.datasets.toy_coco'],
                      allow_failed_imports=False)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=-1, save_last=True,
                    max_keep_ckpts=2))
log_processor = dict(by_epoch=False)
