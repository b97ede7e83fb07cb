"""Rows of the I2I table: per-class AP50, mAP50 and the share of the source→oracle gap closed.

Each row is the prediction dump of one test run (``python -m mmproseco.tools.test CONFIG CKPT
--out preds.pkl``) scored with pycocotools against the same COCO annotation file::

    python tools/i2i_report.py --ann-file work/fog/deepforest/annotations/test.json \
        --row Source=work/i2i/deepforest-fog/eval/source.pkl \
        --row Translated=work/i2i/deepforest-fog/eval/attention-i2i.pkl \
        --row CUT=work/i2i/deepforest-fog/eval/cut.pkl \
        --row "No local-global=work/i2i/deepforest-fog/eval/no-lg.pkl" \
        --row "Target oracle=work/i2i/deepforest-fog/eval/oracle.pkl" \
        --out results/metrics/i2i/deepforest-fog.json

The gap closed is ``(AP50_row − AP50_Source) / (AP50_Target oracle − AP50_Source)`` for every
row when both reference rows are given. The ``i2i_eval`` stage calls :func:`i2i_table`.
"""
import argparse
import json
from pathlib import Path
from typing import Dict, List

import numpy as np
from mmengine.fileio import load
from pycocotools.coco import COCO

from .coco_scores import evaluate_bbox, load_coco


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--ann-file', required=True, help='COCO json of the evaluated images')
    parser.add_argument('--row', action='append', required=True, metavar='NAME=PREDICTIONS.pkl')
    parser.add_argument('--source-row', default='Source')
    parser.add_argument('--oracle-row', default='Target oracle')
    parser.add_argument('--out', required=True, help='JSON output')
    parser.add_argument('--table', help='the markdown table (default: beside --out, as .md)')
    return parser.parse_args(argv)


def ap50_per_class(coco: COCO, predictions: List[dict]) -> Dict[str, float]:
    """Per-class COCO-style AP at IoU 0.5 (×100) and their mean ``mAP``."""
    cat_ids = sorted(coco.getCatIds())
    evaluator = evaluate_bbox(coco, predictions)
    row = {}
    if evaluator is None:
        row = {coco.loadCats(c)[0]['name']: 0.0 for c in cat_ids}
    else:
        # precision: (iou, recall, class, area, max dets); IoU 0.5 is index 0, area 'all' index 0
        precision = evaluator.eval['precision'][0, :, :, 0, -1]
        for k, cat_id in enumerate(cat_ids):
            valid = precision[:, k][precision[:, k] > -1]
            row[coco.loadCats(cat_id)[0]['name']] = float(valid.mean() * 100) if valid.size else 0.0
    row['mAP'] = float(np.mean(list(row.values())))
    return row


def i2i_table(ann_file: str, rows: Dict[str, str], out: str, table: str = None,
              source_row: str = 'Source', oracle_row: str = 'Target oracle') -> str:
    """Score each row's prediction dump (``{name: predictions.pkl}``) against ``ann_file``;
    write the rows as JSON to ``out`` and as a markdown table to ``table`` (default: beside
    ``out``, with the suffix ``.md``). Returns the table."""
    coco = load_coco(ann_file)
    scores = {}
    for name, path in rows.items():
        if not Path(path).is_file():
            raise ValueError(f'the predictions {path!r} of row {name!r} do not exist (make '
                             'them with mmproseco.tools.test ... --out PREDICTIONS.pkl)')
        scores[name] = ap50_per_class(coco, load(path))
    if source_row in scores and oracle_row in scores:
        source, oracle = scores[source_row]['mAP'], scores[oracle_row]['mAP']
        for row in scores.values():
            row['gap_closed'] = ((row['mAP'] - source) / (oracle - source)
                                 if oracle != source else None)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(scores, indent=2))
    columns = list(next(iter(scores.values())))
    lines = ['| method | ' + ' | '.join(columns) + ' |', '|---' * (len(columns) + 1) + '|']
    for name, row in scores.items():
        cells = ['—' if row[c] is None else
                 f'{row[c]:.3f}' if c == 'gap_closed' else f'{row[c]:.1f}'
                 for c in columns]
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    text = '\n'.join(lines) + '\n'
    Path(table or out.with_suffix('.md')).write_text(text)
    return text


def main(argv=None) -> None:
    args = parse_args(argv)
    rows = {}
    for spec in args.row:
        name, sep, path = spec.partition('=')
        if not sep:
            raise ValueError(f'--row must be NAME=PREDICTIONS.pkl, got {spec!r}')
        rows[name] = path
    print(i2i_table(args.ann_file, rows, args.out, args.table, args.source_row,
                    args.oracle_row), end='')


if __name__ == '__main__':
    main()
