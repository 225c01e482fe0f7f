"""The shared core beneath every module: errors and the vocabulary they all use.

Nothing here imports another tipsom package, so every layer may depend on it.
"""

from tipsom.core.errors import (
    ConfigError,
    ExitCode,
    InputError,
    IntegrityError,
    TipsomError,
)

#: Names defined here and the public modules other packages may import from.
__all__ = [
    "ConfigError", "ExitCode", "InputError", "IntegrityError", "TipsomError", "cells", "config", "engines", "errors",
    "files",
    "identifiers", "phrases", "render", "selectors", "textinput", "textnorm", "vocab", "wallets",
]
