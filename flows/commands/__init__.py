"""CLI commands: each module here defines ``register(app)`` adding its commands.

Modules are discovered at start-up; they must import heavy libraries inside the
command functions, never at module level, so ``tracemill --help`` stays fast.
"""
