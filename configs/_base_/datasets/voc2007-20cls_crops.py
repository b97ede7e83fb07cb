# VOC2007 object crops with all 20 classes in training, prototypes and queries: the setting of
# the original's accuracy table (voc2007_crops.py withholds chair and motorbike for OOD and
# trains on 18). No class is withheld, so there is no OOD metric.
_base_ = './voc2007_crops.py'
withheld_classes = ()
train_dataloader = dict(dataset=dict(withheld_classes=withheld_classes))
val_dataloader = dict(
    dataset=dict(datasets=[
        dict(_base_.val_dataloader.dataset.datasets[0], withheld_classes=withheld_classes),
        dict(_base_.val_dataloader.dataset.datasets[1], withheld_classes=withheld_classes),
    ]))
test_dataloader = val_dataloader
val_evaluator = [dict(type='PrototypeAccuracy')]
test_evaluator = [dict(type='PrototypeAccuracy', tsne=True)]
