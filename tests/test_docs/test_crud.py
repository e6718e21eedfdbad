"""docs/crud.md: crud_router, filters and caps, cursor pages, ETags, nested reads, links, the repository."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from docs_src.crud import (
    tutorial001,
    tutorial002,
    tutorial003,
    tutorial004,
    tutorial005,
    tutorial006,
    tutorial007,
    tutorial008,
    tutorial009,
    tutorial010,
)
from sqlmodel_production import Backend, Database
from sqlmodel_production.testing import assert_queries
from tests.conftest import Target
from tests.test_docs._helpers import tables

AUTHORS = [
    {"name": "Terry Pratchett", "born": 1948},
    {"name": "Ursula K. Le Guin", "born": 1929},
    {"name": "Iain M. Banks", "born": 1954},
    {"name": "Anonymous", "born": None},
    {"name": "Mary Shelley", "born": 1797},
]


@pytest.fixture
def authors(target: Target, database: Database) -> Iterator[TestClient]:
    app = tutorial001.create_app(database, async_=target.async_)
    with tables(database, tutorial001.Author), TestClient(app) as client:
        created = client.post("/authors/bulk", json=AUTHORS)
        assert created.status_code == 200, created.text
        yield client


def names(response: object) -> list[str]:
    return [row["name"] for row in response.json()]  # type: ignore[attr-defined]


def test_tutorial001_the_seed_endpoints(authors: TestClient) -> None:
    created = authors.post("/authors/", json={"name": "Mervyn Peake", "notes": "x"})
    assert created.status_code == 200
    author = created.json()
    assert author == {
        "id": 6,
        "name": "Mervyn Peake",
        "born": None,
    }  # notes: write-only
    assert authors.get("/authors/6").json() == author
    patched = authors.patch("/authors/6", json={"born": 1911})
    assert patched.json() == {**author, "born": 1911}
    assert authors.delete("/authors/6").json() == {"ok": True}
    assert authors.get("/authors/6").json() == {"detail": "Author not found"}
    assert authors.post("/authors/", json={"name": "X", "id": 9}).status_code == 422


def test_tutorial001_a_duplicate_is_a_409(authors: TestClient) -> None:
    refused = authors.post("/authors/", json={"name": "Mary Shelley"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "unique_violation"


def test_tutorial001_filters_and_order(authors: TestClient) -> None:
    get = authors.get
    assert names(get("/authors/", params={"born__ge": 1930, "order_by": "born"})) == [
        "Terry Pratchett",
        "Iain M. Banks",
    ]
    assert names(get("/authors/", params={"name__ilike": "%LE%"})) == [
        "Ursula K. Le Guin",
        "Mary Shelley",
    ]
    assert names(get("/authors/", params={"born__is_null": True})) == ["Anonymous"]
    assert names(
        get("/authors/", params={"born__in": [1797, 1954], "order_by": "-name"})
    ) == ["Mary Shelley", "Iain M. Banks"]
    assert names(get("/authors/", params={"name": "Mary Shelley"})) == ["Mary Shelley"]
    counted = get("/authors/", params={"born__le": 1950, "limit": 1, "count": True})
    assert counted.headers["X-Total-Count"] == "3"


def test_tutorial001_caps(authors: TestClient) -> None:
    assert authors.get("/authors/", params={"limit": 50}).status_code == 200
    too_big = authors.get("/authors/", params={"limit": 51})
    assert too_big.status_code == 422
    assert authors.get("/authors/", params={"offset": -1}).status_code == 422
    too_many = authors.get("/authors/", params={"born__in": list(range(101))})
    assert too_many.status_code == 422
    assert too_many.json()["detail"][0]["msg"] == "give at most 100 values, not 101"
    bulk = authors.post("/authors/bulk", json=[{"name": f"a{i}"} for i in range(1001)])
    assert bulk.status_code == 422
    assert bulk.json()["detail"][0]["type"] == "too_long"
    order = authors.get("/authors/", params={"order_by": "notes"})
    assert order.status_code == 422


def test_tutorial001_cursor_pages(authors: TestClient) -> None:
    seen: list[str] = []
    params: dict[str, object] = {"order_by": "-born", "limit": 2}
    pages = 0
    while True:
        page = authors.get("/authors/", params=params)
        assert page.status_code == 200, page.text
        seen += names(page)
        pages += 1
        cursor = page.headers.get("X-Next-Cursor")
        if cursor is None:
            break
        params["cursor"] = cursor
        # A row inserted before the cursor moves no row across pages.
        authors.post("/authors/", json={"name": f"new {pages}", "born": 2000 + pages})
    assert pages == 3
    assert seen == [
        "Iain M. Banks",
        "Terry Pratchett",
        "Ursula K. Le Guin",
        "Mary Shelley",
        "Anonymous",
    ]
    first = authors.get("/authors/", params={"order_by": "-born", "limit": 2})
    cursor = first.headers["X-Next-Cursor"]
    for refused in (
        {"cursor": "not-a-cursor"},
        {"cursor": cursor, "order_by": "name"},  # made for another order
        {"cursor": cursor, "order_by": "-born", "offset": 2},
    ):
        assert authors.get("/authors/", params=refused).status_code == 422, refused


@pytest.fixture
def drafts(target: Target, database: Database) -> Iterator[TestClient]:
    app = tutorial002.create_app(database, async_=target.async_)
    with tables(database, tutorial002.Draft), TestClient(app) as client:
        yield client


def test_tutorial002_etag_and_if_match(drafts: TestClient) -> None:
    created = drafts.post("/drafts/", json={"title": "Chapter 1"})
    assert created.headers["ETag"] == '"1"'
    draft_id = created.json()["id"]
    read = drafts.get(f"/drafts/{draft_id}")
    assert read.headers["ETag"] == '"1"'

    saved = drafts.patch(
        f"/drafts/{draft_id}",
        json={"body": "It was a dark night."},
        headers={"If-Match": read.headers["ETag"]},
    )
    assert saved.status_code == 200
    assert saved.headers["ETag"] == '"2"'
    assert saved.json()["version"] == 2

    stale = drafts.patch(
        f"/drafts/{draft_id}",
        json={"body": "It was a stormy night."},
        headers={"If-Match": read.headers["ETag"]},
    )
    assert stale.status_code == 412
    assert stale.json() == {
        "detail": "Draft was changed by someone else; read it again"
    }
    assert drafts.get(f"/drafts/{draft_id}").json()["body"] == "It was a dark night."
    unversioned = drafts.patch(f"/drafts/{draft_id}", json={"title": "One"})
    assert unversioned.headers["ETag"] == '"3"'  # no If-Match: last write wins


SHELF_TABLES = (
    tutorial003.Publisher,
    tutorial003.Book,
    tutorial003.Shelf,
    tutorial003.ShelfBook,
)


@pytest.fixture
def library(target: Target, database: Database) -> Iterator[TestClient]:
    app = tutorial003.create_app(database, async_=target.async_)
    with tables(database, *SHELF_TABLES), TestClient(app) as client:
        publisher = client.post("/publishers/", json={"name": "Gollancz"}).json()
        for title in ("Mort", "Guards! Guards!", "Eric"):
            book = {"title": title, "publisher_id": publisher["id"]}
            assert client.post("/books/", json=book).status_code == 200
        assert client.post("/shelves/", json={"name": "Fantasy"}).status_code == 200
        yield client


def test_tutorial003_nested_reads_in_two_queries(library: TestClient) -> None:
    with assert_queries(2):
        publisher = library.get("/publishers/1").json()
    assert publisher["name"] == "Gollancz"
    assert [b["title"] for b in publisher["books"]] == [
        "Mort",
        "Guards! Guards!",
        "Eric",
    ]
    book = library.get("/books/2").json()
    assert book["publisher"] == {"id": 1, "name": "Gollancz"}
    missing_parent = library.post("/books/", json={"title": "X", "publisher_id": 9})
    assert missing_parent.status_code == 422


def test_tutorial003_links_with_data(library: TestClient) -> None:
    linked = library.put("/shelves/1/books/3", json={"position": 1})
    assert linked.json() == {"shelf_id": 1, "book_id": 3, "position": 1}
    assert library.put("/shelves/1/books/1", json={}).json()["position"] == 0
    moved = library.put("/shelves/1/books/3", json={"position": 2})  # no duplicate
    assert moved.json()["position"] == 2
    with assert_queries(2):
        shelf = library.get("/shelves/1").json()
    assert [(b["title"], b["position"]) for b in shelf["books"]] == [
        ("Mort", 0),
        ("Eric", 2),
    ]
    assert library.get("/books/3/shelves").json() == [
        {"id": 1, "name": "Fantasy", "position": 2}
    ]
    assert library.delete("/shelves/1/books/3").json() == {"ok": True}
    assert library.get("/books/3/shelves").json() == []
    assert library.put("/shelves/1/books/99", json={}).json() == {
        "detail": "Book not found"
    }


def test_tutorial004_the_repository_in_your_endpoints(
    backend: Backend, database: Database
) -> None:
    app = tutorial004.create_app(database)
    with tables(database, tutorial001.Author), TestClient(app) as client:
        with database.session() as session:
            tutorial004.authors.create_many(session, AUTHORS)
            session.commit()
        first = client.get("/eldest", params={"born_from": 1900}).json()
        assert [a["name"] for a in first["authors"]] == [
            "Ursula K. Le Guin",
            "Terry Pratchett",
        ]
        assert "notes" not in first["authors"][0]
        second = client.get(
            "/eldest", params={"born_from": 1900, "cursor": first["next"]}
        )
        assert [a["name"] for a in second.json()["authors"]] == ["Iain M. Banks"]
        assert second.json()["next"] is None
        bad = client.get("/eldest", params={"cursor": "nope"})
        assert bad.json() == {"detail": "cursor: not a valid cursor"}

        renamed = client.post("/authors/1/rename", params={"name": "Sir Terry"})
        assert renamed.json() == {"id": 1, "name": "Sir Terry", "born": 1948}
        assert (
            client.post("/authors/99/rename", params={"name": "X"}).status_code == 404
        )


@pytest.fixture
def loans(target: Target, database: Database) -> Iterator[TestClient]:
    app = tutorial005.create_app(database, async_=target.async_)
    with tables(database, tutorial005.Loan), TestClient(app) as client:
        yield client


def test_tutorial005_owners_see_their_loans(loans: TestClient) -> None:
    alice, bob = {"X-User": "1"}, {"X-User": "2"}
    mine = loans.post("/loans/", json={"title": "Dune"}, headers=alice).json()
    loans.post("/loans/", json={"title": "Emma"}, headers=bob)
    assert mine["owner_id"] == 1
    assert [r["title"] for r in loans.get("/loans/", headers=alice).json()] == ["Dune"]
    assert loans.get(f"/loans/{mine['id']}", headers=bob).status_code == 404
    assert (
        loans.post(
            "/loans/", json={"title": "x", "owner_id": 2}, headers=alice
        ).status_code
        == 422
    )


def test_tutorial005_soft_delete_and_restore(loans: TestClient) -> None:
    alice, admin = {"X-User": "1"}, {"X-User": "1", "X-Role": "admin"}
    loan = loans.post("/loans/", json={"title": "Dune"}, headers=alice).json()
    path = f"/loans/{loan['id']}"
    assert loans.delete(path, headers=alice).json() == {"ok": True}
    assert loans.get(path, headers=alice).status_code == 404
    assert loans.get("/loans/deleted/", headers=alice).status_code == 403
    assert [r["title"] for r in loans.get("/loans/deleted/", headers=admin).json()] == [
        "Dune"
    ]
    assert loans.post(f"{path}/restore", headers=admin).json()["deleted_at"] is None
    assert loans.get(path, headers=alice).json()["title"] == "Dune"


def test_tutorial010_a_course_s_delete_reaches_its_lessons(
    target: Target, database: Database
) -> None:
    app = tutorial010.create_app(database, async_=target.async_)
    admin = {"X-Role": "admin"}
    models = (tutorial010.Course, tutorial010.Lesson, tutorial010.Enrolment)
    with tables(database, *models), TestClient(app) as client:
        course = client.post("/courses/", json={"title": "Latin"}).json()
        other = client.post("/courses/", json={"title": "Greek"}).json()
        for title in ("Nouns", "Verbs"):
            client.post("/lessons/", json={"title": title, "course_id": course["id"]})
        client.post("/lessons/", json={"title": "Alphabet", "course_id": other["id"]})
        enrolment = client.post(
            "/enrolments/", json={"student": "Ann", "course_id": course["id"]}
        ).json()
        # An enrolment holds the course: 409, nothing changed.
        held = client.delete(f"/courses/{course['id']}")
        assert held.status_code == 409 and held.json()["fields"] == ["enrolments"]
        assert len(client.get("/lessons/").json()) == 3
        client.delete(f"/enrolments/{enrolment['id']}")
        assert client.delete(f"/courses/{course['id']}").json() == {"ok": True}
        # Its lessons went with it, in the same transaction.
        assert [r["title"] for r in client.get("/lessons/").json()] == ["Alphabet"]
        # Nothing new under a deleted course: the 422 of a course that does not exist.
        refused = client.post(
            "/lessons/", json={"title": "Cases", "course_id": course["id"]}
        )
        assert refused.status_code == 422
        assert refused.json()["detail"][0]["loc"] == ["body", "course_id"]
        # Admins read the deleted course, then purge it with its lessons.
        deleted = f"/courses/deleted/{course['id']}"
        assert client.get(deleted).status_code == 403
        assert client.get(deleted, headers=admin).json()["title"] == "Latin"
        assert client.delete(deleted, headers=admin).status_code == 409  # lessons
        for lesson in client.get("/lessons/deleted/", headers=admin).json():
            client.delete(f"/lessons/deleted/{lesson['id']}", headers=admin)
        assert client.delete(deleted, headers=admin).json() == {"ok": True}
        assert client.get(deleted, headers=admin).status_code == 404


def test_tutorial006_the_template_s_conventions(
    target: Target, database: Database
) -> None:
    app = tutorial006.create_app(database, async_=target.async_)
    ann, bob = {"X-User": "1"}, {"X-User": "2"}
    with tables(database, tutorial006.TemplateItem), TestClient(app) as client:
        item = client.post("/items/", json={"title": "Milk"}, headers=ann).json()
        client.post("/items/", json={"title": "Eggs"}, headers=ann)
        page = client.get("/items/?skip=1&limit=10", headers=ann).json()
        assert page["count"] == 2 and len(page["data"]) == 1
        updated = client.put(
            f"/items/{item['id']}", json={"description": "2 l"}, headers=ann
        )
        assert updated.json()["title"] == "Milk"
        assert updated.json()["description"] == "2 l"
        other = client.get(f"/items/{item['id']}", headers=bob)
        assert other.status_code == 403
        assert other.json() == {"detail": "Not enough permissions"}
        deleted = client.delete(f"/items/{item['id']}", headers=ann)
        assert deleted.json() == {"message": "Item deleted successfully"}


def test_tutorial007_hand_written_endpoints_beside_the_router(
    target: Target, database: Database
) -> None:
    app = tutorial007.create_app(database)
    ann = {"X-User": "1"}
    with tables(database, tutorial007.Memo), TestClient(app) as client:
        sneaky = [{"text": "a"}, {"text": "b", "owner_id": 2}]  # not the client's
        refused = client.post("/memos/import", json=sneaky, headers=ann)
        assert refused.status_code == 422
        assert refused.json()["detail"][0]["loc"] == ["body", 1, "owner_id"]
        rows = [{"text": "a"}, {"text": "b"}]
        imported = client.post("/memos/import", json=rows, headers=ann)
        assert imported.status_code == 200, imported.text
        assert [n["owner_id"] for n in imported.json()] == [1, 1]
        listed = client.get("/memos/", headers=ann).json()
        assert [n["text"] for n in listed] == ["a", "b"]
        # The router's Create schema is the one derive_schemas gave the sample.
        schema = app.openapi()["paths"]["/memos/"]["post"]["requestBody"]
        assert schema["content"]["application/json"]["schema"]["$ref"].endswith(
            "/MemoCreate"
        )
        # FastAPI's own per-route limit: refused before anything is parsed.
        big = [{"text": "x" * 150}] * 500  # about 80 KB
        too_large = client.post("/memos/import", json=big, headers=ann)
        assert too_large.status_code == 413
        assert len(client.get("/memos/", headers=ann).json()) == 2


def test_tutorial008_stamps(target: Target, database: Database) -> None:
    app = tutorial008.create_app(database, async_=target.async_)
    with tables(database, tutorial008.Task), TestClient(app) as client:
        task = client.post("/tasks/", json={"title": "a"}, headers={"X-User": "1"})
        assert task.json()["created_by"] == task.json()["updated_by"] == 1
        path = f"/tasks/{task.json()['id']}"
        changed = client.patch(path, json={"title": "b"}, headers={"X-User": "2"})
        assert (changed.json()["created_by"], changed.json()["updated_by"]) == (1, 2)
        sent = client.post(
            "/tasks/", json={"title": "c", "created_by": 9}, headers={"X-User": "1"}
        )
        assert sent.status_code == 422


def test_tutorial009_an_audit_log_in_the_writes_transaction(
    target: Target, database: Database
) -> None:
    app = tutorial009.create_app(database, async_=target.async_)
    with (
        tables(database, tutorial009.Invoice, tutorial009.AuditEntry),
        TestClient(app) as client,
    ):
        invoice = client.post("/invoices/", json={"customer": "ACME", "amount": 90})
        path = f"/invoices/{invoice.json()['id']}"
        client.patch(path, json={"amount": 95})
        client.post("/invoices/bulk", json=[{"customer": "B", "amount": 1}] * 2)
        client.delete(path)
        refused = client.post("/invoices/", json={"customer": "C", "amount": 20_000})
        assert refused.status_code == 422
        with database.engine.connect() as conn:
            log = conn.execute(
                sa.select(tutorial009.AuditEntry.__table__).order_by("id")  # type: ignore[attr-defined]
            ).all()
            customers = conn.execute(
                sa.select(tutorial009.Invoice.__table__.c.customer)  # type: ignore[attr-defined]
            ).scalars()
            assert sorted(customers) == ["B", "B"]  # C was rolled back with its hook
        assert [(e.action, e.table_name) for e in log] == [
            ("create", "invoices"),
            ("update", "invoices"),
            ("create", "invoices"),
            ("create", "invoices"),
            ("delete", "invoices"),
        ]
        assert json.loads(log[1].row)["amount"] == 95
        assert json.loads(log[4].row) == {"id": invoice.json()["id"]}
