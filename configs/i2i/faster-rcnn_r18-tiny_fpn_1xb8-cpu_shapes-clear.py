# Source detector of the generated I2I scenario: the CPU-size Faster R-CNN trained on the clear
# shapes images (the `i2i_source@shapes-fog` DVC stage). Frozen, it is evaluated on the foggy
# test images, raw ("Source") or translated, and on their clear versions ("Clear ceiling").
_base_ = '../faster_rcnn/faster-rcnn_r18-tiny_fpn_1xb8-cpu_shapes.py'
# Endless sampler (mmengine's iteration loop sleeps 2 s whenever a finite loader runs out),
# loading in the main process: 8 images of 128 px take milliseconds, and on 2 cores worker
# processes only compete with the model. Batched evaluation: the images are all 128 px, so a
# batch pads nothing.
train_dataloader = dict(num_workers=0, sampler=dict(type='InfiniteSampler', shuffle=True))
val_dataloader = dict(batch_size=8, num_workers=0)
test_dataloader = dict(batch_size=8, num_workers=0)
val_evaluator = dict(classwise=True)
test_evaluator = dict(classwise=True)
randomness = dict(seed=0)  # seeded, as every CPU run of the pipeline
