"""Builders of the embedded datasets written by ``tools/prepare_data.py``.

Each builder returns plain COCO dictionaries and writes its images through
:mod:`.deterministic_io`, so a rebuild with the same arguments is byte for byte identical.
"""
