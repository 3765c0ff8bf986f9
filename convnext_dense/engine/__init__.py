"""Training-run machinery, by role: ``config`` (the one config loader and its checks),
``hooks`` (declared in our runtime configs), ``optim`` (layer-wise lr decay), ``launch``
(command-line flags -> config keys), ``runner`` (the Runner that reads checkpoints safely),
``precision`` (TF32), ``dataset_wrappers`` (the walk to the datasets inside wrappers), ``distributed`` (decisions
every rank shares)."""
