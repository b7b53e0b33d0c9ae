"""Storefront indexes for PostgreSQL; nothing on SQLite (the embedded default scans).

- pg_trgm, for typo-tolerant matching of titles (`strict_word_similarity`, the `%>>` operator).
- A GIN index on the full-text vector of search_text. Its expression is exactly the SQL Django
  writes for `SearchVector("search_text", config="english")` in catalog.selectors._search
  (to_tsvector with a regconfig and a COALESCE), or PostgreSQL would not use it.
- A GIN trigram index on the title.
- A B-tree on (published_at, id) newest first: category pages sort by it and stop after a page,
  instead of sorting every product of a large category (40 ms at 100,000 products, 1 ms with it;
  docs/benchmarks.md). The model's own (status, category, published_at) index cannot serve a
  category together with its subcategories.

The full-text index covers every product: PostgreSQL keeps word statistics only for the
expressions of whole-table indexes, and without them it guesses that any word matches 500 rows,
then sorts 30,000 matches of a common word where walking the newest-first index would stop after
a page. The others are partial (live products only): the storefront never looks at anything else.
Going back drops the indexes and keeps the extension, which other database objects may use.
"""

from django.db import migrations

POSTGRES_FORWARD = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS catalog_product_search_fts ON catalog_product
    USING gin (to_tsvector('english'::regconfig, COALESCE(search_text, ''::text)));
CREATE INDEX IF NOT EXISTS catalog_product_title_trgm ON catalog_product
    USING gin (title gin_trgm_ops)
    WHERE status = 'live';
CREATE INDEX IF NOT EXISTS catalog_product_live_newest ON catalog_product
    (published_at DESC, id DESC)
    WHERE status = 'live';
"""

POSTGRES_BACKWARD = """
DROP INDEX IF EXISTS catalog_product_live_newest;
DROP INDEX IF EXISTS catalog_product_title_trgm;
DROP INDEX IF EXISTS catalog_product_search_fts;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
