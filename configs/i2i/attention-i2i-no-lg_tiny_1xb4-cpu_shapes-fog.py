# Ablation on the generated scenario: attention maps but no local-global term
# (L = L_adv + L_NCE).
_base_ = './attention-i2i_tiny_1xb4-cpu_shapes-fog.py'
model = dict(adapter=dict(local_global=None))
custom_hooks = []  # no momentum copies without the local-global term
