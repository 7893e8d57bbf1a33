"""`python -m knowrepo` is the `knowrepo` command."""

from knowrepo.commands import command

command()
