"""Assembling the site's pages from the rendered bodies: a report's pages (pages.py), listings,
links between pages, the theme's templates. The build's stage is stages/assemble.py."""
