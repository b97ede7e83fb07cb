"""Torch's thread count from the cores a process may use.

torch sizes its OpenMP pool from the machine's core count, not from the process's CPU
affinity (``taskset``, cgroups, a DVC stage that divides the cores between the stages it runs
together): two training processes each running as many threads as the machine has cores
oversubscribe it, and on 2 cores that made each step ~30x slower (issue 13).
"""
import os


def usable_cores():
    """The cores this process may run on (its CPU affinity where the OS tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no sched_getaffinity
        return os.cpu_count() or 1


def set_torch_threads(num_threads=None):
    """Set torch's intra-op threads and return the count.

    ``num_threads`` wins, then ``OMP_NUM_THREADS`` (the user's or the launcher's choice, as
    torchrun sets it), then the cores of :func:`usable_cores`. Call it once at the start of
    an entry point, before the first torch operation; inter-op threads are left alone (they
    can only be set before any parallel work has run).
    """
    import torch
    if num_threads is None:
        env = os.environ.get('OMP_NUM_THREADS', '')
        num_threads = int(env) if env.isdigit() and int(env) > 0 else usable_cores()
    torch.set_num_threads(num_threads)
    return num_threads
