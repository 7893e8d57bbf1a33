"""Rendering a report's body: job.py (nbconvert for notebooks, markdown-it-py for Markdown, the
body passes), each output by its registered renderer (prepare.py), in worker processes or the
warm render server (renderer.py, server.py). The build's stage is stages/render.py."""
