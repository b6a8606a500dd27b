"""audit_head and append-only triggers: a deleted tail is detected, UPDATE/DELETE of audit rows refused

Revision ID: a7c2e9d41b06
Revises: a3b7c9d1e2f4
Create Date: 2026-11-27 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'a7c2e9d41b06'
down_revision = 'a3b7c9d1e2f4'
branch_labels = None
depends_on = None

GENESIS = "0" * 64
REFUSED = "审计记录只能追加 (audit trail is append-only)"

# Frozen here on purpose: a migration must not change when application code does.
POSTGRES_TRIGGERS = [
    f"""CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{REFUSED}: % on % refused', TG_OP, TG_TABLE_NAME;
    END $$""",
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
    "CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head "
    "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
    "CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
    "CREATE TRIGGER audit_head_no_rewind BEFORE UPDATE ON audit_head "
    "FOR EACH ROW WHEN (NEW.seq <= OLD.seq) EXECUTE FUNCTION audit_refuse_change()",
]
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    f"BEGIN SELECT RAISE(ABORT, '{REFUSED}: UPDATE on audit_log refused'); END",
    f"CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    f"BEGIN SELECT RAISE(ABORT, '{REFUSED}: DELETE on audit_log refused'); END",
    f"CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head "
    f"BEGIN SELECT RAISE(ABORT, '{REFUSED}: DELETE on audit_head refused'); END",
    f"CREATE TRIGGER audit_head_no_rewind BEFORE UPDATE ON audit_head WHEN NEW.seq <= OLD.seq "
    f"BEGIN SELECT RAISE(ABORT, '{REFUSED}: UPDATE on audit_head refused'); END",
]


def upgrade() -> None:
    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    op.execute("INSERT INTO audit_head (id, seq, hash) "
               "SELECT 1, seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
    op.execute(f"INSERT INTO audit_head (id, seq, hash) SELECT 1, 0, '{GENESIS}' "
               "WHERE NOT EXISTS (SELECT 1 FROM audit_head)")
    is_postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRES_TRIGGERS if is_postgres else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
        op.execute("DROP TRIGGER audit_log_no_truncate ON audit_log")
    else:
        op.execute("DROP TRIGGER audit_log_no_update")
        op.execute("DROP TRIGGER audit_log_no_delete")
    op.drop_table('audit_head')
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_refuse_change()")
