from sqlmodel_production import Conventions, RowScope, crud_router
from sqlmodel_production.models import Schemas

from app.api.deps import owned_items
from app.models import Item, ItemCreate, ItemPublic, ItemUpdate, Message

TEMPLATE = Conventions(
    list_envelope=("data", "count"),
    update_methods=("PUT",),
    deleted_body=Message(message="Item deleted successfully"),
    id_name="id",
    offset_name="skip",
    outside_scope=403,
    list_schema="{label}sPublic",
)

router = crud_router(
    Item,
    prefix="/items",
    tags=["items"],
    schemas=Schemas(Create=ItemCreate, Public=ItemPublic, Update=ItemUpdate),
    scope=RowScope(owned_items, "owner_id"),
    order_by=["created_at"],
    default_order=["-created_at"],
    exclude=["bulk"],
    conventions=TEMPLATE,
)
