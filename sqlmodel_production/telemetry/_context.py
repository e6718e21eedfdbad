"""OpenTelemetry's current context, read and set at the cost of a `ContextVar`.

`opentelemetry.context.get_current`, `attach` and `detach` reach the
`ContextVar` behind them through two Python calls each; every request and
every statement uses them, so telemetry goes to the variable itself
(`_compat.otel_context_var`), or through them under another runtime context.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.context import Context

from sqlmodel_production._compat import otel_context_var

__all__ = ["attach", "detach", "get_current"]

_logger = logging.getLogger(__name__)
_VAR = otel_context_var()

get_current: Callable[[], Context]
attach: Callable[[Context], Any]
detach: Callable[[Any], None]

if _VAR is None:  # pragma: no cover - OTEL_PYTHON_CONTEXT names another runtime context
    get_current, attach, detach = (
        otel_context.get_current,
        otel_context.attach,
        otel_context.detach,
    )
else:
    get_current, attach = _VAR.get, _VAR.set
    _reset = _VAR.reset

    def detach(token: Any) -> None:
        """Restore the context `attach` replaced (as `opentelemetry.context.detach`: a failure is logged)."""
        try:
            _reset(token)
        except Exception:
            _logger.exception("Failed to detach context")
