"""The plateau rule of the study (docs/pipeline.md): whether a run stopped after its val
curve had flattened, recorded in each run's metrics and re-checked by the report with the
seed spread of its cell."""

#: How many of the last validations are averaged, and the smallest tolerance (mAP in [0, 1]).
LAST_VALIDATIONS = 3
MIN_TOLERANCE = 0.01


def plateau_reached(values, seed_std=0.0, last=LAST_VALIDATIONS, min_tolerance=MIN_TOLERANCE):
    """True when the mean of the ``last`` validation values is within
    ``max(seed_std, min_tolerance)`` of the best one (higher is better).

    Args:
        values (Sequence[float]): the val metric of every validation, in order.
        seed_std (float): the std over seeds of the run's cell (0 when unknown).

    A run validated fewer than ``last`` times has no plateau to show, so it is False.
    """
    values = [float(v) for v in values]
    if len(values) < last:
        return False
    tail = sum(values[-last:]) / last
    return max(values) - tail <= max(seed_std, min_tolerance)
