"""core models, one module per topic."""

from .audit import *  # noqa: F403
from .base import *  # noqa: F403
from .calendar import *  # noqa: F403
from .departments import *  # noqa: F403
from .divisions import *  # noqa: F403
from .files import *  # noqa: F403
from .notifications import *  # noqa: F403
from .numbering import *  # noqa: F403
