def allow_mmengine_checkpoint_globals():
    pass
