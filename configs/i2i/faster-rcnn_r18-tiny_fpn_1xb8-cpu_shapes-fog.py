# Target oracle of the generated I2I scenario: the same detector trained on the foggy shapes
# images (with their boxes) of the `fog@shapes-fog` stage, evaluated on the foggy test images.
_base_ = './faster-rcnn_r18-tiny_fpn_1xb8-cpu_shapes-clear.py'
data_root = 'work/fog/shapes/'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = dict(ann_file=data_root + 'annotations/test.json')
