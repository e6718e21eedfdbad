# Origin: fastapi-practices/fastapi_best_architecture, backend/app/admin/schema/token.py,
# backend/plugin/dict/schema/dict_data.py, backend/plugin/dict/crud/crud_dict_data.py
# at 2e86d79150c0abf0191dc8c189734214c4934a17. Licence: MIT. Reduced; descriptions dropped.
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession


class SchemaBase(BaseModel):
    pass


# The Swagger login's answer (quiet).
class GetSwaggerToken(SchemaBase):
    access_token: str = Field(description="access token")
    token_type: str = Field("Bearer", description="token type")


class DictDataSchemaBase(SchemaBase):
    type_id: int = Field(description="dict type id")
    label: str = Field(description="label")
    value: str = Field(description="value")
    color: str | None = Field(None, description="colour")
    remark: str | None = Field(None, description="remark")


# Required fields: a full replacement (PUT), where an omitted optional field means "clear it".
class UpdateDictDataParam(DictDataSchemaBase):
    """Parameters of an update."""


class CRUDDictData:
    async def update(
        self, db: AsyncSession, pk: int, obj: UpdateDictDataParam, type_code: str
    ) -> int:
        dict_obj = obj.model_dump()
        dict_obj.update({"type_code": type_code})
        return await self.update_model(db, pk, dict_obj)

    async def update_model(self, db: AsyncSession, pk: int, data: dict) -> int:
        return pk
