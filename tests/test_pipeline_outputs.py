"""What a stage keeps of mmengine's files: curves from the logged scalars, and weights
without the run's clock, host or paths."""
import json

import torch
from mmengine.logging import MessageHub

from mmproseco.engine.hooks import WeightsOnlyCheckpointHook
from mmproseco.pipeline.checkpoints import keep_checkpoint
from mmproseco.pipeline.scalars import last_losses, read_scalars, training_curves, write_curves

# The records mmengine 0.10.7's LoggerHook writes for an iteration-based run: training
# iterations (``step`` = iter), then a validation logged at epoch 0.
RUN_1 = [
    dict(lr=0.01, data_time=0.31, loss=2.5, loss_contrast=2.0, time=1.7, iter=2, memory=0,
         step=2),
    dict(lr=0.01, data_time=0.02, loss=2.1, loss_contrast=1.6, time=0.9, iter=4, memory=0,
         step=4),
    {'coco/bbox_mAP': 0.012, 'coco/bbox_mAP_50': 0.05, 'data_time': 0.2, 'time': 0.4,
     'step': 0},
]
RUN_2 = [dict(lr=0.01, data_time=0.5, loss=1.9, time=2.2, iter=6, step=6)]


def write_run(work_dir, timestamp, records):
    vis = work_dir / timestamp / 'vis_data'
    vis.mkdir(parents=True)
    (vis / 'scalars.json').write_text(''.join(json.dumps(r) + '\n' for r in records))


def test_curves_keep_iterations_losses_and_metrics_only(tmp_path):
    write_run(tmp_path, '20260101_120000', RUN_1)
    write_run(tmp_path, '20260102_080000', RUN_2)  # a resumed run: read after the first
    points = training_curves(read_scalars(tmp_path))
    assert points == [
        dict(iter=2, loss=2.5, loss_contrast=2.0),
        dict(iter=4, loss=2.1, loss_contrast=1.6),
        {'iter': 4, 'coco/bbox_mAP': 0.012, 'coco/bbox_mAP_50': 0.05},
        dict(iter=6, loss=1.9),
    ]
    assert last_losses(points) == dict(loss=1.9)
    assert last_losses([]) == {}
    # one file of the same run reads the same as its work dir
    assert read_scalars(tmp_path / '20260101_120000' / 'vis_data' / 'scalars.json') == RUN_1


def test_curves_file_is_the_same_for_runs_that_differ_in_timings(tmp_path):
    write_run(tmp_path / 'a', '20260101_120000', RUN_1)
    slower = [dict(r, time=9.9, data_time=9.9) for r in RUN_1]
    write_run(tmp_path / 'b', '20260301_000000', slower)
    write_curves(tmp_path / 'a', str(tmp_path / 'a.json'))
    write_curves(tmp_path / 'b', str(tmp_path / 'b.json'))
    assert (tmp_path / 'a.json').read_bytes() == (tmp_path / 'b.json').read_bytes()


def mmengine_checkpoint(weights, when, host):
    """A checkpoint laid out as Runner.save_checkpoint writes it with the configs'
    WeightsOnlyCheckpointHook."""
    hub = MessageHub.get_instance(f'hub-{when}')
    hub.update_scalar('train/loss', 1.0)
    checkpoint = dict(
        meta=dict(cfg=f"work_dir = '/home/{host}/work'", seed=1234, experiment_name=when,
                  time=when, mmengine_version='0.10.7', dataset_meta=dict(classes=('a', 'b')),
                  epoch=0, iter=4, hook_msgs=dict(last_ckpt=f'/home/{host}/iter_4.pth')),
        state_dict=weights, message_hub=hub.state_dict(),
        optimizer=dict(state={}, param_groups=[dict(lr=0.01, params=[0])]))
    WeightsOnlyCheckpointHook().before_save_checkpoint(None, checkpoint)
    return checkpoint


def test_kept_checkpoint_holds_weights_and_dataset_meta_only(tmp_path):
    weights = {'backbone.conv1.weight': torch.arange(6.).reshape(2, 3)}
    kept = []
    for name, when, host in (('a', '20260101_120000', 'alice'), ('b', '20260301_000000', 'b')):
        (tmp_path / name).mkdir()
        src = tmp_path / name / 'iter_4.pth'
        torch.save(mmengine_checkpoint(weights, when, host), src)
        keep_checkpoint(str(src), str(tmp_path / name / 'final.pth'))
        assert not src.exists()
        kept.append((tmp_path / name / 'final.pth').read_bytes())
    assert kept[0] == kept[1]  # nothing of the clock, the host or the paths
    checkpoint = torch.load(tmp_path / 'a' / 'final.pth', weights_only=True)
    assert checkpoint['meta'] == dict(dataset_meta=dict(classes=('a', 'b')), epoch=0, iter=4)
    assert torch.equal(checkpoint['state_dict']['backbone.conv1.weight'],
                       weights['backbone.conv1.weight'])
