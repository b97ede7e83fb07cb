"""tools/prepare_data.py: determinism, COCO validity, splits and the class-similarity design.

The deepforest tests need the deepforest 2.1.0 wheel: it is downloaded from PyPI once into
``~/.cache/mmproseco`` (or ``$MMPROSECO_CACHE``) and reused; they are skipped when neither the
cache nor PyPI is available.
"""
import hashlib
import itertools
import json
import os
import os.path as osp
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter

import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO

from tools.dataprep import deepforest as deepforest_source

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOOL = osp.join(ROOT, 'tools', 'prepare_data.py')

SPLITS = ('unlabeled', 'train', 'val', 'test')
SHAPES_SIZES = ('150', '10', '10')


def run_tool(*args):
    return subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True,
                          cwd=ROOT)


def tree_hashes(folder):
    """{relative path: sha256} of every file under ``folder``."""
    hashes = {}
    for dirpath, _, files in os.walk(folder):
        for name in files:
            path = osp.join(dirpath, name)
            with open(path, 'rb') as f:
                hashes[osp.relpath(path, folder)] = hashlib.sha256(f.read()).hexdigest()
    return hashes


def load_split(folder, split):
    with open(osp.join(folder, 'annotations', f'{split}.json')) as f:
        return json.load(f)


@pytest.fixture(scope='module')
def shapes_builds(tmp_path_factory):
    """Two builds with seed 0 (1 and 2 processes) and one with seed 1 of a small shapes set."""
    outs = [tmp_path_factory.mktemp(name) for name in ('a', 'b', 'seed1')]
    for out, seed, workers in zip(outs, ('0', '0', '1'), ('1', '2', '1')):
        result = run_tool('--out', str(out), '--seed', seed, '--datasets', 'shapes',
                          '--shapes-sizes', *SHAPES_SIZES, '--workers', workers)
        assert result.returncode == 0, result.stderr
    return outs


@pytest.fixture(scope='module')
def deepforest_wheel():
    try:
        return deepforest_source.fetch_wheel(deepforest_source.default_cache_dir())
    except deepforest_source.PrepareDataError as err:
        pytest.skip(f'deepforest wheel unavailable: {err}')


@pytest.fixture(scope='module')
def deepforest_builds(tmp_path_factory, deepforest_wheel):
    outs = [tmp_path_factory.mktemp(name) for name in ('df_a', 'df_b')]
    for out in outs:
        result = run_tool('--out', str(out), '--datasets', 'deepforest',
                          '--deepforest-wheel', deepforest_wheel)
        assert result.returncode == 0, result.stderr
    return [osp.join(out, 'deepforest') for out in outs]


def test_shapes_rebuild_is_byte_identical(shapes_builds):
    first, second, other_seed = map(tree_hashes, shapes_builds)
    assert len(first) == 150 + 10 + 10 + 4 + 1 + 1  # images, 4 splits, similarity, README
    readmes = [(out / 'README.md').read_text().replace(str(out), 'OUT')
               for out in shapes_builds[:2]]
    assert readmes[0] == readmes[1] and '--out OUT --seed 0' in readmes[0]
    del first['README.md'], second['README.md']  # they name their own --out folder
    assert first == second
    changed = {p for p in first if p.endswith('.png') and first[p] != other_seed.get(p)}
    assert len(changed) == 170  # the seed reaches every image


def test_shapes_small_build_is_prefix_of_larger(shapes_builds, tmp_path):
    result = run_tool('--out', str(tmp_path), '--datasets', 'shapes', '--shapes-sizes', '3', '1',
                      '1')
    assert result.returncode == 0, result.stderr
    small, large = tree_hashes(tmp_path / 'shapes'), tree_hashes(shapes_builds[0] / 'shapes')
    images = [p for p in small if p.endswith('.png')]
    assert len(images) == 5
    assert all(small[p] == large[p] for p in images)


def test_shapes_coco_files(shapes_builds):
    folder = str(shapes_builds[0] / 'shapes')
    with open(osp.join(folder, 'class_similarity.json')) as f:
        classes = json.load(f)['classes']
    all_ids = []
    for split, n in zip(('train', 'val', 'test'), map(int, SHAPES_SIZES)):
        coco = COCO(osp.join(folder, 'annotations', f'{split}.json'))
        assert len(coco.getImgIds()) == n
        assert [c['name'] for c in coco.loadCats(coco.getCatIds())] == classes
        all_ids += coco.getImgIds()
        per_image = Counter(a['image_id'] for a in coco.dataset['annotations'])
        assert set(per_image) == set(coco.getImgIds())  # every image has objects
        assert 1 <= min(per_image.values()) and max(per_image.values()) <= 5
        for ann in coco.dataset['annotations']:
            x, y, w, h = ann['bbox']
            assert x >= 0 and y >= 0 and x + w <= 128 and y + h <= 128
            assert 11.99 <= max(w, h) <= 64.01  # the longest side spans the 12-64 px scale range
            assert ann['area'] == pytest.approx(w * h, abs=0.01)
        for image in coco.dataset['images'][:3]:
            with Image.open(osp.join(folder, 'images', image['file_name'])) as img:
                assert (img.mode, img.size) == ('RGB', (128, 128))
    assert len(set(all_ids)) == len(all_ids)  # image ids are unique across splits
    unlabeled, train = load_split(folder, 'unlabeled'), load_split(folder, 'train')
    assert unlabeled['annotations'] == [] and unlabeled['images'] == train['images']


def test_shapes_classes_roughly_balanced(shapes_builds):
    train = load_split(str(shapes_builds[0] / 'shapes'), 'train')
    counts = Counter(a['category_id'] for a in train['annotations'])
    assert sorted(counts) == list(range(1, 9))
    mean = len(train['annotations']) / 8
    assert all(0.6 * mean <= c <= 1.4 * mean for c in counts.values()), counts


def test_shapes_boxes_show_partial_occlusion_only(shapes_builds):
    train = load_split(str(shapes_builds[0] / 'shapes'), 'train')
    by_image = {}
    for ann in train['annotations']:
        by_image.setdefault(ann['image_id'], []).append(ann['bbox'])
    overlapping = 0
    for boxes in by_image.values():
        for (ax, ay, aw, ah), (bx, by, bw, bh) in itertools.combinations(boxes, 2):
            iw = min(ax + aw, bx + bw) - max(ax, bx)
            ih = min(ay + ah, by + bh) - max(ay, by)
            inter = max(iw, 0) * max(ih, 0)
            overlapping += inter > 0
            assert inter <= 0.5 * min(aw * ah, bw * bh) + 0.05  # never nested or hidden
    assert overlapping > 0  # but some objects do occlude others


def test_class_similarity_is_consistent(shapes_builds):
    with open(shapes_builds[0] / 'shapes' / 'class_similarity.json') as f:
        table = json.load(f)
    classes, ranks, supers = table['classes'], table['ranks'], table['superclasses']
    assert len(classes) >= 6 and len(set(classes)) == len(classes)
    assert set(ranks) == set(classes)
    assert sorted(itertools.chain(*supers.values())) == sorted(classes)  # a partition
    super_of = {c: s for s, members in supers.items() for c in members}
    for cls, levels in ranks.items():
        similar = list(itertools.chain(*levels))
        assert cls not in similar and len(similar) == len(set(similar))
        assert all(levels) and all(c in classes for c in similar)
        assert all(super_of[c] == super_of[cls] for c in similar)
        # rank-1 neighbours differ from the class in exactly one attribute
        for other in levels[0]:
            diffs = [k for k in table['attributes'][cls]
                     if table['attributes'][cls][k] != table['attributes'][other][k]]
            assert len(diffs) == 1, (cls, other, diffs)
        assert all(cls in ranks[other][0] for other in levels[0])  # rank 1 is symmetric
    assert len({len(levels) for levels in ranks.values()}) > 1  # ranks of different depths


def test_clip_rule_by_hand():
    boxes = np.array([[390., 10., 420., 40.],  # 10 of 30 px inside: 1/3 of area -> dropped
                      [380., 10., 410., 40.],  # 20 of 30 px inside: 2/3 -> kept, clipped
                      [398.5, 50., 450., 90.],  # 1.5 px inside -> dropped
                      [10., 10., 20., 20.]])  # inside
    kept = deepforest_source.clip_boxes_to_tile(boxes, 0, 0, 400, 400)
    np.testing.assert_allclose(kept, [[380, 10, 400, 40], [10, 10, 20, 20]])
    shifted = deepforest_source.clip_boxes_to_tile(boxes, 400, 0, 400, 400)
    # the first box keeps 20 of 30 px here, the second 10 of 30, the third 50 of 51.5
    np.testing.assert_allclose(shifted, [[0, 10, 20, 40], [0, 50, 50, 90]])


def test_bad_wheel_is_refused_with_a_fix(tmp_path):
    fake = tmp_path / deepforest_source.WHEEL_NAME
    fake.write_bytes(b'not a wheel')
    result = run_tool('--out', str(tmp_path / 'out'), '--datasets', 'deepforest',
                      '--deepforest-wheel', str(fake))
    assert result.returncode == 1
    assert str(fake) in result.stderr and 'sha256' in result.stderr
    assert 'Fix' in result.stderr
    assert not (tmp_path / 'out' / 'deepforest').exists()


def test_deepforest_rebuild_is_byte_identical(deepforest_builds):
    first, second = map(tree_hashes, deepforest_builds)
    assert first == second and len(first) > 40


def test_deepforest_splits(deepforest_builds):
    folder = deepforest_builds[0]
    splits = {s: load_split(folder, s) for s in SPLITS}
    labelled = {s: splits[s] for s in ('train', 'val', 'test')}
    assert sum(len(d['images']) for d in labelled.values()) == 36
    assert sum(len(d['annotations']) for d in labelled.values()) == 762
    for split, data in splits.items():
        coco = COCO(osp.join(folder, 'annotations', f'{split}.json'))
        assert coco.loadCats(coco.getCatIds()) == [{'id': 1, 'name': 'tree'}]
        assert {i['site'] for i in data['images']} <= {'YELL', 'OSBS', 'SOAP'}
        for ann in data['annotations']:
            x, y, w, h = ann['bbox']
            assert x >= 0 and y >= 0 and x + w <= 400 and y + h <= 400 and min(w, h) >= 2
    ids = [{i['id'] for i in d['images']} for d in labelled.values()]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    assert {i['site'] for i in splits['train']['images']} == {'YELL'}
    assert {i['site'] for i in splits['test']['images']} == {'YELL', 'OSBS', 'SOAP'}
    # no pixel of a val/test tile reaches the unlabeled pretraining pool
    held_out = splits['val']['images'] + splits['test']['images']
    for image in splits['unlabeled']['images']:
        (px, py), pw, ph = image['tile_origin'], image['width'], image['height']
        for other in held_out:
            if other['source_image'] == image['source_image']:
                (qx, qy), qw, qh = other['tile_origin'], other['width'], other['height']
                assert px + pw <= qx or qx + qw <= px or py + ph <= qy or qy + qh <= py
    assert splits['unlabeled']['annotations'] == []
    assert 'SOAP_031' in {i['source_image'] for i in splits['unlabeled']['images']}
    with Image.open(osp.join(folder, 'images', splits['train']['images'][0]['file_name'])) as im:
        assert (im.mode, im.size) == ('RGB', (400, 400))


def test_deepforest_tiles_match_the_raw_voc_boxes(deepforest_builds, deepforest_wheel):
    """Recount the boxes of each labelled tile from the wheel's VOC files with a plain loop."""
    raw = {}
    with zipfile.ZipFile(deepforest_wheel) as wheel:
        for name in wheel.namelist():
            if name.startswith('deepforest/data/') and name.endswith('.xml'):
                root = ET.fromstring(wheel.read(name))
                stem = osp.splitext(root.findtext('filename'))[0]
                raw[stem] = [tuple(float(o.find('bndbox').findtext(k))
                                   for k in ('xmin', 'ymin', 'xmax', 'ymax'))
                             for o in root.findall('object')]
    checked = 0
    for split in ('train', 'val', 'test'):
        data = load_split(deepforest_builds[0], split)
        per_image = Counter(a['image_id'] for a in data['annotations'])
        for image in data['images']:
            x0, y0 = image['tile_origin']
            expected = 0
            for xmin, ymin, xmax, ymax in raw[image['source_image']]:
                w = min(xmax, x0 + 400) - max(xmin, x0)
                h = min(ymax, y0 + 400) - max(ymin, y0)
                if w >= 2 and h >= 2 and w * h >= 0.5 * (xmax - xmin) * (ymax - ymin):
                    expected += 1
            assert per_image[image['id']] == expected, image['file_name']
            checked += 1
    assert checked == 36


def test_shapes_configs_name_the_generated_classes(repo_root):
    """The one config copy of the classes and palette is the generator's, in label order."""
    from mmengine.config import Config

    from tools.dataprep.shapes import CLASSES, PALETTE
    cfg = Config.fromfile(osp.join(repo_root, 'configs/_base_/datasets/shapes_metainfo.py'))
    assert tuple(cfg.metainfo.classes) == CLASSES
    assert [tuple(c) for c in cfg.metainfo.palette] == [tuple(c) for c in PALETTE]
