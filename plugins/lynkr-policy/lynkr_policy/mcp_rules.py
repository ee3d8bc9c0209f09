"""Which MCP tools may run: ``MCP_SANDBOX_PERMISSION_MODE`` with allow and deny globs.

An MCP tool (named ``mcp__<server>__<tool>``) does what its server does, which lynkr
cannot see: its effects are opaque, so the core runs it only with a policy's
``Permit``. This is where it comes from. The modes, as in the original project:

- ``auto`` (default): every MCP tool is permitted, except those matching a deny glob;
- ``require``: only the tools matching an allow glob are permitted (a deny glob still wins);
- ``deny``: no MCP tool runs.

Globs are ``fnmatch`` patterns on the whole tool name, case-sensitive:
``mcp__github__*`` is every tool of the server ``github``, ``mcp__*__delete_*`` every
tool whose name starts with ``delete_``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Literal

from lynkr_core import Denial, Permit

#: The prefix of MCP tools' names (Claude Code's naming).
MCP_PREFIX = "mcp__"

Mode = Literal["auto", "require", "deny"]


@dataclass(frozen=True, slots=True)
class McpRules:
    """The configured mode and globs."""

    mode: Mode = "auto"
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()

    def verdict(self, name: str) -> Denial | Permit | None:
        """A ``Permit`` or ``Denial`` for an MCP tool, ``None`` for any other tool."""
        if not name.startswith(MCP_PREFIX):
            return None
        if self.mode == "deny":
            return Denial(
                f"MCP tools are off on this gateway (MCP_SANDBOX_PERMISSION_MODE=deny); do not "
                f"retry {name}."
            )
        denied = next((glob for glob in self.deny if fnmatchcase(name, glob)), None)
        if denied is not None:
            return Denial(
                f"the MCP tool {name!r} matches {denied!r} in MCP_SANDBOX_PERMISSION_DENY. Do "
                "without it; only the user can allow it."
            )
        if self.mode == "require":
            allowed = next((glob for glob in self.allow if fnmatchcase(name, glob)), None)
            if allowed is None:
                return Denial(
                    f"the MCP tool {name!r} matches nothing in MCP_SANDBOX_PERMISSION_ALLOW "
                    "(MCP_SANDBOX_PERMISSION_MODE=require). Do without it; the user can add a "
                    "pattern for it."
                )
            return Permit(f"{name} matches {allowed!r} in MCP_SANDBOX_PERMISSION_ALLOW")
        return Permit("MCP tools are permitted (MCP_SANDBOX_PERMISSION_MODE=auto)")
