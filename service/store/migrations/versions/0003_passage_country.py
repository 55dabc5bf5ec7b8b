"""A passage's country is as wide as the corpus manifests' codes: ``INTL`` for treaties.

Revision ID: 0003
Revises: 0002

Revision 0002 made ``annotation_passages.country`` 3 characters wide. SQLite
never held it to that; PostgreSQL refused the passages of international
instruments (``INTL`` in the manifest), so loading the annotation store failed
there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("annotation_passages") as batch:
        batch.alter_column("country", existing_type=sa.String(3), type_=sa.String(8))


def downgrade() -> None:
    # The narrower column cannot hold the longer codes: those passages lose their country.
    table = sa.table("annotation_passages", sa.column("country", sa.String))
    op.execute(table.update().where(sa.func.length(table.c.country) > 3).values(country=None))
    with op.batch_alter_table("annotation_passages") as batch:
        batch.alter_column("country", existing_type=sa.String(8), type_=sa.String(3))
