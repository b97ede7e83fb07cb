# Attention-guided I2I with the local-global loss at CPU size on the generated scenario: foggy
# shapes (fog over a depth ramp, so no single affine map undoes it) → clear, in front of the
# frozen clear-trained detector. The DeepForest fog config with the shapes data: its dataset
# base cannot be swapped by a child config (two bases may not both define the dataloaders),
# so it shares the DeepForest config's bases (model, schedule) and repeats only the wrapping.
_base_ = [
    '../_base_/models/attention-i2i_tiny.py', '../_base_/datasets/shapes-fog_unpaired.py',
    '../_base_/schedules/i2i_cpu_iters.py'
]
detector_config = '{{ fileDirname }}/faster-rcnn_r18-tiny_fpn_1xb8-cpu_shapes-clear.py'
detector_checkpoint = 'work/i2i/shapes-fog/source/final.pth'  # the i2i_source stage's output
model = dict(
    _delete_=True,
    type='AdaptedDetector',
    detector=detector_config,
    detector_checkpoint=detector_checkpoint,
    adapter=_base_.model,
    translate=True,
    # raw pixels, no padding: each image is translated inside its img_shape, then the detector's
    # own preprocessor normalises and pads the translation
    data_preprocessor=dict(type='DetDataPreprocessor', bgr_to_rgb=False))

train_dataloader = dict(
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(metainfo=_base_.metainfo))
# DetInferencer finds the test pipeline's loader by its name, LoadImageFromFile
test_dataloader = dict(
    dataset=dict(pipeline=[dict(type='LoadImageFromFile'), *_base_.test_pipeline[1:]]))
