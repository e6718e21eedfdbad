from sqlmodel import Field, Session

from sqlmodel_production.models import IntPK, StringField, derive_schemas


class Character(IntPK, table=True):
    __tablename__ = "characters"

    name: str = StringField(max_length=100, index=True)
    age: int | None = Field(default=None, index=True)
    secret_name: str = StringField()


CharacterCreate, CharacterPublic, CharacterUpdate = derive_schemas(
    Character, write_only={"secret_name"}
)


def create_hero(session: Session, hero: CharacterCreate) -> CharacterPublic:
    db_hero = Character.model_validate(hero)
    session.add(db_hero)
    session.commit()
    session.refresh(db_hero)
    return CharacterPublic.model_validate(db_hero)


def update_hero(session: Session, hero_id: int, hero: CharacterUpdate) -> CharacterPublic:
    db_hero = session.get(Character, hero_id)
    if db_hero is None:
        raise LookupError("Hero not found")
    db_hero.sqlmodel_update(hero.model_dump(exclude_unset=True))
    session.add(db_hero)
    session.commit()
    session.refresh(db_hero)
    return CharacterPublic.model_validate(db_hero)
