"""CLI command groups: each module here defines ``register(app)`` and is picked up by ``labctl.cli``."""
