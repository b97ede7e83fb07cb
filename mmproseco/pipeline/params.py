"""The study's parameters: ``params.yaml``, which DVC tracks, and its profiles.

A profile (``profiles.<name>``) holds the sizes of every stage (``sizes``) and the lists
that decide which stages exist (``study``: seeds, fractions, ceiling seeds, δ values).
DVC cannot pick a list by a parameter's value (``${profiles[${profile}]}``), so the matrices
of dvc.yaml read the top-level ``study``, a copy of the active profile's lists that
``python -m mmproseco.pipeline profile NAME`` writes::

    python -m mmproseco.pipeline profile full   # profile: full, study: profiles.full.study
    dvc repro

:func:`load_params` refuses a params.yaml whose ``study`` is not its profile's, so that no
stage runs a graph that is not the profile's.
"""
import argparse
import json
import re

import yaml


def load_params(path='params.yaml'):
    """params.yaml with the active profile's sizes as ``params['size']``.

    Raises:
        ValueError: the profile is unknown, or ``study`` is not the profile's lists.
    """
    with open(path) as f:
        params = yaml.safe_load(f)
    name = params['profile']
    if name not in params['profiles']:
        raise ValueError(f'profile {name!r} is not one of {sorted(params["profiles"])} in '
                         f'{path}')
    if params.get('study') != params['profiles'][name]['study']:
        raise ValueError(f'the study lists of {path} are not those of profiles.{name}.study; '
                         f'run `python -m mmproseco.pipeline profile {name}` to copy them')
    params['size'] = params['profiles'][name]['sizes']
    return params


def study_lines(study):
    """The lines of the ``study:`` block's body, one key per line, lists in flow style."""
    return [f'  {key}: {json.dumps(value)}\n' for key, value in study.items()]


def switch_profile(name, path='params.yaml'):
    """Make ``name`` the active profile of ``path``: rewrite the value of its top-level
    ``profile:`` and the body of its ``study:`` block, keeping every other line (and the
    comments) as they are. Returns the new study lists."""
    with open(path) as f:
        lines = f.readlines()
    profiles = yaml.safe_load(''.join(lines))['profiles']
    if name not in profiles:
        raise ValueError(f'profile {name!r} is not one of {sorted(profiles)} in {path}')
    study = profiles[name]['study']
    out, in_study, seen = [], False, set()
    for line in lines:
        if in_study and line.startswith(' '):
            continue  # the old body of study: its indented lines
        in_study = False
        top = re.match(r'(profile|study):[^#]*(#.*)?$', line.rstrip('\n'))
        if top is None:
            out.append(line)
            continue
        key, comment = top.group(1), f'  {top.group(2)}' if top.group(2) else ''
        if key == 'profile':
            out.append(f'profile: {name}{comment}\n')
        else:
            out += [f'study:{comment}\n', *study_lines(study)]
            in_study = True
        seen.add(key)
    if seen != {'profile', 'study'}:
        raise ValueError(f'{path} needs top-level `profile:` and `study:` keys to switch '
                         f'profiles, found {sorted(seen)}')
    with open(path, 'w') as f:
        f.writelines(out)
    return study


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='python -m mmproseco.pipeline profile',
        description='Make a profile of params.yaml the active one (its sizes and lists).')
    parser.add_argument('name', help='a key of params.yaml profiles')
    parser.add_argument('--params', default='params.yaml')
    args = parser.parse_args(argv)
    study = switch_profile(args.name, args.params)
    print(f'{args.params}: profile {args.name}, study {json.dumps(study)}')
