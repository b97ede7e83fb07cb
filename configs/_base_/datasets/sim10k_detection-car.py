# Sim10k (Johnson-Roberson et al., 2017): 10k GTA-V frames, class 'car' only, COCO json converted
# from its VOC xml (the usual DA-detection conversion):
#   data/sim10k/JPEGImages/*.jpg
#   data/sim10k/annotations/sim10k_car.json   (categories: [{"id": 1, "name": "car"}])
# Sim10k → Cityscapes: the detector trains here; Cityscapes val is evaluated on 'car' only.
_base_ = './cityscapes_detection-8cls.py'
data_root = 'data/sim10k/'
metainfo = dict(classes=('car', ), palette=[(0, 0, 142)])
train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/sim10k_car.json',
        data_prefix=dict(img='JPEGImages/')))
# evaluated on Cityscapes val with the same classes
val_dataloader = dict(dataset=dict(metainfo=metainfo))
test_dataloader = val_dataloader
