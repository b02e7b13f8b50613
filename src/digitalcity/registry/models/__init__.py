"""registry models, one module per topic."""

from .conflicts import *  # noqa: F403
from .linkage import *  # noqa: F403
from .organizations import *  # noqa: F403
from .people import *  # noqa: F403
from .sources import *  # noqa: F403
