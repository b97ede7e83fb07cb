# Faster R-CNN R50-FPN at the standard size (mmdet's 1x schedule) on DeepForest.
_base_ = [
    '../_base_/models/faster-rcnn_r50_fpn.py', '../_base_/datasets/deepforest_detection.py',
    'mmdet::_base_/schedules/schedule_1x.py', '../_base_/default_runtime.py'
]
model = dict(roi_head=dict(bbox_head=dict(num_classes=1)))
