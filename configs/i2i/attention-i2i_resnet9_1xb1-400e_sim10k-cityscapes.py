# Paper size, Sim10k → Cityscapes: the frozen detector is trained on Sim10k; Cityscapes images are
# translated into the Sim10k style (generator: Cityscapes, discriminator: Sim10k); AP50 of 'car'.
_base_ = './attention-i2i_resnet9_1xb1-400e_foggy-cityscapes.py'
metainfo = dict(classes=('car', ), palette=[(0, 0, 142)])
model = dict(
    detector='{{ fileDirname }}/faster-rcnn_r50_fpn_1xb4-100k_sim10k.py',
    detector_checkpoint='work/i2i/sim10k/source/iter_100000.pth')
train_dataloader = dict(dataset=dict(source=_base_.sim10k_train, target=_base_.cityscapes_train))
val_dataloader = dict(
    dataset=dict(
        data_root='data/cityscapes/',
        metainfo=metainfo,
        ann_file='annotations/instancesonly_filtered_gtFine_val.json',
        data_prefix=dict(img='leftImg8bit/val/')))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file='data/cityscapes/annotations/instancesonly_filtered_gtFine_val.json')
test_evaluator = val_evaluator
