"""What the command line (`cli`) and the pytest plugin (`testing`) use of `diagnostics`
beyond its public API: the text form of `explain_error`'s answers, and the N+1
watch of one thread. They import them from here, never from `diagnostics`' private
modules. Not public: names here may change in any release.
"""

from sqlmodel_production.diagnostics._explain import render as render_explanations
from sqlmodel_production.diagnostics._n_plus_one import watch_thread as watch_thread

__all__ = ["render_explanations", "watch_thread"]
