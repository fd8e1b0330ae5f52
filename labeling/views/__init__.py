"""HTML pages of the labeling app, one module per area."""

from labeling.views.datasets import *  # noqa: F403
from labeling.views.imports import *  # noqa: F403
from labeling.views.queue import *  # noqa: F403
from labeling.views.search import *  # noqa: F403
from labeling.views.taxonomy import *  # noqa: F403
