"""Slack OAuth stores

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

The tables of slack_sdk's SQLAlchemy installation store (slack_installations, slack_bots)
and OAuth state store (slack_oauth_states), built with slack_sdk's own table definitions so
Bolt's OAuth flow finds them as it expects.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = ("slack_installations", "slack_bots", "slack_oauth_states")


def _metadata() -> sa.MetaData:
    metadata = sa.MetaData()
    store = SQLAlchemyInstallationStore
    store.build_installations_table(metadata, store.default_installations_table_name)
    store.build_bots_table(metadata, store.default_bots_table_name)
    SQLAlchemyOAuthStateStore.build_oauth_states_table(
        metadata, SQLAlchemyOAuthStateStore.default_table_name
    )
    return metadata


def upgrade() -> None:
    _metadata().create_all(op.get_bind())


def downgrade() -> None:
    _metadata().drop_all(op.get_bind())
