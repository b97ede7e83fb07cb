"""Koschmieder fog: identities, monotonicity in β and a deterministic make_fog tool."""
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from mmproseco.datasets.transforms.fog import (AddFog, depth_map, ground_plane_depth,
                                               koschmieder_fog, plasma_noise, ramp_depth)

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


def test_ramp_depth_against_its_closed_form():
    near, far, height, width = 10.0, 90.0, 6, 5
    # along x: d = near + (far - near) * j / (W - 1) at column j, the same in every row
    along_x = ramp_depth(height, width, near, far, 0.0)
    expected = near + (far - near) * np.arange(width) / (width - 1)
    np.testing.assert_allclose(along_x, np.broadcast_to(expected, (height, width)))
    # pointing up (y grows downwards): the bottom row is nearest
    up = ramp_depth(height, width, near, far, -np.pi / 2)
    np.testing.assert_allclose(up[:, 0], near + (far - near) * np.arange(height)[::-1] /
                               (height - 1))
    # diagonal: the top-left centre is nearest, the bottom-right farthest, constant along
    # the anti-diagonals x + y = c
    diagonal = ramp_depth(height, width, near, far, np.pi / 4)
    assert diagonal[0, 0] == pytest.approx(near) and diagonal[-1, -1] == pytest.approx(far)
    assert diagonal[1, 2] == pytest.approx(diagonal[2, 1])


def test_ramp_depth_map_draws_a_direction_per_seed():
    a, b = depth_map('ramp', 16, 16, seed=0), depth_map('ramp', 16, 16, seed=1)
    np.testing.assert_array_equal(a, depth_map('ramp', 16, 16, seed=0))
    assert not np.allclose(a, b)
    assert a.min() == pytest.approx(20) and a.max() == pytest.approx(120)  # the default range
    np.testing.assert_array_equal(depth_map('30', 2, 3), np.full((2, 3), 30.0))
    with pytest.raises(ValueError, match="'ramp'"):
        depth_map('deep', 2, 3)


def test_ramp_fog_matches_koschmieder_per_pixel_and_is_no_global_affine_map():
    image = random_image(3, size=(32, 32))
    depth = ramp_depth(32, 32, 20.0, 120.0, 0.3)
    beta, airlight = 0.02, 0.85
    foggy = koschmieder_fog(image, depth, beta, airlight)
    t = np.exp(-beta * depth)[..., None]
    expected = (np.clip(image / 255 * t + airlight * (1 - t), 0, 1) * 255 + 0.5).astype(np.uint8)
    np.testing.assert_array_equal(foggy, expected)

    def affine_residual(fogged):
        """RMS residual of the best single map foggy = a * clear + b over the image."""
        x = np.stack([image.ravel().astype(float), np.ones(image.size)], axis=1)
        y = fogged.ravel().astype(float)
        coef = np.linalg.lstsq(x, y, rcond=None)[0]
        return np.sqrt(np.mean((x @ coef - y)**2))

    # a constant depth is undone by one affine map (up to 8-bit rounding); the ramp is not
    constant = koschmieder_fog(image, np.full((32, 32), 70.0), beta, airlight)
    assert affine_residual(constant) < 0.5
    assert affine_residual(foggy) > 10


def test_add_fog_transform_is_seeded():
    results = dict(img=random_image(2))
    a = AddFog(beta=0.02, seed=3)(dict(results))['img']
    b = AddFog(beta=0.02, seed=3)(dict(results))['img']
    np.testing.assert_array_equal(a, b)
    assert a.mean() != results['img'].mean()
    with pytest.raises(ValueError, match='depth'):
        AddFog(beta=0.02, depth=0)
    ramp = AddFog(beta=0.02, depth='ramp', depth_range=(10, 50), beta_noise=0, seed=4)
    np.testing.assert_array_equal(
        ramp(dict(results))['img'],
        koschmieder_fog(results['img'], depth_map('ramp', 24, 32, 4, (10, 50)), 0.02,
                        beta_noise=0))


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


def test_make_fog_ramp_gives_image_i_the_depth_of_seed_plus_i(tmp_path):
    src = tmp_path / 'src'
    (src / 'images').mkdir(parents=True)
    for i in range(2):
        cv2.imwrite(str(src / 'images' / f'{i}.png'), random_image(i))
    from mmproseco.pipeline.fog import main
    main(['--src', str(src), '--out', str(tmp_path / 'out'), '--beta', '0.02', '--depth', 'ramp',
          '--depth-range', '10', '80', '--beta-noise', '0.3', '--seed', '5'])
    for i in range(2):
        expected = koschmieder_fog(random_image(i), depth_map('ramp', 24, 32, 5 + i, (10, 80)),
                                   0.02, 0.85, 0.3, 5 + i)
        np.testing.assert_array_equal(cv2.imread(str(tmp_path / 'out' / 'images' / f'{i}.png')),
                                      expected)
