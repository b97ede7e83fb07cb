"""The error raised for bad input data."""

#: The fix to suggest when the embedded datasets of ``data/`` are missing or damaged.
REBUILD_HINT = 'rebuild the embedded data with `python tools/prepare_data.py --out data`'


class DataError(ValueError):
    """Bad input data, reported as ``<file>: <problem>`` followed by ``Fix: <fix>``.

    It replaces the deep tracebacks of pycocotools, json or OpenCV with a message that names
    the offending file and says what to do about it.

    Args:
        path (str): the file (or folder) that is wrong or missing.
        problem (str): what is wrong with it.
        fix (str): what the user should do.
    """

    def __init__(self, path, problem, fix):
        self.path = str(path)
        self.problem = problem
        self.fix = fix
        super().__init__(f'{self.path}: {problem}\nFix: {fix}')

    def __reduce__(self):
        # keep the error picklable, so that it crosses dataloader worker processes intact
        return type(self), (self.path, self.problem, self.fix)
