
from .fog import AddFog, koschmieder_fog  # noqa: F401
from .loading import LoadImageChecked  # noqa: F401
from .photometric import ColorJitter, RandomGaussianBlur  # noqa: F401
from .proposals import SampleProposals  # noqa: F401
