from sqlalchemy.orm import relationship
from sqlmodel import Field, Relationship, SQLModel


class Mission(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    hero_id: int | None = Field(default=None, foreign_key="hero.id", index=True)
    hero: Hero | None = Relationship(
        sa_relationship_kwargs={"backref": "missions"}  # expect: SMP006
    )


class Base:
    parent = relationship("Parent", backref="children")  # expect: SMP006
