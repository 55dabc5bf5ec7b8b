"""The store's tables (SQLAlchemy Core, so the same statements run on SQLite and PostgreSQL).

This is the schema as the code reads it; the database gets it from the
migrations in ``migrations/versions``, and a test checks that the two agree.
"""

from __future__ import annotations

from typing import get_args

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from .records import JobState, Role

ROLES: tuple[Role, ...] = get_args(Role)
JOB_STATES: tuple[JobState, ...] = get_args(JobState)

metadata = MetaData()

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("name", String(200)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

documents = Table(
    "documents",
    metadata,
    Column("id", String(64), primary_key=True, comment="sha256 of the file"),
    Column("filename", String(255), nullable=False, comment="as uploaded; never a path"),
    Column("size", BigInteger, nullable=False),
    Column("format", String(16), nullable=False),
    Column("country", String(3)),
    Column("doc_type", String(40), comment="given at upload; else inferred by the job"),
    Column("title", String(300), comment="given at upload"),
    Column("status", String(16), nullable=False, comment="state of the latest job"),
    Column("job_id", String(32), comment="the latest job"),
    Column("doc_title", String(300), comment="title found in the document"),
    Column("inferred_doc_type", String(40), comment="when none was given"),
    Column("language", String(8)),
    Column("page_count", Integer),
    Column("passage_count", Integer),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(16)),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("document_id", String(64), ForeignKey("documents.id"), nullable=False, index=True),
    Column("state", String(16), nullable=False),
    Column("pages_done", Integer, nullable=False, default=0),
    Column("pages_total", Integer),
    Column("error_code", String(40)),
    Column("error", Text),
    Column("attempts", Integer, nullable=False, default=0),
    Column("worker", String(120)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_jobs_state_created", "state", "created_at"),
)

corpora = Table(
    "corpora",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("country", String(3)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(16)),
)

corpus_documents = Table(
    "corpus_documents",
    metadata,
    Column("corpus_id", String(32), ForeignKey("corpora.id"), primary_key=True),
    Column("document_id", String(64), ForeignKey("documents.id"), primary_key=True),
    Column("position", Integer, nullable=False),
)

results = Table(
    "results",
    metadata,
    Column("document_id", String(64), ForeignKey("documents.id"), primary_key=True),
    Column("model", String(200), nullable=False),
    Column("passages", Text, nullable=False, comment="JSON: [{passage, prediction}]"),
    Column("coverage", Text, nullable=False, comment="JSON: DocumentCoverage"),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# --- annotation: passages to read, the model's suggestions, decisions, adjudications ---
# Append-only: rows are added, never updated or deleted. Label sets are JSON lists of ids.

annotation_passages = Table(
    "annotation_passages",
    metadata,
    Column("id", String(120), primary_key=True, comment="the passage id tipscan extract gives"),
    Column("doc_id", String(64), nullable=False, comment="sha256 of the document's bytes"),
    Column("doc", String(255), nullable=False, comment="corpus manifest id or file name"),
    Column("doc_title", String(300), nullable=False),
    Column("doc_type", String(40), nullable=False),
    Column("language", String(8)),
    Column("page", Integer, nullable=False),
    Column("citation", String(300), nullable=False),
    Column("heading", Text, nullable=False, comment="JSON: the heading path"),
    Column("text", Text, nullable=False),
    Column("position", Integer, nullable=False, comment="order in the document"),
    Column("country", String(8)),
    Column("source", String(500), comment="corpus path or file name of the document"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_annotation_passages_doc", "doc_id", "position"),
)

suggestions = Table(
    "suggestions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("passage_id", String(120), ForeignKey("annotation_passages.id"), nullable=False),
    Column("label", String(8), nullable=False),
    Column("score", Float, nullable=False),
    Column("model", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_suggestions_passage_model", "passage_id", "model"),
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("passage_id", String(120), ForeignKey("annotation_passages.id"), nullable=False),
    Column("labels", Text, nullable=False, comment="JSON: label ids"),
    Column("mentions_trafficking", Boolean, nullable=False),
    Column("mentions_corruption", Boolean, nullable=False),
    Column("annotator", String(120), nullable=False, comment="API key id or recorded reader id"),
    Column("shown_suggestions", Boolean, nullable=False),
    Column("queue", String(40), nullable=False),
    Column("source", String(16), nullable=False, comment="manual or import"),
    Column("note", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_decisions_passage", "passage_id"),
    Index("ix_decisions_annotator", "annotator"),
)

adjudications = Table(
    "adjudications",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("passage_id", String(120), ForeignKey("annotation_passages.id"), nullable=False),
    Column("labels", Text, nullable=False, comment="JSON: label ids"),
    Column("mentions_trafficking", Boolean, nullable=False),
    Column("mentions_corruption", Boolean, nullable=False),
    Column("annotator", String(120), nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_adjudications_passage", "passage_id"),
)
