"""Model toolkit: derived Create / Public / Update schemas, column mixins and field helpers.

A pure layer: no I/O, no FastAPI.
"""

from ._fields import DEFAULT_STRING_LENGTH as DEFAULT_STRING_LENGTH
from ._fields import ForeignKeyField as ForeignKeyField
from ._fields import StringField as StringField
from ._mixins import UUIDPK as UUIDPK
from ._mixins import IntPK as IntPK
from ._mixins import SoftDelete as SoftDelete
from ._mixins import Timestamps as Timestamps
from ._mixins import Versioned as Versioned
from ._naming import NAMING_CONVENTION as NAMING_CONVENTION
from ._naming import use_naming_convention as use_naming_convention
from ._schemas import READ_ONLY as READ_ONLY
from ._schemas import WRITE_ONLY as WRITE_ONLY
from ._schemas import Schemas as Schemas
from ._schemas import derive_schemas as derive_schemas
from ._text import TEXT_PATTERN as TEXT_PATTERN
from ._text import StorableText as StorableText
from ._text import Text as Text
from ._text import storable as storable
from ._types import UTCDateTime as UTCDateTime
from ._types import integer_range as integer_range
from ._types import utcnow as utcnow

__all__ = [
    "DEFAULT_STRING_LENGTH",
    "ForeignKeyField",
    "IntPK",
    "NAMING_CONVENTION",
    "READ_ONLY",
    "Schemas",
    "SoftDelete",
    "StorableText",
    "StringField",
    "TEXT_PATTERN",
    "Text",
    "Timestamps",
    "UTCDateTime",
    "UUIDPK",
    "Versioned",
    "WRITE_ONLY",
    "derive_schemas",
    "integer_range",
    "storable",
    "use_naming_convention",
    "utcnow",
]
