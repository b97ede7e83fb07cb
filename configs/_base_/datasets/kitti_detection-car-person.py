# KITTI object detection (Geiger et al., 2012), training split (7,481 images), classes 'car' and
# 'person' (KITTI Car and Pedestrian), COCO json converted from the label_2 txt files:
#   data/kitti/training/image_2/*.png
#   data/kitti/annotations/kitti_car-person_train.json   (categories named 'car', 'person')
# KITTI → Cityscapes: the detector trains here; Cityscapes val is evaluated on car and person.
_base_ = './cityscapes_detection-8cls.py'
data_root = 'data/kitti/'
metainfo = dict(classes=('car', 'person'), palette=[(0, 0, 142), (220, 20, 60)])
train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/kitti_car-person_train.json',
        data_prefix=dict(img='training/image_2/')))
# evaluated on Cityscapes val with the same classes
val_dataloader = dict(dataset=dict(metainfo=metainfo))
test_dataloader = val_dataloader
