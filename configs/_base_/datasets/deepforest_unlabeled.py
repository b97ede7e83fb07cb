# ProSeCo pretraining data: unlabeled DeepForest aerial tiles (400 px, resized to 256 px for the
# CPU default) + cached Selective Search boxes.
# The proposals come from the `proposals` stage:
#   python tools/selective_search.py --ann data/deepforest/annotations/unlabeled.json \
#       --img-dir data/deepforest/images --out work/proposals/deepforest
# Views: every geometric transform runs once before MultiBranch, so both views share the boxes,
# `img_shape` and flip (x'' = t2(t1(x))); only the student branch gets SCE's photometric t2.
_base_ = './sce_photometric.py'
dataset_type = 'UnlabeledDetDataset'
data_root = 'data/deepforest/'
image_size = 256  # CPU default; the tiles are 400 px
num_proposals = 30  # K random Selective Search boxes per image and iteration (DETReg max_prop)

proseco_pretrain_pipeline = [
    dict(type='LoadImageChecked'),  # LoadImageFromFile with clear errors, always BGR
    dict(type='SampleProposals', num_proposals=num_proposals),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Resize', scale=(image_size, image_size), keep_ratio=True),
    dict(type='MultiBranch', branch_field=['teacher', 'student'],
         teacher=[dict(type='PackDetInputs')],
         student=[*_base_.student_photometric, dict(type='PackDetInputs')]),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        ann_file=data_root + 'annotations/unlabeled.json',
        data_prefix=dict(img=data_root + 'images/'),
        proposal_file='work/proposals/deepforest/proposals.npz',
        pipeline=proseco_pretrain_pipeline))
