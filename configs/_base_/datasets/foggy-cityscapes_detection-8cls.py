# Foggy Cityscapes (Sakaridis et al., 2018), 8 classes. Same images and boxes as Cityscapes, fogged
# at one β; the COCO jsons are the Cityscapes ones with file names pointing at the foggy images:
#   data/foggy_cityscapes/leftImg8bit_foggy/{train,val}/<city>/*_leftImg8bit_foggy_beta_0.02.png
#   data/foggy_cityscapes/annotations/instancesonly_filtered_gtFine_{train,val}_foggy_beta_0.02.json
# (β = 0.02 is the common DA choice; the paper does not state its β.)
_base_ = './cityscapes_detection-8cls.py'
data_root = 'data/foggy_cityscapes/'
train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file='annotations/instancesonly_filtered_gtFine_train_foggy_beta_0.02.json',
        data_prefix=dict(img='leftImg8bit_foggy/train/')))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file='annotations/instancesonly_filtered_gtFine_val_foggy_beta_0.02.json',
        data_prefix=dict(img='leftImg8bit_foggy/val/')))
test_dataloader = val_dataloader
val_evaluator = dict(
    ann_file=data_root + 'annotations/instancesonly_filtered_gtFine_val_foggy_beta_0.02.json')
test_evaluator = val_evaluator
