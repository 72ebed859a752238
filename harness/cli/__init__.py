"""The command line (``python -m harness``): argument parsing, the commands, and their
one-line error handling.

May import every other subpackage: nothing imports ``harness.cli``.
"""
