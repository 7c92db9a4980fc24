"""The critmin command line."""
