import os

import pytest
import torch

from mmproseco.tools.threads import set_torch_threads, usable_cores


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_threads_follow_affinity(monkeypatch, restore_threads):
    monkeypatch.delenv('OMP_NUM_THREADS', raising=False)
    assert usable_cores() == len(os.sched_getaffinity(0))
    assert set_torch_threads() == usable_cores() == torch.get_num_threads()


def test_omp_num_threads_and_argument_win(monkeypatch, restore_threads):
    monkeypatch.setenv('OMP_NUM_THREADS', '1')
    assert set_torch_threads() == 1 == torch.get_num_threads()
    # A malformed value falls back to the cores instead of failing.
    monkeypatch.setenv('OMP_NUM_THREADS', 'many')
    assert set_torch_threads() == usable_cores()
    assert set_torch_threads(1) == 1 == torch.get_num_threads()
