"""Speed and memory of ProSeCo's proposal matching and LocSCE loss on CPU.

Measures, at N = 300 queries, T = 300 teacher proposals, D = 256:

* proposal matching for B images: the batched ``ProposalMatchingAssigner.match``
  (one batched cost on the device, one copy to the CPU, scipy per image),
  split into cost building and Hungarian solving, against the per-image
  mmdet path (``assign`` image by image, as ``DETRHead`` does);
* LocSCE forward + backward with M = K = B * N (median of repeats);
* peak memory of LocSCE forward + backward at the largest B: increase of the
  peak RSS of a fresh subprocess over one pass (high-water mark reset after
  the inputs are allocated, see :func:`memory_probe`), next to the analytic
  size of one (M, K) float32 matrix.

Usage::

    PYTHONPATH=. python benchmarks/bench_matching_locsce.py \
        [--batch-sizes 4 8] [--repeats 7] [--threads 1]

Prints one JSON document, then a short table.
"""
import argparse
import json
import os
import platform
import resource
import subprocess
import sys

import torch
import torch.nn.functional as F
from mmdet.registry import TASK_UTILS
from mmengine.structures import InstanceData

import mmproseco  # noqa: F401  (registers the modules)
from benchmarks.timing import median_seconds  # noqa: E402
from mmproseco.models.losses.locsce import LocSCELoss

NUM_QUERIES = 300
EMBED_DIM = 256
IMG_SHAPE = (800, 1066)  # (h, w), a typical resized COCO image


def make_batch(num_images: int, seed: int = 0):
    """Student/teacher embeddings (B, N, D) and absolute xyxy boxes."""
    gen = torch.Generator().manual_seed(seed)
    img_h, img_w = IMG_SHAPE
    scale = torch.tensor([img_w, img_h, img_w, img_h], dtype=torch.float)

    def boxes():
        corner = torch.rand(num_images, NUM_QUERIES, 2, generator=gen) * 0.8
        size = 0.02 + torch.rand(
            num_images, NUM_QUERIES, 2, generator=gen) * 0.18
        return torch.cat([corner, corner + size], dim=-1) * scale

    def embeds():
        return F.normalize(
            torch.randn(num_images, NUM_QUERIES, EMBED_DIM, generator=gen),
            dim=-1)

    return embeds(), boxes(), embeds(), boxes()


def locsce_inputs(num_images: int):
    student, _, teacher, teacher_boxes = make_batch(num_images, seed=1)
    num = num_images * NUM_QUERIES
    matched = torch.cat([
        torch.randperm(NUM_QUERIES) + i * NUM_QUERIES
        for i in range(num_images)
    ])
    return (student.reshape(num, EMBED_DIM).requires_grad_(True),
            teacher.reshape(num, EMBED_DIM), teacher_boxes.reshape(num, 4),
            torch.arange(num_images).repeat_interleave(NUM_QUERIES), matched)


def locsce_step(inputs):
    loss = LocSCELoss()(*inputs)
    loss.backward()
    inputs[0].grad = None
    return loss


def bench_batch(num_images: int, repeats: int) -> dict:
    assigner = TASK_UTILS.build(dict(type='ProposalMatchingAssigner'))
    batch = make_batch(num_images)
    img_shapes = [IMG_SHAPE] * num_images
    student_embeds, student_boxes, teacher_embeds, teacher_boxes = batch

    def per_image_assign():
        for i in range(num_images):
            assigner.assign(
                InstanceData(
                    bboxes=student_boxes[i], embeds=student_embeds[i]),
                InstanceData(
                    bboxes=teacher_boxes[i], embeds=teacher_embeds[i]),
                img_meta=dict(img_shape=IMG_SHAPE))

    batched = median_seconds(lambda: assigner.match(*batch, img_shapes),
                             repeats)
    cost_only = median_seconds(
        lambda: assigner.batched_cost(*batch, img_shapes), repeats)
    looped = median_seconds(per_image_assign, repeats)
    inputs = locsce_inputs(num_images)
    loss_time = median_seconds(lambda: locsce_step(inputs), repeats)
    return dict(
        batch_size=num_images,
        match_batched_s=batched,
        match_cost_build_s=cost_only,
        match_hungarian_s=batched - cost_only,
        match_per_image_assign_s=looped,
        match_speedup_batched_vs_per_image=looped / batched,
        locsce_fwd_bwd_s=loss_time,
        locsce_rows=num_images * NUM_QUERIES)


def peak_rss_bytes() -> int:
    """Peak resident set size of this process (Linux ``VmHWM``)."""
    with open('/proc/self/status') as status:
        for line in status:
            if line.startswith('VmHWM:'):
                return int(line.split()[1]) * 1024
    raise RuntimeError('VmHWM missing from /proc/self/status (Linux only).')


def memory_probe(num_images: int) -> dict:
    """Peak RSS increase of one LocSCE forward + backward.

    The import of torch/mmdet peaks higher than the pass itself, so the
    high-water mark is reset (``echo 5 > /proc/self/clear_refs``) once the
    inputs exist; the new peak minus the current RSS is the pass's working
    set. ``ru_maxrss`` cannot be reset and is only reported for reference.
    """
    inputs = locsce_inputs(num_images)
    locsce_step(inputs)  # warm-up: thread pools, allocator arenas
    with open('/proc/self/clear_refs', 'w') as clear_refs:
        clear_refs.write('5')
    baseline = peak_rss_bytes()
    locsce_step(inputs)
    return dict(
        rss_increase_bytes=peak_rss_bytes() - baseline,
        ru_maxrss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss *
        1024)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--batch-sizes', type=int, nargs='+', default=[4, 8])
    parser.add_argument('--repeats', type=int, default=7)
    parser.add_argument(
        '--threads',
        type=int,
        default=1,
        help='torch intra-op threads (1 by default: shared machine)')
    parser.add_argument('--memory-probe', type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    if args.memory_probe is not None:
        print(json.dumps(memory_probe(args.memory_probe)))
        return

    results = [bench_batch(b, args.repeats) for b in args.batch_sizes]
    largest = max(args.batch_sizes)
    # A fixed glibc mmap threshold makes every large tensor its own mapping,
    # returned to the OS when freed, so RSS follows the live tensors.
    probe = subprocess.run(
        [
            sys.executable, __file__, '--memory-probe',
            str(largest), '--threads',
            str(args.threads)
        ],
        check=True,
        capture_output=True,
        text=True,
        env=dict(os.environ, MALLOC_MMAP_THRESHOLD_='65536'))
    rows = largest * NUM_QUERIES
    memory = dict(
        batch_size=largest,
        method='peak RSS (VmHWM, reset via /proc/self/clear_refs) increase '
        'of a fresh subprocess (MALLOC_MMAP_THRESHOLD_=65536) across one '
        'LocSCE forward+backward, after allocating the inputs and one '
        'warm-up pass',
        matrix_MxK_float32_bytes=rows * rows * 4,
        **json.loads(probe.stdout.strip().splitlines()[-1]))
    memory['rss_increase_in_MxK_matrices'] = (
        memory['rss_increase_bytes'] / memory['matrix_MxK_float32_bytes'])
    report = dict(
        machine=dict(
            processor=platform.processor() or platform.machine(),
            logical_cpus=os.cpu_count(),
            torch_threads=args.threads,
            torch=torch.__version__,
            python=platform.python_version()),
        num_queries=NUM_QUERIES,
        num_teacher_proposals=NUM_QUERIES,
        embed_dim=EMBED_DIM,
        repeats=args.repeats,
        timings=results,
        locsce_peak_memory=memory)
    print(json.dumps(report, indent=2))

    print(f'\n{"B":>3} {"match batched":>14} {"per-image":>10} {"speedup":>8}'
          f' {"cost build":>11} {"LocSCE f+b":>11}')
    for r in results:
        print(f'{r["batch_size"]:>3} {r["match_batched_s"] * 1e3:>12.1f}ms'
              f' {r["match_per_image_assign_s"] * 1e3:>8.1f}ms'
              f' {r["match_speedup_batched_vs_per_image"]:>7.2f}x'
              f' {r["match_cost_build_s"] * 1e3:>9.1f}ms'
              f' {r["locsce_fwd_bwd_s"] * 1e3:>9.1f}ms')
    print(f'LocSCE B={largest}: +{memory["rss_increase_bytes"] / 2**20:.0f} '
          f'MiB max RSS = {memory["rss_increase_in_MxK_matrices"]:.1f} x one '
          f'{rows}x{rows} float32 matrix '
          f'({memory["matrix_MxK_float32_bytes"] / 2**20:.0f} MiB)')


if __name__ == '__main__':
    main()
