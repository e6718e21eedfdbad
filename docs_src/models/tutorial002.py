from sqlmodel import Session, select

from sqlmodel_production.models import (
    IntPK,
    SoftDelete,
    StringField,
    Timestamps,
    Versioned,
)


class Article(IntPK, Timestamps, SoftDelete, Versioned, table=True):
    __tablename__ = "articles"

    title: str = StringField(max_length=200)


def publish(session: Session, title: str) -> Article:
    article = Article(title=title)
    session.add(article)
    session.commit()
    # created_at, updated_at and version come from the database
    session.refresh(article)
    return article


def trash(session: Session, article_id: int) -> None:
    article = session.get(Article, article_id)
    if article is None:
        raise LookupError("Article not found")
    article.soft_delete()
    session.add(article)
    session.commit()


def live_titles(session: Session) -> list[str]:
    statement = (
        select(Article.title).where(Article.not_deleted()).order_by(Article.id)
    )
    return list(session.exec(statement).all())
