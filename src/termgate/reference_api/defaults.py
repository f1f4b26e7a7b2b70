"""The world's defaults, apart so the server's main process can read them without building it."""

DEFAULT_SEED = 20260401
DEFAULT_EMPLOYEES = 2000
