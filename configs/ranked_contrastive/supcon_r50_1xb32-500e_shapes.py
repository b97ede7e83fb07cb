# "SupCL (r=1)": the ranked loss with the same class as the only rank.
_base_ = './ranked-contrastive_r50_1xb32-500e_shapes.py'
model = dict(
    head=dict(loss=dict(_delete_=True, type='SupConLoss', classes=_base_.classes,
                        temperature=0.1, form='in')))
