"""The study's parameters: ``params.yaml``, which DVC tracks."""
import yaml


def load_params(path='params.yaml'):
    """params.yaml with the active profile's sizes merged in as ``params['size']``."""
    with open(path) as f:
        params = yaml.safe_load(f)
    if params['profile'] not in params['profiles']:
        raise ValueError(f"profile {params['profile']!r} is not one of "
                         f"{sorted(params['profiles'])} in {path}")
    params['size'] = params['profiles'][params['profile']]
    return params
