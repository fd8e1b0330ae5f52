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
    # PostgreSQL: check once per statement over its new rows (a transition table) instead of once per row;
    # for tables written in bulk (an import COPYs thousands of examples). Rules that read OLD cannot.
    per_statement: bool = False


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
        per_statement=True,
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
    if rule.per_statement:
        return _postgresql_statement_sql(rule)
    function = f"labeling_rule_{rule.name}"
    return [
        _plpgsql_function(function, rule.violated_when, rule.message, "NEW"),
        f"DROP TRIGGER IF EXISTS {function} ON {rule.table}",
        f"CREATE TRIGGER {function} BEFORE {' OR '.join(rule.events)} ON {rule.table} "
        f"FOR EACH ROW EXECUTE FUNCTION {function}()",
    ]


def _plpgsql_function(function: str, refused_when: str, message: str, returns: str) -> str:
    return f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF {refused_when} THEN
            RAISE EXCEPTION '{message.replace("'", "''")}' USING ERRCODE = 'check_violation';
          END IF;
          RETURN {returns};
        END $$"""


def _postgresql_statement_sql(rule: Rule) -> list[str]:
    function = f"labeling_rule_{rule.name}"
    # NEW is a (null) PL/pgSQL variable in a statement trigger: the condition reads the new rows instead
    condition = rule.violated_when.replace("NEW.", "new_row.")
    refused_when = f"EXISTS (SELECT 1 FROM new_rows AS new_row WHERE {condition})"
    statements = [
        _plpgsql_function(function, refused_when, rule.message, "NULL"),
        f"DROP TRIGGER IF EXISTS {function} ON {rule.table}",  # the per-row trigger of earlier installs
    ]
    # A trigger with a transition table takes one event and no column list.
    for event in sorted({event.split()[0] for event in rule.events}):
        trigger = f"{function}_{event.lower()}"
        statements += [
            f"DROP TRIGGER IF EXISTS {trigger} ON {rule.table}",
            f"CREATE TRIGGER {trigger} AFTER {event} ON {rule.table} REFERENCING NEW TABLE AS new_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        ]
    return statements


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
