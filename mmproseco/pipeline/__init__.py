"""The stages of the DVC graph (``dvc.yaml``) as functions with arguments.

``dvc repro`` runs each stage as ``python -m mmproseco.pipeline STAGE ...`` from the
repository root, so the checkout's package is the one imported (``__main__`` refuses any
other copy). Each stage writes the outputs it is given as arguments; the data paths stay in
the configs. The models, datasets and engine import nothing from here.
"""
