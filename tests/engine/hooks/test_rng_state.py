"""RngStateHook restores generator states however mmengine loaded them: on a GPU, resume maps
the checkpoint to ``get_device()``, so the states arrive as CUDA tensors, which no generator
accepts. Simulated here with tensors that report a CUDA device and whose bytes come back on a
copy to the CPU, and a stand-in for ``torch.cuda`` that keeps CUDA's rules (CPU ByteTensors
only, device indices below the visible count). Each rank restores its own states; several ranks
end to end: tests/cli/test_multi_rank_runs.py."""
import torch

from convnext_dense.engine.hooks import rng_state
from convnext_dense.engine.hooks.rng_state import CHECKPOINT_KEY, RngStateHook, state_of_rank


class LoadedOnGpu(torch.Tensor):
    """A tensor as ``torch.load(map_location='cuda')`` gives it: on ``cuda:0``; only a copy to
    the CPU reads its bytes."""

    @staticmethod
    def __new__(cls, data: torch.Tensor):
        tensor = torch.Tensor._make_wrapper_subclass(cls, data.shape, dtype=data.dtype,
                                                     device='cuda:0')
        tensor.data_on_cpu = data
        return tensor

    @classmethod
    def __torch_dispatch__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is torch.ops.aten._to_copy.default and \
                torch.device(kwargs.get('device', 'cuda')).type == 'cpu':
            return args[0].data_on_cpu.clone()
        raise RuntimeError(f'{func} is not simulated on the GPU stand-in')


class CudaRules:
    """``torch.cuda``'s random-state calls with one visible GPU, recording what was set."""

    def __init__(self, visible: int):
        self.visible = visible
        self.restored = {}

    def is_available(self):
        return True

    def device_count(self):
        return self.visible

    def set_rng_state(self, state, device=0):
        if not (isinstance(state, torch.Tensor) and state.device.type == 'cpu'
                and state.dtype == torch.uint8):
            raise TypeError('RNG state must be a torch.ByteTensor')
        if device >= self.visible:
            raise RuntimeError('CUDA error: invalid device ordinal')
        self.restored[device] = state.clone()

    def set_rng_state_all(self, states):
        for index, state in enumerate(states):
            self.set_rng_state(state, index)


def resume_with(state: dict) -> None:
    hook = RngStateHook()
    hook.after_load_checkpoint(None, {CHECKPOINT_KEY: state})
    hook.before_train_iter(None, 0)


def test_states_loaded_onto_a_gpu_are_restored():
    saved = torch.get_rng_state()
    expected = torch.rand(5)
    torch.rand(7)  # the run moves on; resuming must go back
    resume_with(dict(cpu=LoadedOnGpu(saved)))
    torch.testing.assert_close(torch.rand(5), expected, rtol=0, atol=0)


def test_cuda_states_restored_for_the_gpus_present(monkeypatch):
    cuda = CudaRules(visible=1)
    for name in ('is_available', 'device_count', 'set_rng_state', 'set_rng_state_all'):
        monkeypatch.setattr(torch.cuda, name, getattr(cuda, name))
    logged = []
    monkeypatch.setattr(rng_state, 'print_log', lambda message, **kwargs: logged.append(message))
    gpu_states = [torch.randint(0, 255, (16, ), dtype=torch.uint8) for _ in range(2)]
    resume_with(dict(cpu=torch.get_rng_state(),
                     cuda=[LoadedOnGpu(state) for state in gpu_states]))
    assert list(cuda.restored) == [0]
    torch.testing.assert_close(cuda.restored[0], gpu_states[0], rtol=0, atol=0)
    assert len(logged) == 1 and 'states of 2 GPUs and 1 are visible' in logged[0]


def test_no_saved_state_leaves_the_generator_alone():
    expected_state = torch.get_rng_state()
    hook = RngStateHook()
    hook.after_load_checkpoint(None, {})
    hook.before_train_iter(None, 0)
    assert torch.equal(torch.get_rng_state(), expected_state)


def test_a_single_process_checkpoint_holds_its_states_as_rank_0s():
    checkpoint = {}
    RngStateHook().before_save_checkpoint(None, checkpoint)
    (saved, ) = checkpoint[CHECKPOINT_KEY]['ranks']
    assert torch.equal(saved['cpu'], torch.get_rng_state())


def test_each_rank_restores_its_own_states_and_another_world_size_says_what_it_does(monkeypatch):
    logged = []
    monkeypatch.setattr(rng_state, 'print_log', lambda message, **kwargs: logged.append(message))
    saved = dict(ranks=[dict(cpu=torch.full((4, ), rank, dtype=torch.uint8)) for rank in range(4)])
    assert [state_of_rank(saved, rank, 4)['cpu'][0].item() for rank in range(4)] == [0, 1, 2, 3]
    assert not logged
    assert state_of_rank(saved, 1, 2)['cpu'][0].item() == 1
    assert not logged  # rank 0 says it, once
    assert state_of_rank(saved, 0, 2)['cpu'][0].item() == 0
    assert logged == ['Resume: the checkpoint holds the random states of 4 rank(s) and this run '
                      'has 2; ranks 0-1 restore theirs, the states of the ranks this run lacks '
                      'are dropped.']
    assert state_of_rank(saved, 5, 8) is None  # keeps its seeded state
    state_of_rank(saved, 0, 8)
    assert 'ranks 0-3 restore theirs, the others keep their seeded states' in logged[-1]


def test_a_checkpoint_of_an_earlier_version_gives_every_rank_its_one_state():
    one = dict(cpu=torch.get_rng_state())
    assert state_of_rank(one, 0, 1) is one
