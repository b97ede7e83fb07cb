# CUT baseline on the generated scenario, with the same code: no attention generator, no
# local-global term (L = L_adv + L_NCE with the identity term, CUT mode).
_base_ = './attention-i2i_tiny_1xb4-cpu_shapes-fog.py'
model = dict(adapter=dict(generator=dict(use_attention=False), local_global=None))
custom_hooks = []  # no momentum copies without the local-global term
