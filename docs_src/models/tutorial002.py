from sqlmodel import Session, select

from sqlmodel_production.models import (
    IntPK,
    SoftDelete,
    StringField,
    Timestamps,
    Versioned,
)


class DocArticle(IntPK, Timestamps, SoftDelete, Versioned, table=True):
    __tablename__ = "doc_article"

    title: str = StringField(max_length=200)


def publish(session: Session, title: str) -> DocArticle:
    article = DocArticle(title=title)
    session.add(article)
    session.commit()
    # created_at, updated_at and version come from the database
    session.refresh(article)
    return article


def trash(session: Session, article_id: int) -> None:
    article = session.get(DocArticle, article_id)
    if article is None:
        raise LookupError("Article not found")
    article.soft_delete()
    session.add(article)
    session.commit()


def live_titles(session: Session) -> list[str]:
    statement = (
        select(DocArticle.title).where(DocArticle.not_deleted()).order_by(DocArticle.id)
    )
    return list(session.exec(statement).all())
