"""OpenTelemetry traces and metrics, Prometheus and JSON logs: `instrument(app, database)`.

Needs the `telemetry` extra (`pip install "sqlmodel-production[telemetry]"`);
nothing else in the package imports this subpackage or OpenTelemetry.
"""

try:
    import opentelemetry.sdk  # noqa: F401
except ImportError as exc:  # pragma: no cover - the extra is installed in tests
    raise ImportError(
        "sqlmodel_production.telemetry needs OpenTelemetry: "
        'pip install "sqlmodel-production[telemetry]"'
    ) from exc

from ._instrument import Telemetry as Telemetry
from ._instrument import instrument as instrument
from ._logs import JsonFormatter as JsonFormatter
from ._logs import use_json_logs as use_json_logs

__all__ = ["JsonFormatter", "Telemetry", "instrument", "use_json_logs"]
