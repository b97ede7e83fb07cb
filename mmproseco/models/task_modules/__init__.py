from .checked_hungarian_assigner import CheckedHungarianAssigner  # noqa: F401
from .feature_similarity_cost import FeatureSimilarityCost  # noqa: F401
from .proposal_matching_assigner import ProposalMatchingAssigner  # noqa: F401
