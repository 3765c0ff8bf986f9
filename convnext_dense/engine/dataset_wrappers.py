"""The one walk through dataset wrappers (``RepeatDataset``, ``ConcatDataset``,
``ClassBalancedDataset``, ...) down to the datasets that hold files, for dataset configs and
built datasets alike."""
from typing import Any, Iterator

WRAPPED_KEYS = ('datasets', 'dataset')


def _inner(node: Any, key: str) -> Any:
    return node.get(key) if isinstance(node, dict) else getattr(node, key, None)


def leaf_datasets(node: Any) -> Iterator[Any]:
    """The innermost datasets of ``node``: a dataset config (dict: its ``dataset`` /
    ``datasets`` entries) or a built dataset (the same attributes), in order."""
    for key in WRAPPED_KEYS:
        inner = _inner(node, key)
        if isinstance(inner, (list, tuple)):
            for item in inner:
                yield from leaf_datasets(item)
            return
        if isinstance(inner, dict) or (inner is not None and hasattr(inner, '__len__')):
            yield from leaf_datasets(inner)
            return
    yield node
