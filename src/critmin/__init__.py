"""critmin: critical-mineral supply-chain security.

Python API first; the CLI (``critmin``) is a thin layer over it::

    import critmin
    world = critmin.load_world()                      # the bundled, sourced 2024 world
    critmin.exposure(world, region="JPN", element="Dy")
    critmin.indicators(world, stage="mine", element="REE")
"""

__version__ = "0.1.0"

from critmin.api import exposure, indicators, load_world, overview
from critmin.world import World, WorldValidationError

__all__ = ["World", "WorldValidationError", "__version__", "exposure", "indicators", "load_world", "overview"]
