"""The error raised for bad input data, and how it comes back from a dataloader worker."""
import re
from typing import Optional, Tuple

#: The fix to suggest when the embedded datasets of ``data/`` are missing or damaged.
REBUILD_HINT = 'rebuild the embedded data with `python tools/prepare_data.py --out data`'

# torch's ``ExceptionWrapper.reraise`` re-raises a worker's error in the main process as
# ``type(err)(message)``, or as ``RuntimeError(message)`` when that type cannot be built from
# one string, with this head followed by the worker's formatted traceback.
_WORKER_HEAD = re.compile(r'Caught (?P<type>\w+) in DataLoader worker process \d+\.\nOriginal ')
_TRACEBACK_HEAD = 'Traceback (most recent call last):\n'


def unwrap_worker_message(message: str) -> Optional[Tuple[str, str]]:
    """``(type name, original message)`` of an error that torch re-raised from a worker.

    Returns:
        tuple | None: None when ``message`` is not the message of such a re-raised error.
    """
    head = _WORKER_HEAD.match(message)
    if head is None:
        return None
    # The last traceback is the error's own (earlier ones are its context). Its frames are
    # indented; the first line that is not starts ``module.Type: message``.
    lines = message.rsplit(_TRACEBACK_HEAD, 1)[-1].splitlines()
    first = next((i for i, line in enumerate(lines) if not line.startswith(' ')), len(lines))
    _, _, original = '\n'.join(lines[first:]).partition(': ')
    return head['type'], original


class DataError(ValueError):
    """Bad input data, reported as ``<file>: <problem>`` followed by ``Fix: <fix>``.

    It replaces the deep tracebacks of pycocotools, json or OpenCV with a message that names
    the offending file and says what to do about it.

    Built from its message alone (``DataError(message)``), it reads the three fields back from
    it: that is how torch re-raises the error of a dataloader worker in the main process (the
    message then also holds the worker's traceback, which is dropped).

    Args:
        path (str): the file (or folder) that is wrong or missing.
        problem (str): what is wrong with it.
        fix (str): what the user should do.
    """

    def __init__(self, path, problem=None, fix=None):
        if problem is None and fix is None:
            message = str(path)
            unwrapped = unwrap_worker_message(message)
            head, _, fix = (unwrapped[1] if unwrapped else message).rpartition('\nFix: ')
            path, _, problem = head.partition(': ')
        self.path = str(path)
        self.problem = problem
        self.fix = fix
        super().__init__(f'{self.path}: {problem}\nFix: {fix}')

    def __reduce__(self):
        # keep the error picklable (multiprocessing pools pickle it whole)
        return type(self), (self.path, self.problem, self.fix)
