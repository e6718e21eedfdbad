from sqlmodel import Field, Session

from sqlmodel_production.models import IntPK, StringField, derive_schemas


class DocHero(IntPK, table=True):
    __tablename__ = "doc_hero"

    name: str = StringField(max_length=100, index=True)
    age: int | None = Field(default=None, index=True)
    secret_name: str = StringField()


DocHeroCreate, DocHeroPublic, DocHeroUpdate = derive_schemas(
    DocHero, write_only={"secret_name"}
)


def create_hero(session: Session, hero: DocHeroCreate) -> DocHeroPublic:
    db_hero = DocHero.model_validate(hero)
    session.add(db_hero)
    session.commit()
    session.refresh(db_hero)
    return DocHeroPublic.model_validate(db_hero)


def update_hero(session: Session, hero_id: int, hero: DocHeroUpdate) -> DocHeroPublic:
    db_hero = session.get(DocHero, hero_id)
    if db_hero is None:
        raise LookupError("Hero not found")
    db_hero.sqlmodel_update(hero.model_dump(exclude_unset=True))
    session.add(db_hero)
    session.commit()
    session.refresh(db_hero)
    return DocHeroPublic.model_validate(db_hero)
