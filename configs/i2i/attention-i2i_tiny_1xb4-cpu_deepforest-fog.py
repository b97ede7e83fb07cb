# Attention-guided I2I with the local-global loss at CPU size: foggy DeepForest → clear, in front
# of the frozen clear-trained detector. Training runs the adapter's own train_step; validation and
# test score the frozen detector on translated foggy tiles (CocoMetric), so this one config trains,
# monitors and evaluates. `model.translate=False` gives the "Source" row with the same code.
_base_ = [
    '../_base_/models/attention-i2i_tiny.py', '../_base_/datasets/deepforest-fog_unpaired.py',
    '../_base_/schedules/i2i_cpu_iters.py'
]
# relative to this file (mmengine's predefined variable), so the config works from any directory
detector_config = '{{ fileDirname }}/faster-rcnn_r18-tiny_fpn_1xb4-cpu_deepforest-clear.py'
detector_checkpoint = 'work/i2i/deepforest-fog/source/final.pth'  # i2i_source's output
adapter = _base_.model
model = dict(
    _delete_=True,
    type='AdaptedDetector',
    detector=detector_config,
    detector_checkpoint=detector_checkpoint,
    adapter=adapter,
    translate=True,
    # raw pixels, no padding: each image is translated inside its img_shape, then the detector's
    # own preprocessor normalises and pads the translation (pad_size_divisor=32)
    data_preprocessor=dict(type='DetDataPreprocessor', bgr_to_rgb=False))

# endless: mmengine's iteration loop sleeps 2 s whenever a finite loader runs out. The metainfo
# (the detector's classes) goes into the checkpoint's dataset_meta, which DetInferencer reads.
train_dataloader = dict(
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(metainfo=_base_.metainfo))
# DetInferencer finds the test pipeline's loader by its name, LoadImageFromFile, to put its own
# (paths or arrays) in its place.
test_dataloader = dict(
    dataset=dict(pipeline=[dict(type='LoadImageFromFile'), *_base_.test_pipeline[1:]]))
