"""Writers whose bytes depend only on the data: DVC hashes what the stages write."""
import json
import os
import os.path as osp


def write_json(path, data):
    """JSON with sorted keys and a final newline."""
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    with open(path, 'w') as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write('\n')
