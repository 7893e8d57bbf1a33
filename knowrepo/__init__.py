"""knowrepo: publish notebook and Markdown analyses as a static knowledge site."""

__version__ = "0.1.0"
