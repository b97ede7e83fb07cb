# The CPU-size changes to configs/_base_/models/deformable-detr_r50.py, as one variable so
# the supervised, ProSeCo and DETReg models shrink the same way:
# a half-width ResNet-18 (32 base channels), 3 feature levels, 2 encoder + 2 decoder
# layers, hidden 128, FFN 512, 50 queries.
embed_dims = 128
# Dropout of every transformer layer (attention outputs and FFNs). The paper's 0.1 costs
# about a sixth of a CPU step (`bernoulli_`) and, over 600 iterations on the 10 % split,
# made no detectable difference to val mAP (benchmarks/check_learning.py, 3 seeds,
# docs/benchmarks.md), so the CPU size trains without it;
# `--cfg-options` can set each of the five keys below back to 0.1.
dropout = 0.0
deformable_detr_tiny = dict(
    num_queries=50,
    num_feature_levels=3,
    backbone=dict(
        depth=18, base_channels=32, out_indices=(1, 2, 3), frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True), norm_eval=False),
    neck=dict(in_channels=[64, 128, 256], out_channels=embed_dims,
              norm_cfg=dict(type='GN', num_groups=16), num_outs=3),
    encoder=dict(
        num_layers=2,
        layer_cfg=dict(
            self_attn_cfg=dict(embed_dims=embed_dims, num_levels=3, dropout=dropout),
            ffn_cfg=dict(embed_dims=embed_dims, feedforward_channels=512, ffn_drop=dropout))),
    decoder=dict(
        num_layers=2,
        layer_cfg=dict(
            self_attn_cfg=dict(embed_dims=embed_dims, dropout=dropout),
            cross_attn_cfg=dict(embed_dims=embed_dims, num_levels=3, dropout=dropout),
            ffn_cfg=dict(embed_dims=embed_dims, feedforward_channels=512, ffn_drop=dropout))),
    positional_encoding=dict(num_feats=embed_dims // 2),
    bbox_head=dict(embed_dims=embed_dims))
