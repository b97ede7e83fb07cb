from .locsce import LocSCELoss, locsce_loss  # noqa: F401
