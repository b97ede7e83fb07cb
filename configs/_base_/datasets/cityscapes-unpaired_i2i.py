# Unpaired I2I training pieces for the paper's benchmarks: the crop pipeline and each domain's
# train images; the experiment config picks `source` (the detector's domain, seen by the
# discriminator) and `target` (translated by the generator).
# Images are resized to short side 600 (paper) and randomly cropped to 256 px (a documented
# deviation from full 600-px training, which is very slow for 400 epochs).
crop_size = (256, 256)
unpaired_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1200, 600), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs', meta_keys=('img_path', 'ori_shape', 'img_shape')),
]
cityscapes_train = dict(
    ann_file='data/cityscapes/annotations/instancesonly_filtered_gtFine_train.json',
    img_dir='data/cityscapes/leftImg8bit/train/')
foggy_cityscapes_train = dict(
    ann_file='data/foggy_cityscapes/annotations/'
    'instancesonly_filtered_gtFine_train_foggy_beta_0.02.json',
    img_dir='data/foggy_cityscapes/leftImg8bit_foggy/train/')
sim10k_train = dict(
    ann_file='data/sim10k/annotations/sim10k_car.json', img_dir='data/sim10k/JPEGImages/')
kitti_train = dict(
    ann_file='data/kitti/annotations/kitti_car-person_train.json',
    img_dir='data/kitti/training/image_2/')
