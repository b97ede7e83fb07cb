# ProSeCo pretraining data: unlabeled shapes images (128 px) + cached Selective Search boxes.
# The proposals come from the `proposals` stage:
#   python tools/selective_search.py --ann data/shapes/annotations/unlabeled.json \
#       --img-dir data/shapes/images --out work/proposals/shapes
# Views: every geometric transform runs once before MultiBranch, so both views share the boxes,
# `img_shape` and flip (x'' = t2(t1(x))); only the student branch gets SCE's photometric t2.
_base_ = './sce_photometric.py'
dataset_type = 'UnlabeledDetDataset'
data_root = 'data/shapes/'
image_size = 128
num_proposals = 30  # K random Selective Search boxes per image and iteration (DETReg max_prop)

student_branch = [*_base_.student_photometric, dict(type='PackDetInputs')]
proseco_pretrain_pipeline = [
    dict(type='LoadImageChecked'),  # LoadImageFromFile with clear errors, always BGR
    dict(type='SampleProposals', num_proposals=num_proposals),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Resize', scale=(image_size, image_size), keep_ratio=True),
    dict(type='MultiBranch', branch_field=['teacher', 'student'],
         teacher=[dict(type='PackDetInputs')],
         student=student_branch),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        ann_file=data_root + 'annotations/unlabeled.json',
        data_prefix=dict(img=data_root + 'images/'),
        proposal_file='work/proposals/shapes/proposals.npz',
        pipeline=proseco_pretrain_pipeline))
