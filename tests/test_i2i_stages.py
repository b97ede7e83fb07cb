"""The I2I stages on a tiny generated scenario: the source detector tested on the fogged and
the clear test images, an adapter in front of it, and the report read from their files."""
import json
import os.path as osp
import subprocess
import sys

import pytest
import torch

from mmproseco.pipeline import fog, stages
from mmproseco.pipeline.i2i_report import build_i2i_report

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = osp.join(REPO, 'configs', 'i2i')
SCENARIO = dict(name='shapes-fog', clear='data/shapes', target='work/fog/shapes',
                source=osp.join(CONFIGS, 'faster-rcnn_r18-tiny_fpn_1xb8-cpu_shapes-clear.py'),
                oracle=osp.join(CONFIGS, 'faster-rcnn_r18-tiny_fpn_1xb8-cpu_shapes-fog.py'))
SIZE = {'i2i': {'shapes-fog': dict(source_iters=2, oracle_iters=2, adapter_iters=2)}}


@pytest.fixture(scope='module')
def scenario_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp('i2i_stages')
    result = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'prepare_data.py'), '--out',
         str(root / 'data'), '--datasets', 'shapes', '--shapes-sizes', '8', '4', '4'],
        capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return root


def test_source_detector_then_adapter_write_what_the_report_reads(scenario_dir, monkeypatch):
    monkeypatch.chdir(scenario_dir)  # the configs read data/ and work/ from here
    fog.main(['--src', 'data/shapes', '--out', 'work/fog/shapes', '--beta', '0.01', '--depth',
              'ramp', '--seed', '0'])
    metrics = 'results/metrics/i2i/shapes-fog'
    source = 'work/i2i/shapes-fog/source/final.pth'
    stages.i2i_detector(SCENARIO, 'source', source, SIZE, 'curves/source.json',
                        'timings/source.json', f'{metrics}/source.json',
                        f'{metrics}/clear-ceiling.json')
    stages.i2i_detector(SCENARIO, 'oracle', 'work/i2i/shapes-fog/oracle/final.pth', SIZE,
                        'curves/oracle.json', 'timings/oracle.json', f'{metrics}/oracle.json')
    config = osp.join(CONFIGS, 'cut_tiny_1xb4-cpu_shapes-fog.py')
    for seed in (0, 1):
        stages.i2i_adapter(config, 'shapes-fog', 'cut', seed, source,
                           f'work/i2i/shapes-fog/cut_seed{seed}/final.pth', SIZE,
                           f'curves/cut{seed}.json', f'timings/cut{seed}.json',
                           f'{metrics}/cut_seed{seed}.json')
    rows = {name: json.load(open(f'{metrics}/{name}.json'))
            for name in ('source', 'clear-ceiling', 'oracle', 'cut_seed0', 'cut_seed1')}
    # the source's two tests: the oracle's (fogged) test set, then its own (clear) one
    assert rows['source']['config'] == SCENARIO['oracle']
    assert rows['clear-ceiling']['config'] == SCENARIO['source']
    assert [rows[n]['row'] for n in rows] == [
        'Source', 'Clear ceiling', 'Target oracle', 'CUT', 'CUT']
    assert (rows['cut_seed1']['seed'], rows['cut_seed1']['adapter']) == (1, 'cut')
    for row in rows.values():
        assert 0 <= row['mAP50'] <= 1 and len(row['per_class']) == 8
    # no validation in the study's runs: the curves hold no val metric
    assert not any('coco/bbox_mAP' in p for p in json.load(open('curves/cut0.json')))
    for name in ('source', 'cut1'):
        timing = json.load(open(f'timings/{name}.json'))
        assert timing['started'] < timing['ended'] and timing['train_seconds'] > 0
    # the adapter keeps its frozen detector: the source's weights, unchanged
    detector = torch.load(source, weights_only=True)['state_dict']
    adapted = torch.load('work/i2i/shapes-fog/cut_seed1/final.pth',
                         weights_only=True)['state_dict']
    assert all(torch.equal(adapted[f'detector.{k}'], v) for k, v in detector.items())
    # the report reads these files (two seeds of one adapter: the others' rows are refused)
    with pytest.raises(FileNotFoundError, match='attention-i2i_seed0'):
        build_i2i_report('results/metrics/i2i', ['shapes-fog'], ['attention-i2i'], [0, 1])
    for adapter in ('attention-i2i', 'attention-i2i-no-lg'):
        for seed in (0, 1):
            json.dump(dict(rows['cut_seed0'], seed=seed),
                      open(f'{metrics}/{adapter}_seed{seed}.json', 'w'))
    report = build_i2i_report('results/metrics/i2i', ['shapes-fog'],
                              ['attention-i2i', 'cut', 'attention-i2i-no-lg'], [0, 1])
    cut = report['scenarios']['shapes-fog']['rows']['CUT']['mAP50']
    assert cut['values'] == [rows['cut_seed0']['mAP50'], rows['cut_seed1']['mAP50']]
