"""Change capture: database triggers that write the outbox (IndexEvent) and raise each document's version
(DocVersion) in the same transaction as the change.

Triggers catch every path that writes the labeling and catalog tables without those apps knowing about
indexing: the ORM, COPY imports, the set-based UPDATEs of rollbacks, merges and catalog builds, raw SQL.
On PostgreSQL they are statement triggers over transition tables (an import of 100k examples costs one
INSERT ... SELECT per table); on SQLite, row triggers. They stay idle (one EXISTS) until an index has been
created (`search_index create`), so a site without a search engine pays nothing and keeps no outbox.
Installed after every `migrate` (SQLite table rebuilds drop triggers), like labeling/integrity.py's rules.
"""

# PostgreSQL: (logical index, table, event, transition tables, SELECT of the changed document ids from them)
_CATEGORY_CHANGED = (
    "SELECT e.content_id FROM labeling_example e WHERE e.category_id IN ("
    " SELECT c.id FROM labeling_category c WHERE c.id IN (SELECT id FROM changed) OR c.parent_id IN"
    " (SELECT id FROM changed))"
)
_OLD_NEW = "OLD TABLE AS old_rows NEW TABLE AS new_rows"


def _changed(*columns: str) -> str:
    """The ids of updated rows in which one of these columns changed (a CTE named `changed`)."""
    differs = " OR ".join(f"n.{c} IS DISTINCT FROM o.{c}" for c in columns)
    return f"WITH changed AS (SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE {differs}) "


_CATALOGS_OF_OFFERS = (
    "SELECT m.catalog_id FROM catalog_catalogmembership m WHERE m.offer_id IN (SELECT id FROM changed)"
)
_PG_TRIGGERS = (
    ("contents", "labeling_content", "INSERT", "NEW TABLE AS new_rows", "SELECT id FROM new_rows"),
    ("contents", "labeling_content", "UPDATE", "NEW TABLE AS new_rows", "SELECT id FROM new_rows"),
    ("contents", "labeling_content", "DELETE", "OLD TABLE AS old_rows", "SELECT id FROM old_rows"),
    ("contents", "labeling_example", "INSERT", "NEW TABLE AS new_rows", "SELECT content_id FROM new_rows"),
    (
        "contents",
        "labeling_example",
        "UPDATE",
        _OLD_NEW,
        "SELECT content_id FROM new_rows UNION SELECT content_id FROM old_rows",
    ),
    ("contents", "labeling_example", "DELETE", "OLD TABLE AS old_rows", "SELECT content_id FROM old_rows"),
    ("contents", "labeling_category", "UPDATE", _OLD_NEW, _changed("name", "parent_id") + _CATEGORY_CHANGED),
    # catalogs: the catalog row (the build's set-based UPDATEs too), its memberships (moves, splits,
    # merges, the build's inserts), its offers' indexed fields, and their shops' names
    (
        "catalogs",
        "catalog_catalog",
        "UPDATE",
        _OLD_NEW,
        _changed("title", "category_id", "status", "quality_score", "updated_at") + "SELECT id FROM changed",
    ),
    ("catalogs", "catalog_catalog", "DELETE", "OLD TABLE AS old_rows", "SELECT id FROM old_rows"),
    (
        "catalogs",
        "catalog_catalogmembership",
        "INSERT",
        "NEW TABLE AS new_rows",
        "SELECT catalog_id FROM new_rows",
    ),
    (
        "catalogs",
        "catalog_catalogmembership",
        "UPDATE",
        _OLD_NEW,
        "SELECT catalog_id FROM new_rows UNION SELECT catalog_id FROM old_rows",
    ),
    (
        "catalogs",
        "catalog_catalogmembership",
        "DELETE",
        "OLD TABLE AS old_rows",
        "SELECT catalog_id FROM old_rows",
    ),
    (
        "catalogs",
        "catalog_offer",
        "UPDATE",
        _OLD_NEW,
        _changed("title", "price", "brand", "shop_id") + _CATALOGS_OF_OFFERS,
    ),
    (
        "catalogs",
        "catalog_shop",
        "UPDATE",
        _OLD_NEW,
        _changed("name")
        + "SELECT m.catalog_id FROM catalog_catalogmembership m JOIN catalog_offer o ON o.id = m.offer_id"
        " WHERE o.shop_id IN (SELECT id FROM changed)",
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


def _trigger_name(table: str, event: str) -> str:
    return f"indexing_capture_{table.removeprefix('labeling_')}_{event.lower()}"


def _pg_sql(tables: set[str]) -> list[str]:
    statements = [_PG_CAPTURE]
    triggers = [trigger for trigger in _PG_TRIGGERS if trigger[1] in tables]
    for target, table, event, transitions, changed_ids in triggers:
        name = _trigger_name(table, event)
        statements += [
            f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              PERFORM indexing_capture('{target}',
                ARRAY(SELECT DISTINCT x.id FROM ({changed_ids}) AS x(id)));
              RETURN NULL;
            END $$""",
            f"DROP TRIGGER IF EXISTS {name} ON {table}",
            f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {transitions} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
        ]
    return statements


# SQLite: (logical index, table, event, SELECT of the changed document ids from NEW / OLD)
_SQLITE_TRIGGERS = (
    ("contents", "labeling_content", "INSERT", "SELECT NEW.id AS id"),
    ("contents", "labeling_content", "UPDATE", "SELECT NEW.id AS id"),
    ("contents", "labeling_content", "DELETE", "SELECT OLD.id AS id"),
    ("contents", "labeling_example", "INSERT", "SELECT NEW.content_id AS id"),
    ("contents", "labeling_example", "UPDATE", "SELECT NEW.content_id AS id UNION SELECT OLD.content_id"),
    ("contents", "labeling_example", "DELETE", "SELECT OLD.content_id AS id"),
    (
        "contents",
        "labeling_category",
        "UPDATE",
        "SELECT e.content_id AS id FROM labeling_example e JOIN labeling_category c ON c.id = e.category_id "
        "WHERE (c.id = NEW.id OR c.parent_id = NEW.id) AND (NEW.name IS NOT OLD.name "
        "OR NEW.parent_id IS NOT OLD.parent_id)",
    ),
    (
        "catalogs",
        "catalog_catalog",
        "UPDATE",
        "SELECT NEW.id AS id WHERE NEW.title IS NOT OLD.title OR NEW.category_id IS NOT OLD.category_id "
        "OR NEW.status IS NOT OLD.status OR NEW.quality_score IS NOT OLD.quality_score "
        "OR NEW.updated_at IS NOT OLD.updated_at",
    ),
    ("catalogs", "catalog_catalog", "DELETE", "SELECT OLD.id AS id"),
    ("catalogs", "catalog_catalogmembership", "INSERT", "SELECT NEW.catalog_id AS id"),
    (
        "catalogs",
        "catalog_catalogmembership",
        "UPDATE",
        "SELECT NEW.catalog_id AS id UNION SELECT OLD.catalog_id",
    ),
    ("catalogs", "catalog_catalogmembership", "DELETE", "SELECT OLD.catalog_id AS id"),
    (
        "catalogs",
        "catalog_offer",
        "UPDATE",
        "SELECT m.catalog_id AS id FROM catalog_catalogmembership m WHERE m.offer_id = NEW.id "
        "AND (NEW.title IS NOT OLD.title OR NEW.price IS NOT OLD.price OR NEW.brand IS NOT OLD.brand "
        "OR NEW.shop_id IS NOT OLD.shop_id)",
    ),
    (
        "catalogs",
        "catalog_shop",
        "UPDATE",
        "SELECT m.catalog_id AS id FROM catalog_catalogmembership m "
        "JOIN catalog_offer o ON o.id = m.offer_id WHERE o.shop_id = NEW.id AND NEW.name IS NOT OLD.name",
    ),
)


def _sqlite_sql(tables: set[str]) -> list[str]:
    statements = []
    for target, table, event, changed_ids in _SQLITE_TRIGGERS:
        if table not in tables:
            continue
        name = _trigger_name(table, event)
        statements += [
            f"DROP TRIGGER IF EXISTS {name}",
            f"""CREATE TRIGGER {name} AFTER {event} ON {table}
            WHEN EXISTS (SELECT 1 FROM indexing_indexstate WHERE name = '{target}')
            BEGIN
              INSERT INTO indexing_indexevent (target, doc_id, created_at)
                SELECT DISTINCT '{target}', x.id, CURRENT_TIMESTAMP FROM ({changed_ids}) AS x;
              INSERT INTO indexing_docversion (target, doc_id, version, changed_at)
                SELECT DISTINCT '{target}', x.id, 1, CURRENT_TIMESTAMP
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
    tables = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for statement in build(tables):
            cursor.execute(statement)


def ensure_after_migrate(sender, using, **kwargs) -> None:
    from django.db import connections

    connection = connections[using]
    if "indexing_indexstate" in connection.introspection.table_names():
        install(connection)
