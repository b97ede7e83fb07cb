# ProSeCo on your own folder of unlabeled images. First cache their Selective Search boxes:
#   python tools/selective_search.py --img-dir data/my_images --out work/proposals/my_images
# then: mim train mmproseco configs/proseco/<this file>
_base_ = './proseco_deformable-detr_r18-tiny_1xb8-cpu_shapes.py'
train_dataloader = dict(
    dataset=dict(
        ann_file='',  # no annotation file: every image of the folder
        data_prefix=dict(img='data/my_images/'),
        proposal_file='work/proposals/my_images/proposals.npz'))
