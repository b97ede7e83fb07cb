"""Labeled-fraction splits: seeded, without replacement, the same in every process."""
import json
import os
import subprocess
import sys

import pytest

from mmproseco.pipeline.splits import main as make_splits
from mmproseco.pipeline.splits import sample_image_ids


def coco(num_images=200):
    images = [dict(id=i, file_name=f'{i}.png', width=10, height=10)
              for i in range(1, num_images + 1)]
    anns = [dict(id=i, image_id=1 + i % num_images, category_id=1, bbox=[0, 0, 2, 2], area=4,
                 iscrowd=0) for i in range(1, 3 * num_images)]
    return dict(images=images, annotations=anns, categories=[dict(id=1, name='a')])


def test_sample_without_replacement_and_seeded():
    ids = list(range(1000))
    chosen = sample_image_ids(ids, 5, seed=3)
    assert len(chosen) == 50 == len(set(chosen))
    assert chosen == sample_image_ids(ids, 5, seed=3)
    assert chosen != sample_image_ids(ids, 5, seed=4)
    assert len(sample_image_ids(ids, 0.01, seed=0)) == 1  # never empty
    with pytest.raises(ValueError, match='fraction'):
        sample_image_ids(ids, 150, seed=0)


def test_split_files_hold_the_images_and_all_their_boxes(tmp_path):
    (tmp_path / 'train.json').write_text(json.dumps(coco()))
    make_splits([str(tmp_path / 'train.json'), str(tmp_path / 'out'), '--fractions', '1', '10',
                 '--seeds', '0', '1'])
    split = json.loads((tmp_path / 'out' / 'train@10pct_seed1.json').read_text())
    ids = {im['id'] for im in split['images']}
    assert len(ids) == 20
    assert {a['image_id'] for a in split['annotations']} == ids
    full = coco()
    assert len(split['annotations']) == sum(a['image_id'] in ids for a in full['annotations'])
    index = json.loads((tmp_path / 'out' / 'splits.json').read_text())
    assert sorted(index['train@10pct_seed1.json']) == sorted(ids)


WORKER = r'''
import json, sys
import torch.distributed as dist
from mmengine.dist import all_gather_object
from mmengine.registry import init_default_scope
from mmdet.registry import DATASETS
import mmproseco  # noqa: F401
dist.init_process_group('gloo')
init_default_scope('mmdet')
ds = DATASETS.build(dict(type='CheckedCocoDataset', ann_file=sys.argv[1], data_root='',
                         data_prefix=dict(img=sys.argv[2]), metainfo=dict(classes=('a',)),
                         pipeline=[]))
ids = sorted(ds.get_data_info(i)['img_id'] for i in range(len(ds)))
everyone = all_gather_object(ids)
if dist.get_rank() == 0:
    print(json.dumps(everyone))
dist.barrier()
dist.destroy_process_group()
'''


def test_every_process_reads_the_same_split(tmp_path, repo_root):
    """Two processes of a distributed run build the labeled set: they get the same images."""
    img_dir = tmp_path / 'images'
    img_dir.mkdir()
    data = coco(40)
    from PIL import Image
    for im in data['images']:
        Image.new('RGB', (10, 10)).save(img_dir / im['file_name'])
    (tmp_path / 'train.json').write_text(json.dumps(data))
    make_splits([str(tmp_path / 'train.json'), str(tmp_path / 'out'), '--fractions', '25',
                 '--seeds', '7'])
    (tmp_path / 'worker.py').write_text(WORKER)
    env = dict(os.environ, PYTHONPATH=repo_root, OMP_NUM_THREADS='1')
    out = subprocess.run(
        [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
         '--master_port=29517', str(tmp_path / 'worker.py'),
         str(tmp_path / 'out' / 'train@25pct_seed7.json'), str(img_dir) + '/'],
        env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    rank0, rank1 = json.loads(out.stdout.strip().splitlines()[-1])
    assert rank0 == rank1 and len(rank0) == 10
