"""Every implementation built from the same weights gives our outputs (fp32, atol 1e-5)."""
import pytest
import torch

from convnext_dense.benchmark.implementations import (BUILDERS, MissingImplementationError,
                                                      build_implementation, reference_weights)


@pytest.mark.parametrize('v2', [False, True], ids=['v1', 'v2'])
@pytest.mark.parametrize('name', sorted(set(BUILDERS) - {'ours'}))
def test_peer_gets_our_weights_and_gives_our_outputs(name, v2):
    state = reference_weights('atto', v2)
    try:
        peer = build_implementation(name, 'atto', v2, state)
    except MissingImplementationError:
        assert name == 'torchvision' and v2
        return
    ours = build_implementation('ours', 'atto', v2, state)
    peer.eval()  # mmpretrain's train() returns None, so no chaining
    ours.eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        for a, b in zip(peer(x), ours(x)):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_reference_weights_are_seeded_and_not_the_stock_init():
    a, b = reference_weights('atto', False, seed=1), reference_weights('atto', False, seed=1)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert a['stages.0.0.gamma'].min() >= 0.5  # layer scale at full strength, not 1e-6


def test_unknown_implementation_is_named():
    with pytest.raises(ValueError, match="'tf'"):
        build_implementation('tf', 'atto', False, {})
