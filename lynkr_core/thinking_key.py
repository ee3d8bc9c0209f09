"""The secret that signs thinking blocks (``lynkr_core.translate.thinking``).

It lives in ``LYNKR_HOME/thinking-signing.key`` (32 random bytes, hex, mode 0600),
made on first use, so signatures outlive a restart and every ``--workers`` process
shares it. Two processes making it at once agree: each writes a file of its own
and links it into place; the one that loses reads the winner's.
"""

from __future__ import annotations

import functools
import os
import secrets
from pathlib import Path

from lynkr_core.config import Settings

KEY_FILE = "thinking-signing.key"


def thinking_key(settings: Settings) -> bytes:
    """The thinking signing key of the ``LYNKR_HOME`` that ``settings`` name."""
    return _key_in(str(settings.core.home))  # asked on every request: cached by the setting's text


@functools.lru_cache(maxsize=8)
def _key_in(home_setting: str) -> bytes:
    home = Path(home_setting).expanduser()
    path = home / KEY_FILE
    if not path.exists():
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = home / f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32) + "\n")
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass  # another process made it first: use theirs
        finally:
            temporary.unlink(missing_ok=True)
    key = bytes.fromhex(path.read_text().strip())
    if len(key) < 16:
        raise ValueError(f"{path}: the thinking signing key is too short; delete the file to make a new one")
    return key
