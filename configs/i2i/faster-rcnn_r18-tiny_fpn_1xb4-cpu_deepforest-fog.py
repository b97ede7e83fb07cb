# Target oracle of the I2I study: the same detector trained on the foggy tiles (with their boxes)
# made by tools/make_fog.py, evaluated on the foggy test tiles.
_base_ = './faster-rcnn_r18-tiny_fpn_1xb4-cpu_deepforest-clear.py'
data_root = 'work/fog/deepforest/'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = dict(ann_file=data_root + 'annotations/test.json')
