"""The build's stages, one module each, in build.py's order: what a stage does with the
BuildState. The parts they call (discover.py, execute/, render/, assemble/, search.py...) know
nothing of the build's state."""
