# The classes of the generated shapes set (tools/dataprep/shapes.py writes them), in label
# order, with their drawing palette. Their similarity ranks and super-categories are read from
# the data itself, data/shapes/class_similarity.json, by the losses that need them.
data_root = 'data/shapes/'
metainfo = dict(
    classes=('red_disc', 'orange_disc', 'red_square', 'orange_square', 'blue_triangle',
             'cyan_triangle', 'striped_bar', 'dotted_bar'),
    palette=[(220, 30, 30), (245, 140, 20), (150, 20, 20), (190, 100, 10), (30, 60, 220),
             (20, 200, 220), (40, 160, 60), (120, 200, 120)])
class_similarity_file = data_root + 'class_similarity.json'
