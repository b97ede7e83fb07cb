# DETReg-style pretraining (Bar et al., 2022) of the paper-size Deformable DETR, the
# baseline of ProSeCo's tables: Selective Search boxes plus regression of each matched
# query's embedding onto the pooled frozen-backbone feature of its box.
_base_ = './deformable-detr_r50.py'
model = dict(
    _delete_=True,
    type='DETReg',
    num_queries={{_base_.model.num_queries}},
    num_feature_levels={{_base_.model.num_feature_levels}},
    data_preprocessor={{_base_.model.data_preprocessor}},
    backbone=dict(
        type='ResNet', depth=50, num_stages=4, out_indices=(1, 2, 3), frozen_stages=4,
        norm_cfg=dict(type='BN', requires_grad=False), norm_eval=True, style='pytorch',
        init_cfg=None),  # DETReg freezes the whole backbone (lr_backbone 0)
    neck={{_base_.model.neck}},
    encoder={{_base_.model.encoder}},
    decoder={{_base_.model.decoder}},
    positional_encoding={{_base_.model.positional_encoding}},
    target_level=0,  # C3 (layer2, 512-d), as DETReg's default 'intermediate' target
    target_roi_size=4,
    bbox_head=dict(
        type='DETRegHead',
        num_classes=1,
        sync_cls_avg_factor=True,
        target_channels=512,
        loss_cls=dict(
            type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=2.0),
        loss_bbox=dict(type='L1Loss', loss_weight=5.0),
        loss_iou=dict(type='GIoULoss', loss_weight=2.0),
        loss_embed=dict(type='L1Loss', loss_weight=1.0)),
    train_cfg={{_base_.model.train_cfg}},
    test_cfg={{_base_.model.test_cfg}})
