"""Harness logic without timings: agreement check, interleaving order, ratios."""
import pytest
import torch

from convnext_dense.benchmark.harness import (ImplementationsDisagree, Timings, check_agreement,
                                              ratios_to_fastest_peer, time_interleaved)


def outputs(offset: float = 0.0, shape=(2, 4, 8, 8)):
    base = torch.linspace(-1, 1, 2 * 4 * 8 * 8).view(2, 4, 8, 8)
    return (base, base[:, :, ::2, ::2] + offset) if shape == (2, 4, 8, 8) else (torch.zeros(shape), )


def test_agreeing_outputs_report_their_differences():
    differences = check_agreement({'ours': outputs(), 'peer': outputs(3e-6)}, 'ours',
                                  atol=1e-5, rtol=0)
    assert differences['ours'] == 0.0
    assert differences['peer'] == pytest.approx(3e-6, rel=0.1)


def test_disagreement_names_the_implementation_output_and_difference():
    with pytest.raises(ImplementationsDisagree, match=r'peer output 1 differs from ours by up to 0\.01'):
        check_agreement({'ours': outputs(), 'peer': outputs(1e-2)}, 'ours', atol=1e-4, rtol=1e-4)


def test_disagreement_in_shape_or_count_is_named():
    with pytest.raises(ImplementationsDisagree, match='peer gives 1 outputs, ours gives 2'):
        check_agreement({'ours': outputs(), 'peer': outputs(shape=(1, ))}, 'ours', 1e-4, 1e-4)
    odd = (outputs()[0], torch.zeros(2, 4, 3, 3))
    with pytest.raises(ImplementationsDisagree, match=r'output 1 has shape \(2, 4, 3, 3\)'):
        check_agreement({'ours': outputs(), 'peer': odd}, 'ours', 1e-4, 1e-4)


class RecordingBackend:
    """A backend whose clock is a counter, recording the order steps run in."""

    def __init__(self):
        self.order = []
        self.synchronized = 0

    def synchronize(self):
        self.synchronized += 1

    def time(self, fn):
        fn()
        return 0.5


def test_rounds_interleave_and_rotate_after_warmup():
    backend = RecordingBackend()
    steps = {name: (lambda name=name: backend.order.append(name)) for name in 'abc'}
    timings = time_interleaved(steps, backend, warmup=1, rounds=3, show_progress=False)
    assert backend.order == ['a', 'b', 'c', 'a', 'b', 'c', 'b', 'c', 'a', 'c', 'a', 'b']
    assert backend.synchronized == 1
    assert timings['a'].seconds == [0.5, 0.5, 0.5]


def test_timings_statistics_and_ratios():
    timings = Timings([0.5, 0.25, 1.0])
    assert timings.images_per_s(4) == dict(median=8.0, min=4.0, max=16.0)
    assert timings.latency_ms() == dict(median=500.0, min=250.0, max=1000.0)
    ratios = ratios_to_fastest_peer({'ours': 12.0, 'timm': 10.0, 'tv': 8.0})
    assert ratios == {'ours': 1.2, 'timm': 10.0 / 12.0, 'tv': 8.0 / 12.0}
    assert ratios_to_fastest_peer({'alone': 3.0}) == {'alone': None}
