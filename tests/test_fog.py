"""Koschmieder fog: identities, monotonicity in β and a deterministic make_fog tool."""
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from mmproseco.datasets.transforms.fog import (AddFog, ground_plane_depth, koschmieder_fog,
                                               plasma_noise)

REPO = Path(__file__).resolve().parents[1]


def random_image(seed=0, size=(24, 32)):
    return np.random.default_rng(seed).integers(0, 256, (*size, 3), dtype=np.uint8)


def test_beta_zero_is_identity():
    image = random_image()
    depth = np.full(image.shape[:2], 60.0)
    np.testing.assert_array_equal(koschmieder_fog(image, depth, 0.0, beta_noise=0.5), image)


def test_fog_moves_every_pixel_monotonically_towards_the_airlight():
    image = random_image()
    depth = ground_plane_depth(*image.shape[:2])
    airlight = 0.85 * 255
    distances = [
        np.abs(koschmieder_fog(image, depth, beta, beta_noise=0.3, seed=1).astype(float) - airlight)
        for beta in (0.0, 0.005, 0.01, 0.02, 0.1)
    ]
    for lighter, denser in zip(distances, distances[1:]):
        assert np.all(denser <= lighter + 1)  # +1: uint8 rounding
    assert distances[-1].mean() < 0.5 * distances[0].mean()


def test_fog_matches_the_formula_with_constant_beta():
    image = random_image(1)
    depth = np.full(image.shape[:2], 50.0)
    t = np.exp(-0.01 * 50)
    expected = np.clip(image / 255 * t + 0.8 * (1 - t), 0, 1) * 255 + 0.5
    np.testing.assert_array_equal(
        koschmieder_fog(image, depth, 0.01, atmospheric_light=0.8), expected.astype(np.uint8))


def test_plasma_and_ground_plane_ranges():
    noise = plasma_noise(40, 50, np.random.default_rng(0))
    assert noise.shape == (40, 50) and noise.min() == 0 and noise.max() <= 1
    depth = ground_plane_depth(100, 10)
    assert depth[0, 0] == 300 and np.all(np.diff(depth[:, 0]) <= 0) and depth.min() >= 3
    with pytest.raises(ValueError, match='beta'):
        koschmieder_fog(random_image(), depth[:24, :32], -1.0)


def test_add_fog_transform_is_seeded():
    results = dict(img=random_image(2))
    a = AddFog(beta=0.02, seed=3)(dict(results))['img']
    b = AddFog(beta=0.02, seed=3)(dict(results))['img']
    np.testing.assert_array_equal(a, b)
    assert a.mean() != results['img'].mean()
    with pytest.raises(ValueError, match='depth'):
        AddFog(beta=0.02, depth=0)


def test_make_fog_tool_is_deterministic_and_copies_annotations(tmp_path):
    src = tmp_path / 'src'
    (src / 'images').mkdir(parents=True)
    (src / 'annotations').mkdir()
    for i in range(2):
        cv2.imwrite(str(src / 'images' / f'{i}.png'), random_image(i))
    (src / 'annotations' / 'test.json').write_text(json.dumps(dict(images=[], annotations=[])))
    env = dict(os.environ, PYTHONPATH=str(REPO))
    outs = []
    for name in ('a', 'b'):
        subprocess.run([sys.executable, 'tools/make_fog.py', '--src', str(src), '--out',
                        str(tmp_path / name), '--beta', '0.02', '--seed', '0'],
                       cwd=REPO, env=env, check=True, capture_output=True)
        outs.append((tmp_path / name / 'images' / '1.png').read_bytes())
    assert outs[0] == outs[1]
    assert (tmp_path / 'a' / 'annotations' / 'test.json').exists()
    foggy = cv2.imread(str(tmp_path / 'a' / 'images' / '0.png'))
    assert np.abs(foggy.astype(float) - 0.85 * 255).mean() < np.abs(
        random_image(0).astype(float) - 0.85 * 255).mean()
