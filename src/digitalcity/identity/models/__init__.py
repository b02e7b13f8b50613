"""identity models, one module per topic."""

from .security import *  # noqa: F403
from .users import *  # noqa: F403
