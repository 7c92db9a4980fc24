"""World data: component tables, world folders, validation and derived element flows."""

from critmin.world.model import World, bundled_folder
from critmin.world.problems import Problem, WorldValidationError

__all__ = ["Problem", "World", "WorldValidationError", "bundled_folder"]
