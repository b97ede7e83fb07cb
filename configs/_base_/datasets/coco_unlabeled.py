# ProSeCo pretraining on the COCO train2017 images without their labels, at the paper's
# scales (Deformable DETR's multi-scale resize and crop, all before the view split so the
# two views share geometry). Cache the Selective Search boxes first:
#   python tools/selective_search.py --ann data/coco/annotations/instances_train2017.json \
#       --img-dir data/coco/train2017 --out work/proposals/coco
_base_ = './shapes_unlabeled.py'
data_root = 'data/coco/'
scales = [(480, 1333), (512, 1333), (544, 1333), (576, 1333), (608, 1333), (640, 1333),
          (672, 1333), (704, 1333), (736, 1333), (768, 1333), (800, 1333)]
proseco_pretrain_pipeline = [
    dict(type='LoadImageChecked'),
    dict(type='SampleProposals', num_proposals={{_base_.num_proposals}}),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomChoice',
         transforms=[[dict(type='RandomChoiceResize', scales=scales, keep_ratio=True)],
                     [dict(type='RandomChoiceResize', scales=[(400, 4200), (500, 4200),
                                                              (600, 4200)], keep_ratio=True),
                      dict(type='RandomCrop', crop_type='absolute_range', crop_size=(384, 600),
                           allow_negative_crop=True),
                      dict(type='RandomChoiceResize', scales=scales, keep_ratio=True)]]),
    dict(type='MultiBranch', branch_field=['teacher', 'student'],
         teacher=[dict(type='PackDetInputs')],
         student={{_base_.student_branch}}),
]
train_dataloader = dict(
    batch_size=4,
    dataset=dict(ann_file=data_root + 'annotations/instances_train2017.json',
                 data_prefix=dict(img=data_root + 'train2017/'),
                 proposal_file='work/proposals/coco/proposals.npz',
                 pipeline=proseco_pretrain_pipeline))
