"""The pytest plugin of sqlmodel-production, and the assertions it offers.

Registered under the `pytest11` entry point, so its fixtures are available in
every test once the package is installed: `assert_queries`,
`assert_max_queries`, `n_plus_one` and `no_connection_leaks`.
"""

from ._assertions import assert_max_queries as assert_max_queries
from ._assertions import assert_queries as assert_queries
from ._plugin import n_plus_one as n_plus_one
from ._plugin import no_connection_leaks as no_connection_leaks

__all__ = ["assert_max_queries", "assert_queries", "n_plus_one", "no_connection_leaks"]
