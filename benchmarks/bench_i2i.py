"""I2I adapter cost at CPU size, measured in one run.

* generator and discriminator step time and peak memory (train_step split into its D and G
  updates, CPU-size config, batch 4 of 96-px crops);
* translation throughput at 400×400;
* test-time overhead of AdaptedDetector over the bare frozen detector at 400×400.

    PYTHONPATH=. python benchmarks/bench_i2i.py [--iters 5] [--threads 2]

Prints a JSON object and a short table. Peak memory is the process's max RSS growth measured with
``resource.getrusage`` around each phase (CPU only).
"""
import argparse
import json
import resource
import time
from pathlib import Path

import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.structures import InstanceData

import mmproseco  # noqa: F401
from mmproseco.models.i2i import I2IOptimWrapperConstructor

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / 'configs/i2i/attention-i2i_tiny_1xb4-cpu_deepforest-fog.py'


def random_images(batch, crop):
    return [torch.randint(0, 256, (3, *crop), dtype=torch.uint8) for _ in range(batch)]


def max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn, iters: int) -> float:
    fn()  # warm-up
    start = time.perf_counter()
    for _ in range(iters):
        fn()
    return (time.perf_counter() - start) / iters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--iters', type=int, default=5)
    parser.add_argument('--threads', type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = Config.fromfile(str(CONFIG))
    cfg.model.detector_checkpoint = None
    model = MODELS.build(cfg.model)
    adapter = model.adapter
    optim_cfg = cfg.optim_wrapper.to_dict()
    optim_cfg.pop('constructor')
    wrappers = I2IOptimWrapperConstructor(optim_cfg)(model)
    batch, crop = cfg.train_dataloader.batch_size, cfg.crop_size
    data = dict(inputs=dict(source=random_images(batch, crop), target=random_images(batch, crop)),
                data_samples=None)
    results = {}

    rss = max_rss_mib()
    full_step = timed(lambda: adapter.train_step(data, wrappers), args.iters)
    results['train_step_s'] = full_step
    results['train_step_peak_rss_growth_mib'] = max_rss_mib() - rss

    # the discriminator update alone (on a fixed fake batch)
    prepared = adapter.data_preprocessor(data, True)['inputs']
    with torch.no_grad():
        fake = adapter.translate(prepared['target'])

    def d_step():
        loss = 0.5 * (adapter.gan_loss(adapter.discriminator(prepared['source']), True) +
                      adapter.gan_loss(adapter.discriminator(fake), False))
        wrappers['discriminator'].update_params(loss)

    results['d_step_s'] = timed(d_step, args.iters)
    results['g_step_s'] = full_step - results['d_step_s']

    adapter.eval()
    model.eval()
    x = torch.rand(1, 3, 400, 400) * 2 - 1
    with torch.no_grad():
        rss = max_rss_mib()
        translate_s = timed(lambda: adapter.translate(x), args.iters)
        results['translate_400px_images_per_s'] = 1 / translate_s
        results['translate_peak_rss_growth_mib'] = max_rss_mib() - rss

        sample = DetDataSample(metainfo=dict(img_shape=(400, 400), ori_shape=(400, 400),
                                             scale_factor=(1.0, 1.0)))
        sample.gt_instances = InstanceData(bboxes=torch.zeros(0, 4), labels=torch.zeros(0).long())
        det_data = dict(inputs=[torch.randint(0, 256, (3, 400, 400), dtype=torch.uint8)],
                        data_samples=[sample])
        model.translate = False
        bare_s = timed(lambda: model.test_step(det_data), args.iters)
        model.translate = True
        adapted_s = timed(lambda: model.test_step(det_data), args.iters)
    results['bare_detector_test_s'] = bare_s
    results['adapted_detector_test_s'] = adapted_s
    results['adapted_over_bare'] = adapted_s / bare_s
    results['threads'] = args.threads
    print(json.dumps(results, indent=2))
    print(f"| G step | D step | translate 400px | bare det | adapted det | ratio |\n"
          f"|---|---|---|---|---|---|\n"
          f"| {results['g_step_s']:.3f} s | {results['d_step_s']:.3f} s | "
          f"{results['translate_400px_images_per_s']:.2f} img/s | {bare_s:.3f} s | "
          f"{adapted_s:.3f} s | {results['adapted_over_bare']:.2f}× |")


if __name__ == '__main__':
    main()
