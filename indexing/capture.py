"""Change capture: database triggers that write the outbox (IndexEvent) and raise each document's version
(DocVersion) in the same transaction as the change.

Triggers catch every path that writes the labeling tables without labeling knowing about indexing: the ORM,
COPY imports, the set-based UPDATEs of rollbacks and merges, raw SQL. On PostgreSQL they are statement
triggers over transition tables (an import of 100k examples costs one INSERT ... SELECT per table); on SQLite,
row triggers. They stay idle (one EXISTS) until an index has been created (`search_index create`), so a site
without a search engine pays nothing and keeps no outbox. Installed after every `migrate` (SQLite table
rebuilds drop triggers), like labeling/integrity.py's rules.
"""

CONTENTS = "contents"

# PostgreSQL: (table, event, transition tables, SELECT of the changed content ids from them)
_CATEGORY_CHANGED = (
    "SELECT e.content_id FROM labeling_example e WHERE e.category_id IN ("
    " SELECT c.id FROM labeling_category c WHERE c.id IN (SELECT id FROM changed) OR c.parent_id IN"
    " (SELECT id FROM changed))"
)
_PG_TRIGGERS = (
    ("labeling_content", "INSERT", "NEW TABLE AS new_rows", "SELECT id FROM new_rows"),
    ("labeling_content", "UPDATE", "NEW TABLE AS new_rows", "SELECT id FROM new_rows"),
    ("labeling_content", "DELETE", "OLD TABLE AS old_rows", "SELECT id FROM old_rows"),
    ("labeling_example", "INSERT", "NEW TABLE AS new_rows", "SELECT content_id FROM new_rows"),
    (
        "labeling_example",
        "UPDATE",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "SELECT content_id FROM new_rows UNION SELECT content_id FROM old_rows",
    ),
    ("labeling_example", "DELETE", "OLD TABLE AS old_rows", "SELECT content_id FROM old_rows"),
    (
        "labeling_category",
        "UPDATE",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "WITH changed AS (SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id"
        " WHERE n.name IS DISTINCT FROM o.name OR n.parent_id IS DISTINCT FROM o.parent_id) "
        + _CATEGORY_CHANGED,
    ),
)

_PG_CAPTURE = """CREATE OR REPLACE FUNCTION indexing_capture(doc_target text, ids bigint[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF ids IS NULL OR NOT EXISTS (SELECT 1 FROM indexing_indexstate WHERE name = doc_target) THEN
    RETURN;
  END IF;
  INSERT INTO indexing_indexevent (target, doc_id) SELECT doc_target, i FROM unnest(ids) AS i;
  -- in id order, so two transactions raising the same versions never deadlock
  INSERT INTO indexing_docversion (target, doc_id) SELECT doc_target, i FROM unnest(ids) AS i ORDER BY i
  ON CONFLICT (target, doc_id)
  DO UPDATE SET version = indexing_docversion.version + 1, changed_at = clock_timestamp();
END $$"""


def _pg_sql() -> list[str]:
    statements = [_PG_CAPTURE]
    for table, event, transitions, changed_ids in _PG_TRIGGERS:
        name = f"indexing_capture_{table.removeprefix('labeling_')}_{event.lower()}"
        statements += [
            f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              PERFORM indexing_capture('{CONTENTS}',
                ARRAY(SELECT DISTINCT x.id FROM ({changed_ids}) AS x(id)));
              RETURN NULL;
            END $$""",
            f"DROP TRIGGER IF EXISTS {name} ON {table}",
            f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {transitions} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
        ]
    return statements


# SQLite: (table, event, condition, SELECT of the changed content ids from NEW / OLD)
_SQLITE_TRIGGERS = (
    ("labeling_content", "INSERT", "SELECT NEW.id AS id"),
    ("labeling_content", "UPDATE", "SELECT NEW.id AS id"),
    ("labeling_content", "DELETE", "SELECT OLD.id AS id"),
    ("labeling_example", "INSERT", "SELECT NEW.content_id AS id"),
    ("labeling_example", "UPDATE", "SELECT NEW.content_id AS id UNION SELECT OLD.content_id"),
    ("labeling_example", "DELETE", "SELECT OLD.content_id AS id"),
    (
        "labeling_category",
        "UPDATE",
        "SELECT e.content_id AS id FROM labeling_example e JOIN labeling_category c ON c.id = e.category_id "
        "WHERE (c.id = NEW.id OR c.parent_id = NEW.id) AND (NEW.name IS NOT OLD.name "
        "OR NEW.parent_id IS NOT OLD.parent_id)",
    ),
)


def _sqlite_sql() -> list[str]:
    statements = []
    for table, event, changed_ids in _SQLITE_TRIGGERS:
        name = f"indexing_capture_{table.removeprefix('labeling_')}_{event.lower()}"
        statements += [
            f"DROP TRIGGER IF EXISTS {name}",
            f"""CREATE TRIGGER {name} AFTER {event} ON {table}
            WHEN EXISTS (SELECT 1 FROM indexing_indexstate WHERE name = '{CONTENTS}')
            BEGIN
              INSERT INTO indexing_indexevent (target, doc_id, created_at)
                SELECT DISTINCT '{CONTENTS}', x.id, CURRENT_TIMESTAMP FROM ({changed_ids}) AS x;
              INSERT INTO indexing_docversion (target, doc_id, version, changed_at)
                SELECT DISTINCT '{CONTENTS}', x.id, 1, CURRENT_TIMESTAMP
                FROM ({changed_ids}) AS x WHERE true
                ON CONFLICT (target, doc_id)
                DO UPDATE SET version = version + 1, changed_at = CURRENT_TIMESTAMP;
            END""",
        ]
    return statements


def install(connection) -> None:
    """Create or replace the capture triggers on this connection's database."""
    build = {"postgresql": _pg_sql, "sqlite": _sqlite_sql}.get(connection.vendor)
    if build is None:
        raise RuntimeError(f"bunryu supports PostgreSQL and SQLite, not {connection.vendor}")
    with connection.cursor() as cursor:
        for statement in build():
            cursor.execute(statement)


def ensure_after_migrate(sender, using, **kwargs) -> None:
    from django.db import connections

    connection = connections[using]
    tables = connection.introspection.table_names()
    if "indexing_indexstate" in tables and "labeling_example" in tables:
        install(connection)
