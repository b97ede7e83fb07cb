# ProSeCo pretraining at CPU size on the unlabeled shapes pool (the train images without
# their boxes). Needs the cached Selective Search boxes of the `proposals` DVC stage.
_base_ = [
    '../_base_/models/proseco_deformable-detr_r18-tiny.py',
    '../_base_/datasets/shapes_unlabeled.py', '../_base_/schedules/cpu_pretrain_iters.py'
]
# For the pipeline (mmproseco/pipeline/stages.py): the student is the detector that
# fine-tuning loads, its backbone starts both branches, and freezing it is one switch.
pretrain_export = dict(
    source='student', backbone='model.detector.backbone',
    freeze={'model.freeze_backbone': True})
