"""Keep the images (and their boxes) of some sites of a COCO json with a per-image ``site`` field.

    python tools/split_coco_by_site.py --ann data/deepforest/annotations/test.json \
        --sites OSBS SOAP --out work/site/deepforest/annotations/test_osbs-soap.json

Used for the real site-shift scenario (YELL → OSBS/SOAP), whose evaluation needs an annotation
file of the target sites only.
"""
import argparse
import json
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--ann', required=True)
    parser.add_argument('--sites', nargs='+', required=True)
    parser.add_argument('--out', required=True)
    args = parser.parse_args()
    content = json.loads(Path(args.ann).read_text())
    images = [im for im in content['images'] if im.get('site') in args.sites]
    if not images:
        found = sorted({str(im.get('site')) for im in content['images']})
        raise ValueError(f'{args.ann} has no image with site in {args.sites}; '
                         f'sites present: {found}')
    kept = {im['id'] for im in images}
    content['images'] = images
    content['annotations'] = [a for a in content.get('annotations', []) if a['image_id'] in kept]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(content))
    print(json.dumps(dict(images=len(images), boxes=len(content['annotations']), out=args.out)))


if __name__ == '__main__':
    main()
