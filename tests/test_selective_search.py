"""tools/selective_search.py: box validity, determinism, the content cache, skipped images."""
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest

from mmproseco.datasets.unlabeled import load_proposal_file
from mmproseco.pipeline.selective_search import SearchSettings, compute_proposals, main

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def shapes_image(seed, height=96, width=128):
    """A flat background with three filled rectangles, like the generated shapes set."""
    rng = np.random.default_rng(seed)
    img = np.full((height, width, 3), rng.integers(0, 80, 3), dtype=np.uint8)
    for _ in range(3):
        x1, y1 = rng.integers(0, width - 30), rng.integers(0, height - 30)
        x2, y2 = x1 + rng.integers(12, 30), y1 + rng.integers(12, 30)
        cv2.rectangle(img, (int(x1), int(y1)), (int(x2), int(y2)),
                      tuple(int(c) for c in rng.integers(120, 256, 3)), -1)
    return img


def write_images(folder, count, start_seed=0):
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i in range(count):
        name = f'img_{i:02d}.png'
        cv2.imwrite(str(folder / name), shapes_image(start_seed + i))
        names.append(name)
    return names


def iou_one_to_many(box, boxes):
    ix = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    iy = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = ix * iy
    area = lambda b: (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])  # noqa: E731
    return inter / (area(box) + area(boxes) - inter)


def test_proposals_are_valid_boxes_in_bounds_and_find_the_object():
    # A non-square image: swapped x/y scales would misplace the object box.
    img = np.full((90, 160, 3), 30, np.uint8)
    obj = np.array([100, 20, 140, 70], np.float32)
    cv2.rectangle(img, (100, 20), (139, 69), (40, 200, 250), -1)
    boxes = compute_proposals(img, max_boxes=50)
    assert boxes.dtype == np.float32 and boxes.ndim == 2 and boxes.shape[1] == 4
    assert 2 <= len(boxes) <= 50
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    assert (boxes[:, :2] >= 0).all() and (boxes[:, 2] <= 160).all() and (boxes[:, 3] <= 90).all()
    assert (w >= 0.02 * 160).all() and (h >= 0.02 * 90).all()
    assert (np.maximum(w / h, h / w) <= 3.0).all()
    assert np.array_equal(boxes, np.round(boxes))
    assert iou_one_to_many(obj, boxes).max() > 0.85


def test_filters_apply_and_output_is_deterministic():
    img = shapes_image(3)
    first = compute_proposals(img)
    compute_proposals(shapes_image(4))  # advances OpenCV's C rand() in between
    assert np.array_equal(first, compute_proposals(img))
    strict = compute_proposals(img, min_size=0.2, max_aspect=1.5)
    w, h = strict[:, 2] - strict[:, 0], strict[:, 3] - strict[:, 1]
    assert (w >= 0.2 * 128).all() and (h >= 0.2 * 96).all()
    assert (np.maximum(w / h, h / w) <= 1.5).all() and len(strict) < len(first)
    assert len(compute_proposals(img, max_boxes=5)) == 5


@pytest.mark.parametrize('field,value', [('mode', 'slow'), ('resize', -1), ('max_boxes', 1),
                                         ('min_size', 1.0), ('max_aspect', 0.5)])
def test_bad_settings_name_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        SearchSettings(**{field: value})


def test_cache_reuses_unchanged_images_and_output_is_stable(tmp_path, capsys):
    img_dir = tmp_path / 'images'
    names = write_images(img_dir, 4)
    args = ['--img-dir', str(img_dir), '--out', str(tmp_path / 'out'), '--workers', '2',
            '--no-progress']
    first = main(args)
    assert (first['computed'], first['reused']) == (4, 0)
    npz_bytes = (tmp_path / 'out' / 'proposals.npz').read_bytes()

    second = main(args)
    assert (second['computed'], second['reused']) == (0, 4)
    assert 'reused 4 cached, computed 0' in capsys.readouterr().out
    assert (tmp_path / 'out' / 'proposals.npz').read_bytes() == npz_bytes

    cv2.imwrite(str(img_dir / names[2]), shapes_image(99))  # edit one image
    third = main(args[:-2] + ['1', '--no-progress'])  # and one worker: same result
    assert (third['computed'], third['reused']) == (1, 3)
    proposals = load_proposal_file(str(tmp_path / 'out' / 'proposals.npz'))
    assert sorted(proposals) == names
    expected = compute_proposals(shapes_image(99))
    assert np.array_equal(proposals[names[2]][0], expected)
    assert proposals[names[2]][1] == (96, 128)

    # A COCO json over an overlapping set with new images: only the new ones are computed.
    write_images(img_dir, 6)
    ann = tmp_path / 'unlabeled.json'
    ann.write_text(json.dumps({'images': [{'id': i, 'file_name': f'img_{i:02d}.png'}
                                          for i in (0, 1, 4, 5)]}))
    overlap = main(['--ann', str(ann)] + args)
    assert (overlap['computed'], overlap['reused']) == (2, 2)
    assert list(load_proposal_file(str(tmp_path / 'out' / 'proposals.npz'))) == [
        'img_00.png', 'img_01.png', 'img_04.png', 'img_05.png']


def test_changed_settings_do_not_reuse(tmp_path):
    write_images(tmp_path / 'images', 2)
    args = ['--img-dir', str(tmp_path / 'images'), '--out', str(tmp_path / 'out'),
            '--workers', '1', '--no-progress']
    main(args)
    assert main(args + ['--max-boxes', '10'])['computed'] == 2


def test_unreadable_and_flat_images_are_skipped_by_name(tmp_path, capsys):
    img_dir = tmp_path / 'images'
    write_images(img_dir, 2)
    (img_dir / 'broken.png').write_bytes(b'\x89PNG not really an image')
    cv2.imwrite(str(img_dir / 'flat.png'), np.full((64, 64, 3), 128, np.uint8))
    summary = main(['--img-dir', str(img_dir), '--out', str(tmp_path / 'out'), '--workers', '2',
                    '--no-progress'])
    out = capsys.readouterr().out
    assert '2 skipped' in out
    assert 'skipped broken.png: not a decodable image' in out
    assert 'skipped flat.png: only 1 proposal(s)' in out
    meta = json.loads((tmp_path / 'out' / 'meta.json').read_text())
    assert meta['skipped_count'] == 2 and meta['with_proposals'] == 2 and meta['images'] == 4
    assert {s['file'] for s in meta['skipped']} == {'broken.png', 'flat.png'}
    assert meta['settings'] == dict(mode='fast', resize=128, max_boxes=200, min_size=0.02,
                                    max_aspect=3.0, seed=0)
    assert sorted(load_proposal_file(str(tmp_path / 'out' / 'proposals.npz'))) == [
        'img_00.png', 'img_01.png']
    assert summary['boxes'] == meta['boxes']


def test_command_line_runs_as_a_stage_and_reports_missing_input(tmp_path):
    write_images(tmp_path / 'images', 2)
    env = dict(os.environ, PYTHONPATH=REPO_ROOT)
    cmd = [sys.executable, osp.join(REPO_ROOT, 'tools', 'selective_search.py'), '--img-dir',
           str(tmp_path / 'images'), '--out', str(tmp_path / 'proposals' / 'x'), '--workers', '2']
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert 'computed 2' in done.stdout
    assert (tmp_path / 'proposals' / '.ss_cache').is_dir()  # beside --out, not inside it
    missing = subprocess.run(cmd[:2] + ['--ann', 'nope.json'] + cmd[2:], capture_output=True,
                             text=True, env=env, cwd=tmp_path)
    assert missing.returncode != 0
    assert "annotation file 'nope.json' does not exist" in missing.stderr
