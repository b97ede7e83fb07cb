"""The report's table statistics and its sentences about ProSeCo against the others."""
import statistics

from mmproseco.pipeline.report import summarize, verdicts


def runs(method, fraction, maps):
    return [dict(method=method, fraction=fraction, seed=s, **{'coco/bbox_mAP': m / 100})
            for s, m in enumerate(maps)]


def test_summary_is_mean_and_sample_std_over_seeds():
    summary = summarize(runs('proseco', 5, [3.0, 4.0, 8.0]), 'coco/bbox_mAP')
    mean, std, n = summary['proseco'][5]
    assert n == 3
    assert abs(mean - 5.0) < 1e-9
    assert abs(std - statistics.stdev([3.0, 4.0, 8.0])) < 1e-9


def test_verdict_measures_the_gap_in_seed_spreads():
    summary = summarize(runs('proseco', 10, [5.0, 7.0]) + runs('scratch', 10, [1.0, 1.2]),
                        'coco/bbox_mAP')
    # gap 4.9, larger std sqrt(2) = 1.41: 3.5x, a clear gap
    assert verdicts(summary, [10])[0] == (
        '- At 10 % labels, ProSeCo beats Random init (supervised only) by 4.9 mAP '
        '(3.5x the larger seed std, a clear gap).')


def test_two_equal_seeds_are_not_called_a_single_seed():
    summary = summarize(runs('proseco', 1, [0.0, 0.0]) + runs('sce', 1, [0.0, 0.0]),
                        'coco/bbox_mAP')
    sentences = verdicts(summary, [1])
    assert 'ties with SCE (LocSCE with delta = 1) (identical across seeds)' in sentences[0]
    assert len(sentences) == 1  # no "add seeds" advice with two seeds per cell


def test_one_seed_says_so_and_asks_for_more():
    summary = summarize(runs('proseco', 1, [2.0]) + runs('detreg', 1, [1.0]), 'coco/bbox_mAP')
    sentences = verdicts(summary, [1])
    assert 'beats DETReg-style by 1.0 mAP (a single seed, so no spread' in sentences[0]
    assert 'add seeds' in sentences[1]


def test_backbone_sentence_follows_params(tmp_path):
    from mmproseco.pipeline.report import backbone_sentence, read_params
    path = tmp_path / 'params.yaml'
    path.write_text('backbone: {use: true, config: c.py, frozen: true}\n')
    params = read_params(path)
    assert 'same backbone' in backbone_sentence(params)[0]
    assert 'frozen during pretraining' in backbone_sentence(params)[0]
    path.write_text('backbone: {use: false, config: c.py, frozen: true}\n')
    params = read_params(path)
    assert backbone_sentence(params)[0].startswith('Every method starts from a random backbone')


def test_pretraining_rows_take_the_seconds_from_the_timings(tmp_path):
    """The metrics of a pretraining hold what its inputs decide; its seconds come from the
    separate timings file, and a run without one still gets a row."""
    import json

    from mmproseco.pipeline.report import pretrain_rows
    (tmp_path / 'metrics' / 'pretrain').mkdir(parents=True)
    (tmp_path / 'timings' / 'pretrain').mkdir(parents=True)
    (tmp_path / 'metrics' / 'pretrain' / 'proseco.json').write_text(json.dumps(
        dict(iters=200, last_losses=dict(loss=1.23456, loss_contrast=0.5))))
    (tmp_path / 'metrics' / 'pretrain' / 'scratch.json').write_text(json.dumps(
        dict(iters=0, last_losses={})))
    (tmp_path / 'timings' / 'pretrain' / 'proseco.json').write_text(json.dumps(
        dict(train_seconds=81.5)))
    assert pretrain_rows(tmp_path / 'metrics', tmp_path / 'timings') == [
        '| proseco | 200 | 81.5 | loss 1.235, loss_contrast 0.500 |',
        '| scratch | 0 | – |  |']
