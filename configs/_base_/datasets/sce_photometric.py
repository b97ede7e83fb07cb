# SCE's asymmetric photometric view t2 (Denize et al.; ProSeCo keeps it): only the student
# branch gets it, after the geometry both branches share. Inherit this file and use
# ``[*_base_.student_photometric, ...]`` in a MultiBranch student branch.
student_photometric = [
    dict(type='RandomApply', prob=0.8,
         transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.2,
                          hue=0.1)]),
    # ITU-R 601 luma weights in BGR order.
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True,
         channel_weights=(0.114, 0.587, 0.299)),
    dict(type='RandomApply', prob=0.5,
         transforms=[dict(type='RandomGaussianBlur', kernel_size=23, sigma_range=(0.1, 2.0))]),
]
