"""The initial schema: API keys, documents, jobs, corpora and results.

Revision ID: 0001
Revises:

Exactly what the store created with ``metadata.create_all`` before it had
migrations, so a database made that way is stamped at this revision as is.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200)),
        _when("created_at", nullable=False),
        _when("revoked_at"),
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.String(64), primary_key=True, comment="sha256 of the file"),
        sa.Column("filename", sa.String(255), nullable=False, comment="as uploaded; never a path"),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("country", sa.String(3)),
        sa.Column("doc_type", sa.String(40), comment="given at upload; else inferred by the job"),
        sa.Column("title", sa.String(300), comment="given at upload"),
        sa.Column("status", sa.String(16), nullable=False, comment="state of the latest job"),
        sa.Column("job_id", sa.String(32), comment="the latest job"),
        sa.Column("doc_title", sa.String(300), comment="title found in the document"),
        sa.Column("inferred_doc_type", sa.String(40), comment="when none was given"),
        sa.Column("language", sa.String(8)),
        sa.Column("page_count", sa.Integer),
        sa.Column("passage_count", sa.Integer),
        _when("created_at", nullable=False),
        sa.Column("created_by", sa.String(16)),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("document_id", sa.String(64), sa.ForeignKey("documents.id"), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("pages_done", sa.Integer, nullable=False),
        sa.Column("pages_total", sa.Integer),
        sa.Column("error_code", sa.String(40)),
        sa.Column("error", sa.Text),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("worker", sa.String(120)),
        _when("created_at", nullable=False),
        _when("started_at"),
        _when("finished_at"),
        _when("updated_at", nullable=False),
    )
    op.create_index("ix_jobs_document_id", "jobs", ["document_id"])
    op.create_index("ix_jobs_state_created", "jobs", ["state", "created_at"])
    op.create_table(
        "corpora",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("country", sa.String(3)),
        _when("created_at", nullable=False),
        sa.Column("created_by", sa.String(16)),
    )
    op.create_table(
        "corpus_documents",
        sa.Column("corpus_id", sa.String(32), sa.ForeignKey("corpora.id"), primary_key=True),
        sa.Column("document_id", sa.String(64), sa.ForeignKey("documents.id"), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
    )
    op.create_table(
        "results",
        sa.Column("document_id", sa.String(64), sa.ForeignKey("documents.id"), primary_key=True),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("passages", sa.Text, nullable=False, comment="JSON: [{passage, prediction}]"),
        sa.Column("coverage", sa.Text, nullable=False, comment="JSON: DocumentCoverage"),
        _when("created_at", nullable=False),
    )


def downgrade() -> None:
    for table in ("results", "corpus_documents", "corpora", "jobs", "documents", "api_keys"):
        op.drop_table(table)
