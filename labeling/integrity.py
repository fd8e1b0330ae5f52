"""Database rules that span rows or tables, enforced by triggers on PostgreSQL and SQLite.

Django cannot declare these (a CHECK constraint sees one row only), so each rule is one SQL condition
over NEW/OLD that both databases understand; the trigger refuses the write when it holds. They are
(re)installed after every `migrate`, because SQLite table rebuilds during migrations drop triggers.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    name: str
    table: str
    events: tuple[str, ...]
    violated_when: str
    message: str


RULES = (
    Rule(
        "small_category_parent",
        "labeling_category",
        ("INSERT", "UPDATE OF parent_id, taxonomy_id"),
        "NEW.parent_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM labeling_category p "
        "WHERE p.id = NEW.parent_id AND p.level = 1 AND p.taxonomy_id = NEW.taxonomy_id)",
        "a small category's parent must be a large category of the same taxonomy",
    ),
    Rule(
        "category_keeps_taxonomy",
        "labeling_category",
        ("UPDATE OF taxonomy_id",),
        "NEW.taxonomy_id <> OLD.taxonomy_id",
        "a category cannot move to another taxonomy",
    ),
    Rule(
        "parent_stays_large",
        "labeling_category",
        ("UPDATE OF level",),
        "NEW.level <> 1 AND EXISTS (SELECT 1 FROM labeling_category c WHERE c.parent_id = NEW.id)",
        "a category with small categories under it must stay a large category",
    ),
    Rule(
        "labelled_category_stays_small",
        "labeling_category",
        ("UPDATE OF level",),
        "NEW.level <> 2 AND EXISTS (SELECT 1 FROM labeling_example e WHERE e.category_id = NEW.id)",
        "a category that labels examples must stay a small category",
    ),
    Rule(
        "merged_into_same_kind",
        "labeling_category",
        ("INSERT", "UPDATE OF merged_into_id"),
        "NEW.merged_into_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM labeling_category m "
        "WHERE m.id = NEW.merged_into_id AND m.id <> NEW.id AND m.level = NEW.level "
        "AND m.taxonomy_id = NEW.taxonomy_id)",
        "a category can only be merged into another category of the same taxonomy and level",
    ),
    Rule(
        "example_category_in_taxonomy",
        "labeling_example",
        ("INSERT", "UPDATE OF category_id, dataset_id"),
        "NOT EXISTS (SELECT 1 FROM labeling_category c JOIN labeling_dataset d "
        "ON d.taxonomy_id = c.taxonomy_id "
        "WHERE c.id = NEW.category_id AND d.id = NEW.dataset_id AND c.level = 2)",
        "an example's category must be a small category of its dataset's taxonomy",
    ),
    Rule(
        "dataset_keeps_taxonomy",
        "labeling_dataset",
        ("UPDATE OF taxonomy_id",),
        "NEW.taxonomy_id <> OLD.taxonomy_id AND EXISTS "
        "(SELECT 1 FROM labeling_example e WHERE e.dataset_id = NEW.id)",
        "a dataset with examples cannot change its taxonomy",
    ),
)


def _postgresql_sql(rule: Rule) -> list[str]:
    function = f"labeling_rule_{rule.name}"
    message = rule.message.replace("'", "''")
    return [
        f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF {rule.violated_when} THEN
            RAISE EXCEPTION '{message}' USING ERRCODE = 'check_violation';
          END IF;
          RETURN NEW;
        END $$""",
        f"DROP TRIGGER IF EXISTS {function} ON {rule.table}",
        f"CREATE TRIGGER {function} BEFORE {' OR '.join(rule.events)} ON {rule.table} "
        f"FOR EACH ROW EXECUTE FUNCTION {function}()",
    ]


def _sqlite_sql(rule: Rule) -> list[str]:
    message = rule.message.replace("'", "''")
    statements = []
    for number, event in enumerate(rule.events):
        trigger = f"labeling_rule_{rule.name}_{number}"
        statements += [
            f"DROP TRIGGER IF EXISTS {trigger}",
            f"CREATE TRIGGER {trigger} BEFORE {event} ON {rule.table} "
            f"WHEN {rule.violated_when} BEGIN SELECT RAISE(ABORT, '{message}'); END",
        ]
    return statements


def install(connection) -> None:
    """Create or replace every rule's trigger on this connection's database."""
    build = {"postgresql": _postgresql_sql, "sqlite": _sqlite_sql}.get(connection.vendor)
    if build is None:
        raise RuntimeError(f"bunryu supports PostgreSQL and SQLite, not {connection.vendor}")
    with connection.cursor() as cursor:
        for rule in RULES:
            for statement in build(rule):
                cursor.execute(statement)


def ensure_after_migrate(sender, using, **kwargs) -> None:
    from django.db import connections

    connection = connections[using]
    if "labeling_example" in connection.introspection.table_names():
        install(connection)
