"""`python -m knowrepo` is the `knowrepo` command."""

from .cli import command

command()
