# Origin: mnaimfaizy/fastapi_rbac, backend/test/unit/test_crud_role_group.py and
# backend/test/unit/test_user_role_model.py at 990b9d1f12c04ac0e45947e6283564de9e8e68a9.
# Licence: MIT. Reduced. Test code: a missing row fails the test, which is what a test is for;
# reading after a commit in a test is no production problem (quiet).
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import RoleGroup, UserRole


async def test_create_with_parent(db: AsyncSession, parent_group: RoleGroup) -> None:
    parent_group_refreshed = await db.get(RoleGroup, parent_group.id)
    assert len(parent_group_refreshed.children) == 1


async def test_user_role(db: AsyncSession) -> None:
    user_role = UserRole(user_id=1, role_id=2)
    db.add(user_role)
    await db.commit()
    assert user_role.user_id == 1
