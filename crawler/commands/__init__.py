"""One module per command family; ``crawler.cli.COMMANDS`` lists every command and where it lives.

Shared options and error handling are in ``_options``; a command module imports
from there, never from ``crawler.cli``.
"""
