from sqlmodel import Field, Relationship, SQLModel


class Mission(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    hero_id: int | None = Field(default=None, foreign_key="hero.id", index=True)
    hero: Hero | None = Relationship(
        back_populates="missions", sa_relationship_kwargs={"lazy": "selectin"}
    )
