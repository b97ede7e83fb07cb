"""What the training stages record, on tiny real runs: a ProSeCo pretraining's |P(i)| and
teacher diagnostics, a fine-tuning run's unrounded test mAP, validation history and plateau
verdict, and every stage's start and end; and the COCOeval scores against a closed form."""
import json
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.logging import MessageHub

from mmproseco.pipeline.coco_scores import bbox_map
from mmproseco.pipeline.convergence import plateau_reached
from mmproseco.pipeline.scalars import DIAGNOSTICS, read_scalars
from mmproseco.pipeline.selective_search import main as selective_search
from mmproseco.pipeline.stages import final_means, finetune, pretrain

PROSECO = 'configs/proseco/proseco_deformable-detr_r18-tiny_1xb8-cpu_shapes.py'
FINETUNE = 'configs/finetune/deformable-detr_r18-tiny_1xb8-cpu_shapes-finetune.py'


def test_bbox_map_is_cocoeval_unrounded(tmp_path):
    """Two ground-truth boxes, one found at IoU 0.92: recall 1/2 at precision 1, so AP is
    51/101 at each IoU threshold up to 0.9 (COCO's 101 recall points) and 0 above."""
    ann = tmp_path / 'ann.json'
    ann.write_text(json.dumps(dict(
        images=[dict(id=1, file_name='a.png', width=100, height=100)],
        categories=[dict(id=3, name='box')],
        annotations=[dict(id=i + 1, image_id=1, category_id=3, bbox=box, area=100, iscrowd=0)
                     for i, box in enumerate(([0, 0, 10, 10], [50, 50, 10, 10]))])))
    found = [dict(img_id=1, pred_instances=dict(bboxes=np.array([[0., 0., 10., 9.2]]),
                                                scores=np.array([0.9]), labels=np.array([0])))]
    scores = bbox_map(str(ann), found)
    assert scores['bbox_mAP_50'] == pytest.approx(51 / 101, abs=1e-12)
    assert scores['bbox_mAP'] == pytest.approx(0.9 * 51 / 101, abs=1e-12)
    empty = [dict(img_id=1, pred_instances=dict(bboxes=np.zeros((0, 4)), scores=np.zeros(0),
                                                labels=np.zeros(0, dtype=int)))]
    assert bbox_map(str(ann), empty) == dict(bbox_mAP=0.0, bbox_mAP_50=0.0)


def test_final_means_average_the_last_logging_interval():
    hub = MessageHub.get_instance('test_final_means')
    for value in (1.0, 2.0, 3.0, 4.0, 5.0):
        hub.update_scalar('train/positives_per_query', value)
    runner = SimpleNamespace(message_hub=hub,
                             cfg=Config(dict(default_hooks=dict(logger=dict(interval=2)))))
    assert final_means(runner, ('positives_per_query', 'matched_cos')) == dict(
        positives_per_query=4.5)


@pytest.fixture(scope='module')
def tiny_repo(tmp_path_factory, repo_root):
    """A working directory with tiny shapes data and its proposals where the configs look
    for them (data/shapes, work/proposals/shapes)."""
    root = tmp_path_factory.mktemp('stages')
    subprocess.run([sys.executable, 'tools/prepare_data.py', '--out', str(root / 'data'),
                    '--datasets', 'shapes', '--shapes-sizes', '16', '4', '4'], cwd=repo_root,
                   check=True, capture_output=True)
    shapes = root / 'data' / 'shapes'
    selective_search(['--ann', str(shapes / 'annotations' / 'unlabeled.json'), '--img-dir',
                      str(shapes / 'images'), '--out', str(root / 'work/proposals/shapes'),
                      '--workers', '1', '--no-progress'])
    return root


def read_json(path):
    with open(path) as f:
        return json.load(f)


def outputs(root, name):
    return dict(metrics=str(root / f'{name}.json'), curves=str(root / f'{name}_curves.json'),
                timings=str(root / f'{name}_timings.json'))


@pytest.fixture(scope='module')
def proseco(tiny_repo, repo_root):
    """ProSeCo, 3 iterations of batch 2, logging every iteration."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tiny_repo)
        out = tiny_repo / 'work' / 'pretrain' / 'proseco_seed0' / 'detector.pth'
        files = outputs(tiny_repo / 'results', 'proseco')
        pretrain(f'{repo_root}/{PROSECO}', str(out), 3, 0, **files, cfg_options={
            'train_dataloader.batch_size': 2, 'default_hooks.logger.interval': 1,
            'model.detector.num_queries': 12})
    return out, files


def test_pretraining_records_positives_per_query_and_teacher_diagnostics(proseco):
    out, files = proseco
    metrics = read_json(files['metrics'])
    logged = [r for r in read_scalars(str(out.parent / 'mmengine')) if 'loss' in r]
    assert [r['iter'] for r in logged] == [1, 2, 3]
    # |P(i)| holds at least the matched proposal; the metrics keep its mean over the last
    # logging interval, here the last iteration
    assert all(r['positives_per_query'] >= 1 for r in logged)
    assert metrics['mean_positives_per_query'] == logged[-1]['positives_per_query']
    assert metrics['matched_cos'] == logged[-1]['matched_cos']
    assert -1 <= metrics['matched_cos'] <= 1
    assert 'positives_per_query' not in metrics['last_losses']
    assert metrics['teacher_init_distance'] > 0 and metrics['student_init_distance'] > 0
    # the curves keep every logged diagnostic, beside the losses, at its iteration
    curves = read_json(files['curves'])
    assert [p['iter'] for p in curves] == [1, 2, 3]
    for point, record in zip(curves, logged):
        for key in DIAGNOSTICS:
            assert point[key] == record[key], key
        assert point['loss_contrast'] == record['loss_contrast']
        assert 'time' not in point and 'lr' not in point  # nothing of the machine
    timings = read_json(files['timings'])
    assert timings['started'] < timings['ended']
    assert timings['train_seconds'] <= timings['ended'] - timings['started'] + 0.1


def test_finetuning_records_unrounded_test_map_and_its_val_history(tiny_repo, repo_root,
                                                                   proseco):
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tiny_repo)
        out = tiny_repo / 'work' / 'finetune' / 'proseco' / 'best.pth'
        files = outputs(tiny_repo / 'results', 'finetune')
        result = finetune(f'{repo_root}/{FINETUNE}', str(proseco[0]),
                          'data/shapes/annotations/train.json', str(out), 4, 4, 0, {}, **files,
                          facts=dict(method='proseco', fraction=100.0))
    assert read_json(files['metrics']) == result
    validations = [r for r in read_scalars(str(out.parent / 'mmengine'))
                   if 'coco/bbox_mAP' in r]
    # four validations at equal intervals, each at its iteration
    assert result['val_history'] == [dict(iter=i, bbox_mAP=r['coco/bbox_mAP'])
                                     for i, r in zip((1, 2, 3, 4), validations)]
    values = [v['bbox_mAP'] for v in result['val_history']]
    assert result['best_val_iter'] == 1 + values.index(max(values))
    assert result['last_val_iter'] == 4
    assert result['converged'] == plateau_reached(values)
    # COCOeval's numbers, which mmdet's CocoMetric reports rounded to 3 decimals
    for key in ('bbox_mAP', 'bbox_mAP_50'):
        assert isinstance(result[key], float) and 0 <= result[key] <= 1
        assert result[key] == pytest.approx(result[f'coco/{key}'], abs=5e-4 + 1e-9)
    timings = read_json(files['timings'])
    assert timings['started'] < timings['ended']


def test_finetuning_validations_counted_from_the_lr_drop(tiny_repo, repo_root, proseco):
    """6 iterations, the config's drop at round(2/3 * 6) = 4: 2 validations up to it (every
    2) and 2 after it (every 1), through the stage, mmdet's checkpoint hook included."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tiny_repo)
        out = tiny_repo / 'work' / 'finetune' / 'dropped' / 'best.pth'
        result = finetune(f'{repo_root}/{FINETUNE}', str(proseco[0]),
                          'data/shapes/annotations/train.json', str(out), 6,
                          dict(before_drop=2, after_drop=2), 0, {},
                          **outputs(tiny_repo / 'results', 'dropped'))
    assert [v['iter'] for v in result['val_history']] == [2, 4, 5, 6]
    values = [v['bbox_mAP'] for v in result['val_history']]
    assert result['best_val_iter'] == [2, 4, 5, 6][values.index(max(values))]
    assert result['last_val_iter'] == 6


def test_finetuning_refuses_validations_that_do_not_split_the_run(tmp_path):
    with pytest.raises(ValueError, match='multiple of its validations'):
        finetune(FINETUNE, 'init.pth', 'split.json', str(tmp_path / 'best.pth'), 10, 4, 0, {},
                 **outputs(tmp_path, 'finetune'))
