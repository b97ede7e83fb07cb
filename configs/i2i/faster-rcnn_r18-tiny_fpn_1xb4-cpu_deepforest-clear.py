# Source detector of the I2I study: the CPU-size Faster R-CNN baseline trained on the clear
# DeepForest tiles (the `baseline@faster-rcnn` DVC stage trains it once for both uses). It is
# frozen and evaluated on foggy tiles, raw ("Source") or translated.
_base_ = '../faster_rcnn/faster-rcnn_r18-tiny_fpn_1xb4-cpu_deepforest.py'
val_evaluator = dict(classwise=True)
test_evaluator = dict(classwise=True)
