"""`sqlmodel-production doctor`: check a project against SQLModel's production rules.

Static rules read the syntax tree and never import the checked code; run-time
rules (metadata, pool sizing) look at an app imported on request.

Example:
    ```python
    from pathlib import Path
    from sqlmodel_production.doctor import check, load_config

    report = check([Path("app")], load_config(Path("app")))
    for finding in report.findings:
        print(finding.path, finding.line, finding.code, finding.message)
    ```
"""

from sqlmodel_production._exceptions import DoctorUsageError as DoctorUsageError

from ._config import Config as Config
from ._config import load_config as load_config
from ._findings import Finding as Finding
from ._findings import Severity as Severity
from ._rule import Rule as Rule
from ._runner import Report as Report
from ._runner import check as check
from ._runtime import Runtime as Runtime
from .rules import RULES as RULES
from .rules import RULES_BY_CODE as RULES_BY_CODE

__all__ = [
    "RULES",
    "RULES_BY_CODE",
    "Config",
    "DoctorUsageError",
    "Finding",
    "Report",
    "Rule",
    "Runtime",
    "Severity",
    "check",
    "load_config",
]
