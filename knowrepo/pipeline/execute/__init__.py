"""Executing notebooks: each variant planned (plan.py, params.py), run with papermill (run.py)
on a registered executor (executors.py, remote.py), recorded in the run store (runstore.py);
runner.py is what `knowrepo run` asks for. The build's stage is stages/execute.py."""
