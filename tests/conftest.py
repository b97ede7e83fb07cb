import os
import os.path as osp

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
os.environ.setdefault('DVC_NO_ANALYTICS', '1')


@pytest.fixture(scope='session')
def repo_root():
    return REPO
