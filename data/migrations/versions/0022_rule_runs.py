"""Ledger rows per rule run, and the alert items they carry

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07

A day's deadline alerts for 10,000 reminder rules wrote a ledger row per (rule, goal,
lead): 400,000 rows, seconds of writing. A rule run (docs/ledger-unit.md) is one row per
rule and plan interval; its alerts are worked out once before its first post into
`alert_items`. Additive: existing per-alert rows stay valid rows (the first plan of a rule
and changed goals still write them), so nothing pending is moved or lost.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("covers_after", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("covers_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("revision_floor", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("plan_query", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("plan_leads", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("plan_zone", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("plan_minute", sa.Integer(), nullable=True))
    op.create_table(
        "alert_items",
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("edge", sa.String(length=10), nullable=False),
        sa.Column("edge_on", sa.Date(), nullable=False),
        sa.Column("lead", sa.Integer(), nullable=True),
        sa.Column("shown", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_alert_items_delivery_id_deliveries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["goal_id"], ["goals.id"], name=op.f("fk_alert_items_goal_id_goals"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("delivery_id", "goal_id", "edge", name=op.f("pk_alert_items")),
    )
    op.create_index(op.f("ix_alert_items_goal_id"), "alert_items", ["goal_id"], unique=False)
    _reminder_index(["reminder_id", "created_at"])


def _reminder_index(columns: list[str]) -> None:
    # Preparing a run reads the runs of its channel's rules of the last days: by rule, then
    # by time, not every run the rules ever had.
    op.drop_index("ix_deliveries_reminder_id", table_name="deliveries")
    where = sa.text("reminder_id IS NOT NULL")
    op.create_index(
        "ix_deliveries_reminder_id",
        "deliveries",
        columns,
        sqlite_where=where,
        postgresql_where=where,
    )


def downgrade() -> None:
    # A sent run's alerts become the sent per-alert rows they stand for (so that nothing is
    # alerted again); a run not yet sent cannot be expressed at 0021: refuse rather than lose it.
    connection = op.get_bind()
    open_runs = connection.execute(
        sa.text(
            "SELECT count(*) FROM deliveries WHERE covers_after IS NOT NULL "
            "AND status IN ('pending', 'claimed')"
        )
    ).scalar_one()
    if open_runs:
        raise RuntimeError(
            f"{open_runs} rule runs are not sent yet: let the scheduler post them, then downgrade"
        )
    runs = connection.execute(
        sa.text(
            "SELECT d.id, d.kind, d.team_id, d.channel_id, d.reminder_id, d.status, d.created_at,"
            " d.sent_at, d.message_ts, i.goal_id, g.brief_id, i.edge, i.edge_on, i.lead"
            " FROM deliveries d JOIN alert_items i ON i.delivery_id = d.id"
            " JOIN goals g ON g.id = i.goal_id WHERE d.covers_after IS NOT NULL AND i.shown"
        )
    ).all()
    rows = []
    for (
        _run,
        kind,
        team,
        channel,
        rule,
        status,
        created,
        sent,
        ts,
        goal,
        brief,
        edge,
        edge_on,
        lead,
    ) in runs:
        day = str(edge_on)[:10]
        key = (
            f"followup:{team}:{channel}:{goal}:{day}"
            if kind == "followup"
            else f"remind:{team}:{channel}:{goal}:{edge}:{day}:{lead}"
        )
        rows.append(
            {
                "k": key,
                "kind": kind,
                "team": team,
                "channel": channel,
                "rule": rule,
                "goal": goal,
                "brief": brief,
                "lead": lead if kind != "followup" else None,
                "edge": edge if kind != "followup" else None,
                "status": status,
                "created": created,
                "sent": sent,
                "ts": ts,
            }
        )
    if rows:
        connection.execute(
            sa.text(
                "INSERT INTO deliveries (dedupe_key, kind, team_id, channel_id, reminder_id,"
                " goal_id, brief_id, lead_days, edge, status, created_at, next_attempt_at,"
                " attempts, sent_at, message_ts) VALUES (:k, :kind, :team, :channel, :rule,"
                " :goal, :brief, :lead, :edge, :status, :created, :created, 1, :sent, :ts)"
            ),
            rows,
        )
    connection.execute(sa.text("DELETE FROM deliveries WHERE covers_after IS NOT NULL"))
    _reminder_index(["reminder_id"])
    op.drop_index(op.f("ix_alert_items_goal_id"), table_name="alert_items")
    op.drop_table("alert_items")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("plan_minute")
        batch_op.drop_column("plan_zone")
        batch_op.drop_column("plan_leads")
        batch_op.drop_column("plan_query")
        batch_op.drop_column("revision_floor")
        batch_op.drop_column("covers_until")
        batch_op.drop_column("covers_after")
