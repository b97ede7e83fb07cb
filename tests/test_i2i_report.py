"""The I2I report: per-class AP50 against a COCOeval case computed by hand, the gap closed and
the intervals against their formulas, the wording rule and the layout of report.json."""
import json
import math
import os.path as osp
import shutil

import numpy as np
import pytest
import yaml

from mmproseco.pipeline.i2i_report import (ADAPTER_ROWS, ROWS, ap50_scores, main, render_markdown,
                                           scenario_report)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
T_975_2 = 4.302652729749464  # the 97.5 % quantile of Student's t at 2 degrees of freedom


def box(x, y, w, h):
    return dict(bbox=[x, y, w, h], area=w * h, iscrowd=0)


@pytest.fixture
def ann_file(tmp_path):
    """Two images; class a: two boxes in image 1, class b: one in image 2, class c: none."""
    coco = dict(
        images=[dict(id=1, file_name='1.png', height=100, width=100),
                dict(id=2, file_name='2.png', height=100, width=100)],
        categories=[dict(id=1, name='a'), dict(id=2, name='b'), dict(id=3, name='c')],
        annotations=[dict(id=1, image_id=1, category_id=1, **box(0, 0, 10, 10)),
                     dict(id=2, image_id=1, category_id=1, **box(20, 20, 10, 10)),
                     dict(id=3, image_id=2, category_id=2, **box(0, 0, 10, 10))])
    path = tmp_path / 'test.json'
    path.write_text(json.dumps(coco))
    return str(path)


def dump(img_id, boxes, scores, labels):
    """One entry of mmdet's DumpDetResults (xyxy boxes, labels indexing the classes)."""
    return dict(img_id=img_id, pred_instances=dict(
        bboxes=np.array(boxes, dtype=float).reshape(-1, 4), scores=np.array(scores),
        labels=np.array(labels)))


def test_ap50_per_class_is_cocoevals_interpolated_precision(ann_file):
    predictions = [
        # class a: a hit (0.9), a miss (0.8), the second hit (0.7)
        dump(1, [[0, 0, 10, 10], [50, 50, 60, 60], [20, 20, 30, 30]], [0.9, 0.8, 0.7],
             [0, 0, 0]),
        # class b: one box that overlaps nothing; class c: a box where c has no ground truth
        dump(2, [[30, 30, 40, 40], [0, 0, 5, 5]], [0.5, 0.6], [1, 2])]
    scores = ap50_scores(ann_file, predictions)
    # a: precision 1 up to recall 0.5 (51 of COCO's 101 recall thresholds, 0 to 0.5), then
    # the envelope 2/3 up to recall 1 (the other 50)
    ap_a = (51 * 1 + 50 * 2 / 3) / 101
    assert scores['per_class']['a'] == pytest.approx(ap_a, abs=1e-12)
    assert scores['per_class']['b'] == 0
    assert scores['per_class']['c'] is None  # no ground truth: no AP, not a zero
    assert scores['mAP50'] == pytest.approx((ap_a + 0) / 2, abs=1e-12)


def test_no_box_scores_zero_for_the_classes_with_ground_truth(ann_file):
    scores = ap50_scores(ann_file, [dump(1, [], [], []), dump(2, [], [], [])])
    assert scores == dict(mAP50=0.0, per_class=dict(a=0.0, b=0.0, c=None))


def fixed(value, classes=(0.1, None)):
    return [dict(mAP50=value, per_class=dict(a=classes[0], c=classes[1]))]


def seeded(values):
    return [dict(seed=s, mAP50=v, per_class=dict(a=v / 2, c=None)) for s, v in enumerate(values)]


def runs(translated=(0.3, 0.4, 0.5), cut=(0.25, 0.35, 0.36)):
    return {'Source': fixed(0.2), 'Target oracle': fixed(0.6), 'Clear ceiling': fixed(0.8),
            'Translated': seeded(translated), 'CUT': seeded(cut),
            'No local-global': seeded((0.2, 0.2, 0.2))}


def test_rows_intervals_and_gaps_against_their_formulas():
    report = scenario_report(runs())
    rows = report['rows']
    assert list(rows) == list(ROWS)
    translated = rows['Translated']
    # mean 0.4, sample std 0.1: 0.4 -/+ t * 0.1 / sqrt(3)
    half = T_975_2 * 0.1 / math.sqrt(3)
    assert translated['mAP50']['values'] == [0.3, 0.4, 0.5]
    assert translated['mAP50']['seeds'] == [0, 1, 2]
    assert translated['mAP50']['mean'] == pytest.approx(0.4)
    assert translated['mAP50']['ci_low'] == pytest.approx(0.4 - half)
    assert translated['mAP50']['ci_high'] == pytest.approx(0.4 + half)
    # (row - Source) / (reference - Source), seed by seed: oracle 0.6, ceiling 0.8
    assert translated['gap_closed_oracle']['values'] == pytest.approx([0.25, 0.5, 0.75])
    assert translated['gap_closed_ceiling']['values'] == pytest.approx([1 / 6, 2 / 6, 3 / 6])
    assert translated['gap_closed_oracle']['ci_high'] == pytest.approx(0.5 + half / 0.4)
    assert translated['per_class']['a']['mean'] == pytest.approx(0.2)
    assert translated['per_class']['c']['mean'] is None
    # the rows trained once: their value, no interval; the references close their own gap
    assert rows['Source']['mAP50'] == dict(values=[0.2], seeds=None, mean=0.2, ci_low=None,
                                           ci_high=None, n=1)
    assert rows['Source']['gap_closed_oracle']['mean'] == 0
    assert rows['Target oracle']['gap_closed_oracle']['mean'] == pytest.approx(1)
    assert rows['Clear ceiling']['gap_closed_ceiling']['mean'] == pytest.approx(1)
    assert report['source_keeps'] == pytest.approx(0.25)


def test_translated_against_cut_is_paired_by_seed_with_the_wording_rule():
    report = scenario_report(runs())
    c = report['comparison']
    # differences 0.05, 0.05, 0.14: mean 0.08, sample std sqrt(0.0027)
    half = T_975_2 * math.sqrt(0.0027) / math.sqrt(3)
    assert c['differences'] == pytest.approx([0.05, 0.05, 0.14])
    assert (c['diff_mean'], c['ci_low'], c['ci_high']) == pytest.approx(
        (0.08, 0.08 - half, 0.08 + half))
    assert c['verdict'] == 'no detectable difference'
    text = render_markdown(dict(level=0.95, seeds=[0, 1, 2], scenarios=dict(s=report)))
    assert 'Translated against CUT: no detectable difference at n = 3' in text
    # differences 0.1, 0.09, 0.11: the interval 0.1 -/+ 0.025 excludes 0
    clear = scenario_report(runs(cut=(0.2, 0.31, 0.39)))
    assert clear['comparison']['ci_low'] > 0 and clear['comparison']['verdict'] == 'beats'
    text = render_markdown(dict(level=0.95, seeds=[0, 1, 2], scenarios=dict(s=clear)))
    assert 'Translated beats CUT (difference 10.00 AP50 points' in text


def test_a_row_without_runs_is_refused():
    incomplete = runs()
    del incomplete['CUT']
    with pytest.raises(ValueError, match=r"\['CUT'\]"):
        scenario_report(incomplete)


def test_report_json_layout_from_the_study_files_only(tmp_path):
    params = yaml.safe_load(open(osp.join(REPO, 'params.yaml')))
    shutil.copy(osp.join(REPO, 'params.yaml'), tmp_path / 'params.yaml')
    seeds = params['study']['i2i_seeds']
    metrics = tmp_path / 'metrics'
    for scenario in params['i2i']['scenarios']:
        folder = metrics / scenario
        folder.mkdir(parents=True)
        for name, value in (('source', 0.2), ('oracle', 0.6), ('clear-ceiling', 0.8)):
            (folder / f'{name}.json').write_text(json.dumps(fixed(value)[0]))
        for adapter in params['i2i']['adapters']:
            for seed in [*seeds, 99]:  # seed 99: a run the study no longer has
                (folder / f'{adapter}_seed{seed}.json').write_text(json.dumps(
                    dict(seed=seed, mAP50=0.3 + 0.01 * seed, per_class=dict(a=0.3, c=None))))
    main(['--metrics', str(metrics), '--out', str(tmp_path / 'out'), '--params',
          str(tmp_path / 'params.yaml')])
    report = json.loads((tmp_path / 'out' / 'report.json').read_text())
    assert report['seeds'] == seeds
    assert set(report['scenarios']) == set(params['i2i']['scenarios'])
    for scenario in report['scenarios'].values():
        assert set(scenario['rows']) == set(ROWS)
        for row, entry in scenario['rows'].items():
            assert set(entry) == {'mAP50', 'per_class', 'gap_closed_oracle',
                                  'gap_closed_ceiling'}
            for key in ('mAP50', 'gap_closed_oracle', 'gap_closed_ceiling'):
                assert {'values', 'mean', 'ci_low', 'ci_high'} <= set(entry[key])
            assert set(entry['per_class']) == {'a', 'c'}
            expected = len(seeds) if row in ADAPTER_ROWS.values() else 1
            assert entry['mAP50']['n'] == expected
        assert scenario['rows']['CUT']['mAP50']['seeds'] == seeds
    text = (tmp_path / 'out' / 'report.md').read_text()
    assert text == render_markdown(report)  # the markdown is the JSON's
    assert text.count('| Clear ceiling |') == 2 * len(params['i2i']['scenarios'])
    table = [line.split(' | ')[0][2:] for line in text.splitlines()
             if line.startswith('| ') and ' | ' in line][:len(ROWS) + 1]
    assert table == ['row', *ROWS]  # in the report's order, though JSON sorts the keys
