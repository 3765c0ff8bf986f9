"""Compiled twins and the graph-break count the compiled benchmark rows report."""
import torch
from torch import nn

from convnext_dense.benchmark.compiled import (compiled_name, graph_breaks,
                                               with_compiled_twins)

EAGER_CAPTURE = dict(backend='eager')  # dynamo's graph capture, no code generation


def test_each_model_is_followed_by_its_compiled_copy():
    models = {'a': nn.Linear(3, 2), 'b': nn.Linear(3, 2)}
    paired = with_compiled_twins(models, EAGER_CAPTURE, lambda m, o: m.compile(**o))
    assert list(paired) == ['a', compiled_name('a'), 'b', compiled_name('b')]
    twin = paired[compiled_name('a')]
    assert twin is not models['a'] and twin._compiled_call_impl is not None
    assert models['a']._compiled_call_impl is None
    assert torch.equal(twin.weight, models['a'].weight)
    x = torch.randn(4, 3)
    torch.testing.assert_close(twin(x), models['a'](x))


def test_graph_breaks_are_counted_with_their_reasons():

    def clean(x):
        return (x * 2).relu()

    def broken(x):
        y = x * 2
        torch._dynamo.graph_break()
        return y.relu()

    x = torch.randn(3)
    assert graph_breaks(clean, x) == dict(graphs=1, breaks=0, reasons=[])
    found = graph_breaks(broken, x)
    assert (found['graphs'], found['breaks']) == (2, 1)
    assert len(found['reasons']) == 1 and found['reasons'][0]
