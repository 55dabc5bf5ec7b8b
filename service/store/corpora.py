"""Corpora: a named, ordered set of documents (a country's laws, plans and codes)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, func, insert, select

from ..errors import UnknownDocuments
from ..model import DocumentCoverage
from .db import Database, now
from .records import CorpusMember, CorpusRecord, DocumentRecord
from .schema import corpora, corpus_documents, documents, results
from .widths import check_widths


class Corpora:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create_corpus(
        self, name: str, country: str | None, document_ids: Sequence[str], created_by: str | None
    ) -> CorpusRecord:
        """A new corpus of known documents (duplicates dropped); UnknownDocuments if any is not."""
        check_widths(corpora, [{"name": name, "country": country, "created_by": created_by}])
        ids = list(dict.fromkeys(document_ids))
        corpus_id = uuid.uuid4().hex
        with self.db.write() as c:
            known = set(
                c.execute(select(documents.c.id).where(documents.c.id.in_(ids))).scalars().all()
            )
            missing = [x for x in ids if x not in known]
            if missing:
                raise UnknownDocuments("no document with id " + ", ".join(missing))
            c.execute(
                insert(corpora).values(
                    id=corpus_id, name=name, country=country, created_at=now(),
                    created_by=created_by,
                )
            )  # fmt: skip
            if ids:
                c.execute(
                    insert(corpus_documents),
                    [{"corpus_id": corpus_id, "document_id": d, "position": i}
                     for i, d in enumerate(ids)],
                )  # fmt: skip
        corpus = self.get_corpus(corpus_id)
        assert corpus is not None
        return corpus

    def get_corpus(self, corpus_id: str) -> CorpusRecord | None:
        with self.db.read() as c:
            row = c.execute(select(corpora).where(corpora.c.id == corpus_id)).first()
            if row is None:
                return None
            ids = (
                c.execute(
                    select(corpus_documents.c.document_id)
                    .where(corpus_documents.c.corpus_id == corpus_id)
                    .order_by(corpus_documents.c.position)
                )
                .scalars()
                .all()
            )
        return CorpusRecord.model_validate({**row._mapping, "document_ids": ids})

    def list_corpora(self, *, limit: int, offset: int) -> tuple[list[CorpusRecord], int]:
        with self.db.read() as c:
            total = c.execute(select(func.count()).select_from(corpora)).scalar_one()
            ids = (
                c.execute(
                    select(corpora.c.id)
                    .order_by(corpora.c.created_at.desc(), corpora.c.id)
                    .limit(limit)
                    .offset(offset)
                )
                .scalars()
                .all()
            )
        out = [self.get_corpus(x) for x in ids]
        return [x for x in out if x is not None], int(total)

    def delete_corpus(self, corpus_id: str) -> bool:
        with self.db.write() as c:
            c.execute(delete(corpus_documents).where(corpus_documents.c.corpus_id == corpus_id))
            return c.execute(delete(corpora).where(corpora.c.id == corpus_id)).rowcount == 1

    def corpus_members(self, corpus_id: str) -> list[CorpusMember]:
        """Each document of a corpus, in order, with its coverage (None if it has none)."""
        with self.db.read() as c:
            rows = c.execute(
                select(documents, results.c.coverage)
                .join(corpus_documents, corpus_documents.c.document_id == documents.c.id)
                .outerjoin(results, results.c.document_id == documents.c.id)
                .where(corpus_documents.c.corpus_id == corpus_id)
                .order_by(corpus_documents.c.position)
            ).all()
        return [
            CorpusMember(
                document=DocumentRecord.model_validate(r._mapping),
                coverage=(
                    DocumentCoverage.model_validate_json(r.coverage)
                    if r.coverage is not None
                    else None
                ),
            )
            for r in rows
        ]
