# Origin: hngprojects/hng_boilerplate_python_fastapi_web, api/db/database.py,
# api/v1/services/{organisation,profile}.py, api/v1/schemas/request_password_reset.py,
# api/v1/routes/payment.py at 5a01cac16e263f598896c0c57bd054007ad18b6b.
# Licence: Apache-2.0. Reduced and merged; names kept.
from typing import Annotated, Optional

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import Column, Integer, String, create_engine
from sqlalchemy.orm import Session, declarative_base

from .deps import get_db

Base = declarative_base()
router = APIRouter()


def get_db_engine(test_mode: bool = False):
    if test_mode:
        # SQLite (its own connect argument): nothing to ping (quiet).
        return create_engine(
            "sqlite:///" + "test.db", connect_args={"check_same_thread": False}
        )
    DATABASE_URL = "postgresql://user:password@localhost/app"
    return create_engine(DATABASE_URL)  # expect: SMP004


class Profile(Base):
    __tablename__ = "profiles"
    id = Column(Integer, primary_key=True)
    user_id = Column(String(36), index=True)
    job_title = Column(String(100))


class ProfileCreateUpdate(BaseModel):
    job_title: Optional[str] = None
    recovery_email: Optional[str] = None


# Answers a password reset with a fresh token: the client is meant to receive it (quiet).
class ResetPasswordSuccesful(BaseModel):
    message: str
    status_code: int
    access_token: str


class ProfileService:
    def create(self, db: Session, schema: ProfileCreateUpdate, user_id: str):
        # A new row gets every field (quiet), and reading one key applies nothing.
        new_profile = Profile(**schema.model_dump(), user_id=user_id)
        email = schema.model_dump()["recovery_email"]
        db.add(new_profile)
        db.commit()
        db.refresh(new_profile)
        return new_profile, email

    def update(self, db: Session, schema: ProfileCreateUpdate, user_id: str):
        profile = db.query(Profile).filter(Profile.user_id == user_id).first()
        # The loop skips the fields left as None itself (quiet).
        for field, value in schema.model_dump().items():
            if value is not None:
                setattr(profile, field, value)
        db.commit()
        db.refresh(profile)
        return profile


@router.get("/payments/current-user")
def get_payments_for_current_user(
    limit: Annotated[int, Query(ge=1, description="Number of payments per page")] = 10,  # expect: SMP012
    page: Annotated[int, Query(ge=1, description="Page number (starts from 1)")] = 1,
    db: Session = Depends(get_db),
):
    return db.query(Profile).offset((page - 1) * limit).limit(limit).all()
