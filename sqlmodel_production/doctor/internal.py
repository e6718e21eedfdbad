"""What the command line (`cli`) uses of `doctor` beyond its public API.

The report's renderers, the parsing of rule codes and severities given as options,
the run-time checks' pieces (importing the app, reading the server's connection limit,
the pools found) and the files the doctor reads besides Python (migration folders,
dependency files). The command and the evaluation scripts import them from here, never
from `doctor`'s private modules. Not public: names here may change in any release.
"""

from sqlmodel_production.doctor._config import parse_codes as parse_codes
from sqlmodel_production.doctor._config import parse_severity as parse_severity
from sqlmodel_production.doctor._databases import (
    DEPENDENCY_FILES as DEPENDENCY_FILES,
)
from sqlmodel_production.doctor._migrations import (
    MIGRATION_FOLDERS as MIGRATION_FOLDERS,
)
from sqlmodel_production.doctor._output import render_explain as render_explain
from sqlmodel_production.doctor._output import render_json as render_json
from sqlmodel_production.doctor._output import render_sarif as render_sarif
from sqlmodel_production.doctor._output import render_text as render_text
from sqlmodel_production.doctor._runtime import Pool as Pool
from sqlmodel_production.doctor._runtime import import_app as import_app
from sqlmodel_production.doctor._runtime import server_limits as server_limits
from sqlmodel_production.doctor._source import display_path as display_path

__all__ = [
    "DEPENDENCY_FILES",
    "MIGRATION_FOLDERS",
    "Pool",
    "display_path",
    "import_app",
    "parse_codes",
    "parse_severity",
    "render_explain",
    "render_json",
    "render_sarif",
    "render_text",
    "server_limits",
]
