# "SupCL (r=1)": the ranked loss with the same class as the only rank.
_base_ = './ranked-contrastive_r18_1xb16-cpu_shapes.py'
model = dict(
    head=dict(loss=dict(_delete_=True, type='SupConLoss', classes=_base_.classes,
                        temperature=0.1, form='in')))
