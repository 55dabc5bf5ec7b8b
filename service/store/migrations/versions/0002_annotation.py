"""Annotation: passages to read, the model's suggestions, decisions and adjudications.

Revision ID: 0002
Revises: 0001

A table that already exists is left as it is: a store whose schema was made
with ``metadata.create_all`` before it had migrations holds these tables too,
and is stamped at 0001 before this revision runs.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = ("annotation_passages", "suggestions", "decisions", "adjudications")


def _when(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def _passage_fk() -> sa.Column:
    return sa.Column(
        "passage_id", sa.String(120), sa.ForeignKey("annotation_passages.id"), nullable=False
    )


def _labels() -> list[sa.Column]:
    return [
        sa.Column("labels", sa.Text, nullable=False, comment="JSON: label ids"),
        sa.Column("mentions_trafficking", sa.Boolean, nullable=False),
        sa.Column("mentions_corruption", sa.Boolean, nullable=False),
    ]


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "annotation_passages" not in existing:
        op.create_table(
            "annotation_passages",
            sa.Column(
                "id",
                sa.String(120),
                primary_key=True,
                comment="the passage id tipscan extract gives",
            ),
            sa.Column(
                "doc_id", sa.String(64), nullable=False, comment="sha256 of the document's bytes"
            ),
            sa.Column(
                "doc", sa.String(255), nullable=False, comment="corpus manifest id or file name"
            ),
            sa.Column("doc_title", sa.String(300), nullable=False),
            sa.Column("doc_type", sa.String(40), nullable=False),
            sa.Column("language", sa.String(8)),
            sa.Column("page", sa.Integer, nullable=False),
            sa.Column("citation", sa.String(300), nullable=False),
            sa.Column("heading", sa.Text, nullable=False, comment="JSON: the heading path"),
            sa.Column("text", sa.Text, nullable=False),
            sa.Column("position", sa.Integer, nullable=False, comment="order in the document"),
            sa.Column("country", sa.String(3)),
            sa.Column("source", sa.String(500), comment="corpus path or file name of the document"),
            _when("created_at"),
        )
        op.create_index("ix_annotation_passages_doc", "annotation_passages", ["doc_id", "position"])
    if "suggestions" not in existing:
        op.create_table(
            "suggestions",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            _passage_fk(),
            sa.Column("label", sa.String(8), nullable=False),
            sa.Column("score", sa.Float, nullable=False),
            sa.Column("model", sa.String(200), nullable=False),
            _when("created_at"),
        )
        op.create_index("ix_suggestions_passage_model", "suggestions", ["passage_id", "model"])
    if "decisions" not in existing:
        op.create_table(
            "decisions",
            sa.Column("id", sa.String(32), primary_key=True),
            _passage_fk(),
            *_labels(),
            sa.Column(
                "annotator",
                sa.String(120),
                nullable=False,
                comment="API key id or recorded reader id",
            ),
            sa.Column("shown_suggestions", sa.Boolean, nullable=False),
            sa.Column("queue", sa.String(40), nullable=False),
            sa.Column("source", sa.String(16), nullable=False, comment="manual or import"),
            sa.Column("note", sa.Text, nullable=False),
            _when("at"),
        )
        op.create_index("ix_decisions_passage", "decisions", ["passage_id"])
        op.create_index("ix_decisions_annotator", "decisions", ["annotator"])
    if "adjudications" not in existing:
        op.create_table(
            "adjudications",
            sa.Column("id", sa.String(32), primary_key=True),
            _passage_fk(),
            *_labels(),
            sa.Column("annotator", sa.String(120), nullable=False),
            sa.Column("reason", sa.Text, nullable=False),
            _when("at"),
        )
        op.create_index("ix_adjudications_passage", "adjudications", ["passage_id"])


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
