"""The notebook runner: what ``make`` calls to execute the study's notebooks.

``python -m psu_study.runner`` runs only the notebooks whose inputs changed, several kernels
at once, and moves a notebook's outputs into place only when the whole notebook succeeded.

- ``layout``: where one build reads and writes, and the names of files in its records;
- ``graph``: what each notebook depends on (cells, data read, project modules imported,
  transitively, the lock) and whether it is stale;
- ``depfile``: that graph written for make, as ``gcc -MMD -MP`` does;
- ``manifest``: the build's record of every output and what made it, from each notebook's
  ``result``;
- ``build``: the build itself (which notebooks run, in what order, their outputs committed,
  then the paper); ``notebook``: one notebook run in its kernel; ``kernels``: each
  notebook's kernel started and stopped; ``forked_kernels`` forks them from one warm
  process; ``kernel`` is the project's Jupyter kernel;
- ``interrupts``: SIGINT and SIGTERM at any moment, one line and no process left behind;
- ``compat``: every use of another library's internals, guarded by version;
  ``pytest_startup`` makes the tests' pytest skip what the runner skips at start-up;
- ``verify``: a clean rebuild of HEAD compared with what is committed; ``cli``: the command.
"""
